"""The agency's pages, under /agency/ on the platform host and agencies' own domains."""

from django.urls import path

from . import onboarding_views, twilio_views, views

app_name = "agency"

urlpatterns = [
    path("clients/<int:pk>/pause/", views.client_pause_view, name="client-pause"),
    path("clients/<int:pk>/resume/", views.client_resume_view, name="client-resume"),
    path("clients/<int:pk>/offboard/", views.client_offboard_view, name="client-offboard"),
    path("clients/<int:pk>/open/", views.client_open_view, name="client-open"),
    path("<slug:slug>/team/", views.team, name="team"),
    path("<slug:slug>/team/<int:pk>/remove/", views.team_remove, name="team-remove"),
    path("<slug:slug>/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("<slug:slug>/audit/", views.audit_log, name="audit"),
    path("<slug:slug>/brand/", views.brand, name="brand"),
    path("<slug:slug>/twilio/", twilio_views.twilio_account, name="twilio"),
    path("<slug:slug>/twilio/disconnect/", twilio_views.twilio_account_disconnect, name="twilio-disconnect"),
    path("<slug:slug>/brand/domain-check/", views.brand_domain_check, name="brand-domain-check"),
    path("<slug:slug>/onboarding/new/", onboarding_views.start, name="onboarding-start"),
    path("onboarding/<int:pk>/progress/", onboarding_views.progress, name="onboarding-progress"),
    path("onboarding/<int:pk>/retry/", onboarding_views.retry, name="onboarding-retry"),
    path("onboarding/<int:pk>/preview/", onboarding_views.preview, name="onboarding-preview"),
    path("onboarding/<int:pk>/<str:step>/", onboarding_views.step_view, name="onboarding-step"),
]
