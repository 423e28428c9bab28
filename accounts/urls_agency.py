"""The agency's pages, under /agency/ on the platform host and agencies' own domains."""

from django.urls import path

from . import agency_views, onboarding_views

app_name = "agency"

urlpatterns = [
    path("clients/<int:pk>/pause/", agency_views.client_pause_view, name="client-pause"),
    path("clients/<int:pk>/resume/", agency_views.client_resume_view, name="client-resume"),
    path("clients/<int:pk>/offboard/", agency_views.client_offboard_view, name="client-offboard"),
    path("clients/<int:pk>/open/", agency_views.client_open_view, name="client-open"),
    path("<slug:slug>/team/", agency_views.team, name="team"),
    path("<slug:slug>/team/<int:pk>/remove/", agency_views.team_remove, name="team-remove"),
    path(
        "<slug:slug>/invitations/<int:pk>/revoke/", agency_views.invitation_revoke, name="invitation-revoke"
    ),
    path("<slug:slug>/audit/", agency_views.audit_log, name="audit"),
    path("<slug:slug>/brand/", agency_views.brand, name="brand"),
    path("<slug:slug>/brand/domain-check/", agency_views.brand_domain_check, name="brand-domain-check"),
    path("<slug:slug>/onboarding/new/", onboarding_views.start, name="onboarding-start"),
    path("onboarding/<int:pk>/progress/", onboarding_views.progress, name="onboarding-progress"),
    path("onboarding/<int:pk>/retry/", onboarding_views.retry, name="onboarding-retry"),
    path("onboarding/<int:pk>/preview/", onboarding_views.preview, name="onboarding-preview"),
    path("onboarding/<int:pk>/<str:step>/", onboarding_views.step_view, name="onboarding-step"),
]
