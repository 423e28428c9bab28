"""What-if settings for the Celery worker in bench/textback_latency.py (--worker-settings
bench.settings_worker_reuse): the production settings, plus keeping database connections across tasks.

Celery's Django fixup closes every database connection before and after each task unless CELERY_DB_REUSE_MAX is
set, whatever CONN_MAX_AGE says; tenant-schemas-celery also looks the client up by schema before each task
(one more connection, closed at once by that fixup) unless CELERY_TASK_TENANT_CACHE_SECONDS is set. With both
below, a worker process keeps one connection. Not used by the app: a measurement of what the two settings
would save (see the latency benchmark's report).
"""

from config.settings.base import *  # noqa: F403

CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_TENANT_CACHE_SECONDS = 60
