from django.urls import path

from . import citizen, overdue, slips, views

app_name = "dossiers"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("new/", views.intake, name="intake"),
    path("deadline-preview/", views.deadline_preview, name="deadline-preview"),
    path("register/", slips.register, name="register"),
    path("overdue/", overdue.overdue, name="overdue"),
    # The citizen's pages (before "<code>/", which would take "my" for a code).
    path("submit/<str:procedure_code>/", citizen.submit_applicant, name="submit"),
    path(
        "submit/<str:procedure_code>/documents/",
        citizen.submit_documents,
        name="submit-documents",
    ),
    path("my/", citizen.my_dossiers, name="my"),
    path("my/<code:code>/", citizen.my_detail, name="my-detail"),
    path("my/<code:code>/submitted/", citizen.my_submitted, name="my-submitted"),
    path("my/<code:code>/supply/", citizen.my_supply, name="my-supply"),
    path("my/<code:code>/withdraw/", citizen.my_withdraw, name="my-withdraw"),
    path("my/<code:code>/rating/", citizen.my_rate, name="my-rate"),
    path("<code:code>/", views.detail, name="detail"),
    path("<code:code>/actions/<str:action>/", views.act, name="act"),
    path("<code:code>/attachments/", views.upload, name="upload"),
    path("<code:code>/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<code:code>/slips/<str:slip>/", slips.slip, name="slip"),
]
