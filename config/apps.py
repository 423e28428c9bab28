from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    """django.contrib.admin with our site as admin.site, so every app's @admin.register lands on it."""

    default_site = "config.operator_admin.OperatorAdminSite"
