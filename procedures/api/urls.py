from django.urls import path

from .views import ProcedureDeadlineView, ProcedureDetailView, ProcedureListView

urlpatterns = [
    path("procedures/", ProcedureListView.as_view(), name="api-procedures"),
    path("procedures/<str:code>/", ProcedureDetailView.as_view(), name="api-procedure"),
    path(
        "procedures/<str:code>/deadline/",
        ProcedureDeadlineView.as_view(),
        name="api-procedure-deadline",
    ),
]
