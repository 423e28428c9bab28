"""The reports app's pages on the platform host (and agencies' own domains), mounted by config/urls_public.py."""

from django.urls import path

from . import call_audit_views, exports_views, views

app_name = "reports"
urlpatterns = [
    path("", views.agency_report, name="agency"),
    path("clients/<slug:slug>/", views.agency_client_report, name="agency-client"),
    path("clients/<slug:slug>/monthly.pdf", exports_views.agency_monthly_pdf, name="agency-monthly-pdf"),
    path("clients/<slug:slug>/call-audit/", call_audit_views.call_audit_page, name="call-audit"),
    path("clients/<slug:slug>/call-audit.pdf", call_audit_views.call_audit_download, name="call-audit-pdf"),
    path("call-audit/<str:token>/", call_audit_views.call_audit_share, name="call-audit-share"),
    path(
        "call-audit/<str:token>/audit.pdf", call_audit_views.call_audit_share_pdf, name="call-audit-share-pdf"
    ),
    path("email/unsubscribe/<str:token>/", exports_views.email_unsubscribe, name="email-unsubscribe"),
    path("email/briefing/<str:token>/", exports_views.briefing_choice, name="briefing-choice"),
]
