from django.urls import path

from . import slips, views

app_name = "dossiers"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("new/", views.intake, name="intake"),
    path("deadline-preview/", views.deadline_preview, name="deadline-preview"),
    path("register/", slips.register, name="register"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/actions/<str:action>/", views.act, name="act"),
    path("<str:code>/attachments/", views.upload, name="upload"),
    path("<str:code>/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<str:code>/slips/<str:slip>/", slips.slip, name="slip"),
]
