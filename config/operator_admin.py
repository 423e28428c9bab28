"""The operator's Django admin (/admin/ on the platform host), the default admin site.

Operators come in through the same door as everyone else: the host's login page (throttled per account and
address, accounts.throttle), then their second factor (accounts.two_factor). The site adds that the session was
verified with that factor (django-otp), and that it is the platform host: an agency's own domain is the agency's
to point where it likes, so the admin is not served there. OTP_ADMIN_HIDE_SENSITIVE_DATA keeps other people's
authenticator keys and recovery codes out of its pages."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from accounts.selectors import request_client
from accounts.views import LoginView


def _on_platform_host(request) -> bool:
    return request_client(request) is None and getattr(request, "agency", None) is None


class OperatorAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return _on_platform_host(request) and super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        """/admin/login/ is the host's own login page, the same view and throttle, then the second factor."""
        if not _on_platform_host(request):
            raise Http404("The admin is on the platform's own host.")
        if request.user.is_authenticated:
            raise PermissionDenied("The admin is for platform operators.")
        return LoginView.as_view(next_page=reverse("admin:index"))(request)
