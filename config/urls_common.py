"""URLs every host serves: logging in and out, the health check."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from .health import healthz, healthz_web
from .tls import tls_allowed

urlpatterns = [
    path("", include("accounts.urls_common")),  # logging in (throttled), invitations, password reset, brand
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("healthz/web", healthz_web, name="healthz-web"),
    path("tls/allowed", tls_allowed, name="tls-allowed"),
]
