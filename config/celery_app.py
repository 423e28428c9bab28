"""The Celery app. tenant-schemas-celery's app stamps each task with the schema it was sent from and runs the
task in that schema, so a task enqueued inside a client's request works on that client's tables.

Riding through faults (issue 15; tests/integration/test_faults.py proves each):
- the broker: config/broker.py (a kombu crash on reconnecting), and the CELERY_BROKER_* settings;
- liveness: the worker's event loop and beat's scheduler write heartbeats (config/health.py) that /healthz and
  the containers' healthchecks read;
- the database: a worker process keeps its connection across tasks (CELERY_DB_REUSE_MAX), so Celery never lets
  Django check it the way a request does. `_drop_dead_database_connections` below does, before every task,
  at the cost of one system call, so a restarted PostgreSQL costs at most the task that found it down.
"""

import os
import threading

from celery import bootsteps
from celery.beat import PersistentScheduler
from celery.signals import task_postrun, task_prerun
from tenant_schemas_celery.app import CeleryApp, restore_schema, switch_schema

from config.db import connection_hung_up, tenant_connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = CeleryApp("textback")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Write the worker's heartbeat from its event loop's timer: a worker whose loop stops (or that is waiting
    for the broker to come back) stops beating, as `celery inspect ping` would stop answering."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker):
        from django.conf import settings

        from config.health import heartbeat_write

        # The sender (the worker of the sends queue) beats as "sender", the worker of everything else as
        # "worker": /healthz names the one that is gone. A worker of both queues beats as both.
        queues = {queue.name for queue in worker.app.amqp.queues.consume_from.values()}
        kinds = [
            kind
            for kind, queue in (
                ("worker", settings.CELERY_TASK_DEFAULT_QUEUE),
                ("sender", settings.SENDS_QUEUE),
            )
            if queue in queues
        ] or ["worker"]

        def beat():
            for kind in kinds:
                heartbeat_write(kind, worker.hostname)

        beat()
        self.timer_entry = worker.timer.call_repeatedly(settings.HEARTBEAT_SECONDS, beat)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()


app.steps["worker"].add(WorkerHeartbeat)


class BeatScheduler(PersistentScheduler):
    """Celery's default scheduler, writing beat's heartbeat at every tick (at least every sweep interval)."""

    def tick(self, *args, **kwargs):
        from config.health import heartbeat_write

        heartbeat_write("beat", "beat")
        return super().tick(*args, **kwargs)


def _drop_dead_database_connections(**kwargs) -> None:
    """Close a kept database connection that the server has hung up on, so the task opens a fresh one.

    An idle connection has nothing to read; when PostgreSQL restarts or terminates the backend it sends a
    FATAL message and closes the socket, which makes it readable. Checking that costs no round trip, unlike
    Django's CONN_HEALTH_CHECKS (a SELECT 1 before every task). A connection on which a query already failed is
    checked the way Django checks one after a request (close_if_unusable_or_obsolete)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if connection.errors_occurred:
            connection.close_if_unusable_or_obsolete()
            continue
        if connection_hung_up(connection.connection):
            connection.close()


# tenant-schemas-celery keeps "the schema before the task" on the task object, which the sender's threads share:
# one thread could restore another's schema. Each thread remembers its own here, per task id (a task run eagerly
# inside a request or another task restores that caller's schema, as theirs did).
_before = threading.local()


def _remember_schema(task_id=None, **kwargs) -> None:
    if not hasattr(_before, "schemas"):
        _before.schemas = {}
    _before.schemas[task_id] = (tenant_connection.schema_name, tenant_connection.include_public_schema)


def _restore_schema(task_id=None, **kwargs) -> None:
    schema, include_public = getattr(_before, "schemas", {}).pop(task_id, (None, True))
    if schema is not None and tenant_connection.schema_name != schema:
        tenant_connection.set_schema(schema, include_public=include_public)


# Before tenant-schemas-celery's own handler, which may look the client up on that very connection: receivers run
# in the order they were connected, and theirs was connected when their module was imported.
task_prerun.disconnect(switch_schema, dispatch_uid="tenant_schemas_switch_schema")
task_prerun.connect(_drop_dead_database_connections, dispatch_uid="textback_drop_dead_database_connections")
task_prerun.connect(_remember_schema, dispatch_uid="textback_remember_schema")
task_prerun.connect(switch_schema, sender=None, dispatch_uid="tenant_schemas_switch_schema")
task_postrun.disconnect(restore_schema, dispatch_uid="tenant_schemas_restore_schema")
task_postrun.connect(_restore_schema, dispatch_uid="textback_restore_schema")
