from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API and outbound webhooks"

    def ready(self) -> None:
        from . import rest  # noqa: F401  (rest registers the schema's auth extension)
