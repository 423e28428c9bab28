"""The reports app's pages on the client's host, mounted by config/urls_tenants.py."""

from django.urls import path

from . import exports_views, views

app_name = "reports"
urlpatterns = [
    path("", views.client_report, name="client"),
    path("export/<str:kind>.<str:fmt>", exports_views.export_download, name="export"),
    path("exports/<int:pk>/", exports_views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", exports_views.export_file, name="export-file"),
    path("monthly.pdf", exports_views.monthly_pdf, name="monthly-pdf"),
    path("briefing/", exports_views.briefing_settings, name="briefing"),
]
