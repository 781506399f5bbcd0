from django.urls import path

from .serializers import ACTION_SERIALIZERS
from .views import (
    AttachmentUploadView,
    DossierDetailView,
    DossierImportView,
    DossierListCreateView,
    RatingView,
    UnknownActionView,
    action_view,
)

urlpatterns = [
    path("dossiers/", DossierListCreateView.as_view(), name="api-dossiers"),
    path("dossiers/import/", DossierImportView.as_view(), name="api-dossier-import"),
    path("dossiers/<code:code>/", DossierDetailView.as_view(), name="api-dossier"),
    path(
        "dossiers/<code:code>/attachments/",
        AttachmentUploadView.as_view(),
        name="api-dossier-attachments",
    ),
    path("dossiers/<code:code>/rating/", RatingView.as_view(), name="api-dossier-rating"),
    *(
        path(
            f"dossiers/<code:code>/actions/{name}/",
            action_view(name),
            name=f"api-dossier-{name.replace('_', '-')}",
        )
        for name in ACTION_SERIALIZERS
    ),
    path("dossiers/<code:code>/actions/<str:action>/", UnknownActionView.as_view()),
]
