"""Read-only staff: a client's people who may see everything on its host and change nothing.

One chokepoint instead of a check in every view: on a client's host, a read-only member's unsafe requests
(POST, PUT, PATCH, DELETE) are refused with 403 and a reason before any view runs, so a page added tomorrow
is read-only for them too. Templates hide the buttons with ``request.read_only``; the refusal here is what
makes it true. They may still log out and change what concerns only themselves: views marked with
``@personal`` (their own notification choices). API keys are not sessions and are not
affected (their scopes say what they may do)."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .models import ClientMembership
from .selectors import request_client

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def user_is_read_only(user, client) -> bool:
    if not user.is_authenticated or user.is_superuser:
        return False
    return ClientMembership.objects.filter(
        user=user, client=client, role=ClientMembership.Role.READONLY
    ).exists()


def personal(view):
    """Mark a view that changes only the requesting person's own things: read-only staff may post to it."""
    view.personal = True
    return view


class ReadOnlyMembershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        client = request_client(request)
        # Lazy: a page that never asks costs no query.
        request.read_only = SimpleLazyObject(
            lambda: client is not None and user_is_read_only(request.user, client)
        )
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method in SAFE_METHODS
            or getattr(view_func, "personal", False)
            or request.path == reverse("logout")
        ):
            return None
        if request.read_only:
            return render(request, "accounts/read_only.html", {"client": request_client(request)}, status=403)
        return None
