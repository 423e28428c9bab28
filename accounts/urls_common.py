"""What every host serves about people and brand: logging in (throttled), invitations, password resets,
moving between hosts, and the brand's stylesheet and logo."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/two-factor/", views.two_factor, name="two-factor"),
    path("accounts/two-factor/recovery-codes/", views.recovery_codes, name="two-factor-recovery"),
    path("accounts/invitation/", views.invitation, name="invitation"),
    path("accounts/invitation/<str:token>/", views.invitation_open, name="invitation-open"),
    path("accounts/enter/", views.enter, name="enter"),
    path("accounts/switch/<int:pk>/", views.switch_client, name="switch-client"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("brand.css", views.brand_css, name="brand-css"),
    path("brand/logo", views.brand_logo, name="brand-logo"),
    path("brand/icon.svg", views.brand_icon, name="brand-icon"),
    path("brand/app-icon-<int:size>.png", views.brand_app_icon, name="brand-app-icon"),
]
