"""The team page on a client's host, under /team/ (the URL names are the ones it had in accounts)."""

from django.urls import path

from . import team_views

urlpatterns = [
    path("", team_views.client_team, name="client-team"),
    path("<int:pk>/remove/", team_views.client_team_remove, name="client-team-remove"),
    path(
        "invitations/<int:pk>/revoke/", team_views.client_invitation_revoke, name="client-invitation-revoke"
    ),
]
