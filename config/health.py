"""/healthz: is the text-back path working, and if not, what is down.

    database   PostgreSQL answers
    broker     the Celery broker (Redis) answers
    worker     seconds since the Celery worker last said it was alive (its event loop writes a heartbeat)
    sender     the same for the sender, the worker of the sends queue (a thread pool; see CELERY_TASK_ROUTES)
    beat       seconds since beat last said so (the ledger sweep depends on it)
    oldest_due_send   seconds the oldest due-but-unsent ledger row has waited

200 when all is well; 503 naming what is not: a load balancer, an uptime monitor or a person can tell "no text
will go out" from "the page is up". /healthz/web is only "this web process answers and reaches the database",
for the web container's own healthcheck, so a web server is not called sick because the worker is.

The worker and beat heartbeats are written here too (`heartbeat_write`), from config/celery_app.py: to Redis for
this page, and to a file (HEARTBEAT_FILE) for a container healthcheck that must not depend on Redis.
"""

import os
import time
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from messaging.selectors import send_oldest_overdue

HEARTBEAT_KEY = "textback:heartbeat:{kind}"  # a hash: process name → unix time of its last heartbeat
# A heartbeat older than this is a process that is gone (or whose event loop is stuck).
HEARTBEAT_STALE_SECONDS = 60
_last_written: dict[str, float] = {}


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def heartbeat_write(kind: str, name: str) -> None:
    """Say that this worker or beat is alive, at most once per HEARTBEAT_SECONDS. Never raises: a process must
    not die because Redis is away (it reconnects by itself, and the page shows Redis as down)."""
    now = time.time()
    if now - _last_written.get(kind, 0.0) < settings.HEARTBEAT_SECONDS:
        return
    _last_written[kind] = now
    path = os.environ.get("HEARTBEAT_FILE")
    if path:
        Path(path).touch()
    try:
        client = _redis(settings.REDIS_URL)
        key = HEARTBEAT_KEY.format(kind=kind)
        client.hset(key, name, now)
        client.expire(key, 24 * 3600)  # names of workers long gone do not pile up
    except redis.RedisError:
        pass


def _heartbeat_age(kind: str) -> float | None:
    beats = _redis(settings.REDIS_URL).hgetall(HEARTBEAT_KEY.format(kind=kind))
    if not beats:
        return None
    return round(time.time() - max(float(value) for value in beats.values()), 1)


def _check_database(checks: dict) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        return True
    except Exception as exc:  # report, never raise: this page exists to say what is down
        checks["database"] = f"error: {exc.__class__.__name__}"
        return False


def _check_heartbeat(checks: dict, kind: str) -> None:
    try:
        age = _heartbeat_age(kind)
    except redis.RedisError:
        checks[kind] = "unknown: the broker is down"
        return
    if age is None:
        checks[kind] = "error: no heartbeat ever"
    elif age > HEARTBEAT_STALE_SECONDS:
        checks[kind] = f"error: last heartbeat {age:.0f}s ago"
    else:
        checks[kind] = "ok"
        checks[f"{kind}_heartbeat_age_seconds"] = age


@never_cache
def healthz(request):
    checks: dict = {}
    if _check_database(checks):
        overdue = send_oldest_overdue()
        seconds = 0.0 if overdue is None else round(overdue.total_seconds(), 1)
        checks["oldest_due_send_seconds"] = seconds
        checks["sends"] = (
            "ok" if seconds <= settings.SEND_LATE_SECONDS else f"error: a send is {seconds:.0f}s late"
        )
    try:
        _redis(settings.CELERY_BROKER_URL).ping()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {exc.__class__.__name__}"
    _check_heartbeat(checks, "worker")
    _check_heartbeat(checks, "sender")
    _check_heartbeat(checks, "beat")
    healthy = all(value == "ok" for key, value in checks.items() if isinstance(value, str))
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@never_cache
def healthz_web(request):
    checks: dict = {}
    healthy = _check_database(checks)
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)
