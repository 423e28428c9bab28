"""bench/tenants_at_scale.py's settings: production's, with static file URLs that need no collectstatic manifest
(the bench renders pages without building the static files)."""

from config.settings.base import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
