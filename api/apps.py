from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API and outbound webhooks"

    def ready(self) -> None:
        # In ready(): rest imports this app's models, not loaded when apps.py is; importing it registers
        # the schema's auth extension.
        from . import rest  # noqa: F401
