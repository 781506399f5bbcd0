from django.urls import path

from . import dashboard, public, views

app_name = "reports"

urlpatterns = [
    path("reports/", views.monthly_report, name="monthly"),
    path("reports/print/", views.monthly_report_print, name="print"),
    path("reports/export/", views.monthly_report_export, name="export"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("results/", public.results, name="public-results"),
]
