from django.apps import AppConfig


class ClientSettingsConfig(AppConfig):
    """The settings page on a client's host (hours, timing, text-back templates). No models: it edits accounts'
    Client row and messaging's templates."""

    name = "client_settings"
    verbose_name = "Client settings page"
