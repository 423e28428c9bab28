from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Usage and billing"

    def ready(self) -> None:
        from . import receivers

        receivers.connect_textback_check()
