"""URLs every host serves: logging in and out, the health check."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .health import healthz

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
]
