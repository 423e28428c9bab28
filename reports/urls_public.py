"""The reports app's pages on the platform host (and agencies' own domains), mounted by config/urls_public.py."""

from django.urls import path

from . import exports_views, views

app_name = "reports"
urlpatterns = [
    path("", views.agency_report, name="agency"),
    path("clients/<slug:slug>/", views.agency_client_report, name="agency-client"),
    path("clients/<slug:slug>/monthly.pdf", exports_views.agency_monthly_pdf, name="agency-monthly-pdf"),
    path("email/unsubscribe/<str:token>/", exports_views.email_unsubscribe, name="email-unsubscribe"),
    path("email/briefing/<str:token>/", exports_views.briefing_choice, name="briefing-choice"),
]
