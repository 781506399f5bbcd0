from django.urls import include, path

from .views import ObtainTokenView, UnitListView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("units/", UnitListView.as_view(), name="api-units"),
    path("", include("procedures.api.urls")),
]
