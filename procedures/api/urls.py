from django.urls import path

from .views import ProcedureDeadlineView, ProcedureDetailView, ProcedureListView

urlpatterns = [
    path("procedures/", ProcedureListView.as_view(), name="api-procedures"),
    path("procedures/<code:code>/", ProcedureDetailView.as_view(), name="api-procedure"),
    path(
        "procedures/<code:code>/deadline/",
        ProcedureDeadlineView.as_view(),
        name="api-procedure-deadline",
    ),
]
