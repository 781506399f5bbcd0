from django.urls import path

from . import views

app_name = "procedures"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("calendar/", views.calendar, name="calendar"),
    path("<code:code>/", views.detail, name="detail"),
]
