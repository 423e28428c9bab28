from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Domain events"

    def ready(self) -> None:
        from . import bus  # in ready(): bus imports this app's models, not loaded when apps.py is

        # The subscriber table (settings.EVENT_SUBSCRIBERS) imports every app that listens; loading it once all
        # apps are ready makes a wrong entry fail at start-up, not at the first missed call.
        bus.load()
