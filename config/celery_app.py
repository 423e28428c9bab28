"""The Celery app. tenant-schemas-celery's app stamps each task with the schema it was sent from and runs the
task in that schema, so a task enqueued inside a client's request works on that client's tables."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = CeleryApp("textback")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
