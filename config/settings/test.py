"""Settings for the test suite: the real PostgreSQL and Redis, development-style http, fast hashing."""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TWILIO_AUTH_TOKEN", "test-auth-token")
os.environ.setdefault("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")

from .base import *  # noqa: E402,F403
from .base import CACHES, REDIS_URL  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests that need a worker start a real one (tests/celery_worker.py); the rest must not need one.
CELERY_TASK_ALWAYS_EAGER = False
# Keep test keys apart from a developer's running demo on the same Redis.
CACHES["default"]["KEY_PREFIX"] = "textback-test"
CACHES["platform"]["KEY_PREFIX"] = "textback-test-platform"
# The test broker is a database of its own on the same Redis, so a demo worker never takes a test's task.
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL") or urlunsplit(
    urlsplit(REDIS_URL)._replace(path="/15")
)
# Web push on, to the tests' fake push service (tests/push_fake.py) on this machine. A key made for the tests only.
WEB_PUSH_VAPID_PRIVATE_KEY = "f7JrGQzgY2XzrHdjGv2wDo8EYYuXHSMHVVHbeKt2J7g"
WEB_PUSH_SERVICE_HOSTS = ["127.0.0.1"]
WEB_PUSH_ALLOW_PRIVATE_ADDRESSES = True
