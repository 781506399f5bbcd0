from django.urls import include, path

from dossiers.api.public import PublicLookupView

from .views import ObtainTokenView, UnitListView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("units/", UnitListView.as_view(), name="api-units"),
    path("public/lookup/", PublicLookupView.as_view(), name="api-public-lookup"),
    path("", include("procedures.api.urls")),
    path("", include("dossiers.api.urls")),
    path("", include("reports.api.urls")),
]
