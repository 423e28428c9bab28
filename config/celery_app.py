"""The Celery app. tenant-schemas-celery's app stamps each task with the schema it was sent from and runs the
task in that schema, so a task enqueued inside a client's request works on that client's tables.

Riding through faults (issue 15; tests/integration/test_faults.py proves each):
- the broker: config/broker.py (a kombu crash on reconnecting), and the CELERY_BROKER_* settings;
- liveness: the worker writes its heartbeat when its consumer receives the probe it sends itself, and
  reconnects or exits when it stops receiving them (config/liveness.py); beat's scheduler writes its own; /healthz
  and the containers' healthchecks read them (config/health.py);
- the database: a worker process keeps its connection across tasks (CELERY_DB_REUSE_MAX), so Celery never lets
  Django check it the way a request does. `_drop_dead_database_connections` below does, before every task,
  at the cost of one system call, so a restarted PostgreSQL costs at most the task that found it down.
"""

import logging
import os
import threading

from celery import bootsteps
from celery.beat import PersistentScheduler
from celery.signals import task_postrun, task_prerun
from django.db import connections
from tenant_schemas_celery.app import CeleryApp, restore_schema, switch_schema

from config.db import connection_hung_up, tenant_connection
from config.liveness import PROBE_TASK, Liveness, Verdict

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")


# Named, not imported: the task class reads accounts' models, which are not loaded yet when config/__init__
# imports this module; Celery imports it when the app is finalized.
app = CeleryApp("textback", task_cls="config.celery_tenant:ClientTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
log = logging.getLogger(__name__)


@app.task(name=PROBE_TASK, ignore_result=True)
def probe() -> None:
    """Nothing: what counts is that the worker's consumer took it off the broker (config/liveness.py)."""


class _QuietProbes(logging.Filter):
    """Keep the probe's "received" and "succeeded" lines (one pair per HEARTBEAT_SECONDS) out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return PROBE_TASK not in record.getMessage()


# At import, so the pool's processes (which log "succeeded") have it as well as the consumer ("received").
for _logger in ("celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_logger).addFilter(_QuietProbes())


class WorkerHeartbeat(bootsteps.StartStopStep):
    """The worker's heartbeat, written when its consumer receives its own probe (config/liveness.py): a worker
    whose loop stops, that waits for the broker to come back, or whose consumer has stalled after a reconnect
    stops beating, and a stalled one reconnects, then exits to be restarted."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker):
        from celery.signals import task_received
        from celery.utils.nodenames import worker_direct
        from celery.worker import state
        from django.conf import settings

        # Here: config.health reads messaging's models, not loaded yet when config/__init__ imports this module.
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
        liveness = Liveness(stall_after=settings.WORKER_STALL_SECONDS)
        own_queue = worker_direct(worker.hostname)

        def beat():
            for kind in kinds:
                heartbeat_write(kind, worker.hostname)

        def received(sender=None, request=None, **kwargs):
            if request is not None and request.name == PROBE_TASK:
                liveness.received()
                beat()

        task_received.connect(received, weak=False, dispatch_uid=f"textback_probe_{worker.hostname}")

        def tick():
            verdict = liveness.verdict()
            if verdict is Verdict.EXIT:
                log.error(
                    "the consumer took nothing off the broker for %.0f s, even after reconnecting: exiting, "
                    "to be restarted by the supervisor",
                    settings.WORKER_STALL_SECONDS,
                )
                os._exit(70)  # EX_SOFTWARE; a warm shutdown would wait on the very consumer that is stuck
            if verdict is Verdict.RECONNECT:
                liveness.reconnecting()
                log.warning(
                    "the consumer took nothing off the broker for %.0f s although it had room: reconnecting",
                    settings.WORKER_STALL_SECONDS,
                )
                # A broker connection error raised in the event loop's timer propagates to the consumer, which
                # drops the connection and builds a new one, as after a real loss.
                raise ConnectionError("the consumer stalled")
            consumer = worker.consumer
            limit = consumer.qos.value if consumer is not None and consumer.qos is not None else 0
            if limit and len(state.reserved_requests) >= limit:
                liveness.busy()
                beat()
                return
            try:
                worker.app.send_task(PROBE_TASK, queue=own_queue, retry=False, expires=liveness.stall_after)
            except Exception as exc:  # the broker is away: nothing to judge until it is back
                log.debug("could not publish the liveness probe: %s", exc)
                liveness.publish_failed()
            else:
                liveness.published()

        beat()
        self.timer_entry = worker.timer.call_repeatedly(settings.HEARTBEAT_SECONDS, tick)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()


app.steps["worker"].add(WorkerHeartbeat)


class BeatScheduler(PersistentScheduler):
    """Celery's default scheduler, writing beat's heartbeat at every tick (at least every sweep interval)."""

    def tick(self, *args, **kwargs):
        from config.health import heartbeat_write  # here: it reads models, not loaded when this module is

        heartbeat_write("beat", "beat")
        return super().tick(*args, **kwargs)


def _drop_dead_database_connections(**kwargs) -> None:
    """Close a kept database connection that the server has hung up on, so the task opens a fresh one.

    An idle connection has nothing to read; when PostgreSQL restarts or terminates the backend it sends a
    FATAL message and closes the socket, which makes it readable. Checking that costs no round trip, unlike
    Django's CONN_HEALTH_CHECKS (a SELECT 1 before every task). A connection on which a query already failed is
    checked the way Django checks one after a request (close_if_unusable_or_obsolete)."""
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
