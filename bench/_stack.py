"""What the load benchmarks share: their own database, the bench agency and clients, the production-like
processes (gunicorn, Celery worker and beat, the fake Twilio) started as subprocesses and always stopped
again, signed Twilio voice webhooks, and CPU accounting per process group.

The processes are tests/stack.py's (`Processes`: spawned, supervised and stopped as the tests' stack does);
what differs is the rest: no pytest-django, everything runs against the database `textback_bench` (created and
migrated when missing) and a dedicated Redis database number, with production's settings (DEBUG off).
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stack import Processes, delete_callers_data, free_port, wait_until  # noqa: E402 - the test stack's
from tests.webhooks import inbound_call_params, signed_body, where_from  # noqa: E402 - and Twilio's webhooks

VENV_BIN = Path(sys.executable).parent
# bench/soak.py uses a database of its own (it cuts its connections off), named by BENCH_DB.
BENCH_DB = os.environ.get("BENCH_DB", "textback_bench")
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://root@127.0.0.1:5432")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
AGENCY_SLUG = "bench-load"
CLIENT_SLUG = "bench-load-{:03d}"
TICKS = os.sysconf("SC_CLK_TCK")


def bench_database_url() -> str:
    return f"{PG_SERVER}/{BENCH_DB}"


# --- database --------------------------------------------------------------------------------------------


def ensure_database() -> bool:
    """Create textback_bench if it is missing; True when it was created."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        return True


def base_env(**extra: str) -> dict[str, str]:
    """The production-like environment every process of the stack gets (DEBUG off)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))}
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdefghijklmnop",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        DATABASE_URL=bench_database_url(),
        REDIS_URL=DEFAULT_REDIS_URL,
        TELEPHONY_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    env.update(extra)
    return env


def migrate(env: dict[str, str]) -> float:
    """manage.py migrate on the bench database (django-tenants: public, then every client schema)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started


def migrations_pending(schemas: list[str]) -> bool:
    """True when public or any of these schemas lacks a migration that is on disk (Django must be set up)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    with connection.cursor() as cursor:
        for schema in ["public", *schemas]:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".django_migrations'])
            if not cursor.fetchone()[0]:
                return True
            cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
            if not on_disk <= set(cursor.fetchall()):
                return True
    return False


def prepare_database(*, clients: int, redis_url: str, force_migrate: bool = False) -> list:
    """Create textback_bench if missing, migrate it when something is not applied (or when forced), set up
    Django in this process on it, and make sure the bench clients exist. Returns the clients."""
    created = ensure_database()
    django_setup_bench(redis_url)
    from django.conf import settings
    from django.db import connection

    from accounts.models import Client

    needs = created or force_migrate
    if not needs:
        try:
            schemas = [
                settings.TENANT_BASE_SCHEMA,
                *Client.objects.exclude(schema_name="public").values_list("schema_name", flat=True),
            ]
            needs = migrations_pending(schemas)
        except Exception:  # no tables yet, typically
            needs = True
        connection.close()
    if needs:
        print("migrating the bench database (manage.py migrate) …", flush=True)
        print(f"  migrated in {migrate(base_env()):.1f}s", flush=True)
    return ensure_clients(clients)


def django_setup_bench(redis_url: str) -> None:
    """Django in this process, on the bench database (for setting up clients and reading results)."""
    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ["REDIS_URL"] = redis_url
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import django_setup

    django_setup()


def client_number(i: int) -> str:
    return f"+1312555{2000 + i:04d}"


def ensure_clients(count: int) -> list:
    """The bench agency and `count` live clients (created once, reused on reruns), each with its own number,
    forward mode and no text delay. Returns the clients, ordered."""
    from django.db.models import Q

    from accounts.models import Agency, Client
    from accounts.services import agency_create, client_create, client_provision

    agency = Agency.objects.filter(slug=AGENCY_SLUG).first() or agency_create(
        slug=AGENCY_SLUG, name="Bench Load Agency", admin_email="bench-load@bench.test", admin_password=None
    )
    existing = {c.slug: c for c in Client.objects.filter(agency=agency)}
    made = 0
    started = time.perf_counter()
    for i in range(count):
        slug = CLIENT_SLUG.format(i)
        client = existing.get(slug)
        if client is None:
            client = client_create(
                agency=agency,
                slug=slug,
                name=f"Bench Plumbing {i:03d}",
                timezone_name="America/Chicago",
                phone_number=client_number(i),
                forward_to=f"+1312555{5000 + i:04d}",
                text_delay_seconds=0,
            )
            made += 1
        if client.status != Client.Status.LIVE:
            client_provision(client=client)
    if made:
        print(f"created {made} bench clients in {time.perf_counter() - started:.1f}s", flush=True)
    slugs = [CLIENT_SLUG.format(i) for i in range(count)]
    wanted = {"text_delay_seconds": 0, "status": Client.Status.LIVE, "call_mode": Client.CallMode.FORWARD}
    differs = Q()
    for name, value in wanted.items():
        differs |= ~Q(**{name: value})
    Client.objects.filter(Q(slug__in=slugs) & differs).update(
        **wanted
    )  # only rows that differ: no dead tuples
    by_slug = {c.slug: c for c in Client.objects.filter(slug__in=slugs)}
    return [by_slug[s] for s in slugs]


def fresh_run(*, clients: int, redis_url: str, force_migrate: bool) -> tuple[list, int]:
    """What every benchmark does first: the bench database and clients ready, their callers' data and the
    Redis database emptied, this process's connection closed (the servers get their own); and a free port."""
    prepared = prepare_database(clients=clients, redis_url=redis_url, force_migrate=force_migrate)
    reset_client_data(prepared)
    flush_redis(redis_url)
    from django.db import connection

    connection.close()
    return prepared, free_port()


def reset_client_data(clients: list) -> None:
    """Delete the callers' data of the bench clients (tests/stack.py's tables, so reruns start from the same
    state: no "recently texted" callers, no growing tables), then VACUUM ANALYZE the bench database: PostgreSQL
    here runs with autovacuum off, and the dead rows of earlier runs made every query slower run after run."""
    from django.db import connection, transaction

    from messaging.models import OutboundSend

    connection.set_schema_to_public()
    with transaction.atomic():
        delete_callers_data([client.schema_name for client in clients])
    OutboundSend.objects.filter(client__in=clients).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


# --- Twilio's voice webhooks ----------------------------------------------------------------------------


def caller_number(n: int) -> str:
    """The n-th distinct, valid US caller number (exchanges 200-999 except 555)."""
    exchanges = [e for e in range(200, 1000) if e != 555]
    return f"+1773{exchanges[(n // 10000) % len(exchanges)]}{n % 10000:04d}"


def voice_params(*, call_sid: str, caller: str, to: str, **extra: str) -> dict[str, str]:
    """What Twilio posts for an inbound call, with the places it adds (tests/webhooks.py), to the bench's account."""
    return inbound_call_params(
        caller=caller,
        to=to,
        AccountSid=ACCOUNT_SID,
        CallSid=call_sid,
        **where_from(caller=caller, to=to),
        **extra,
    )


def signed(public_base_url: str, path: str, params: dict[str, str]) -> tuple[bytes, str]:
    """The form body and its X-Twilio-Signature, computed as Twilio does over PUBLIC_BASE_URL + path."""
    return signed_body(path, params, base_url=public_base_url, token=AUTH_TOKEN)


# --- processes -------------------------------------------------------------------------------------------


class Stack(Processes):
    """tests/stack.py's processes, for a benchmark: the servers' options are the benchmark's to choose, their
    environment is production's (base_env), and they are always stopped again: close() in a finally, atexit,
    and SIGTERM/SIGHUP turned into an exception so the finally runs."""

    def __init__(self, env: dict[str, str], *, keep_logs: bool = False, redis_port: int | None = None):
        super().__init__(env, tag=f"bench-{os.getpid()}", redis_port=redis_port, keep_logs=keep_logs)
        atexit.register(self.close)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_interrupt)

    def start_fake(self) -> str:
        """The fake Twilio as its own process (python -m tests.twilio_fake), so its work is not counted in
        the load generator's process. Returns its base URL."""
        port = free_port()
        self.spawn(
            "fake",
            [
                sys.executable,
                "-m",
                "tests.twilio_fake",
                "--port",
                str(port),
                "--account-sid",
                ACCOUNT_SID,
                "--auth-token",
                AUTH_TOKEN,
            ],
        )
        url = f"http://127.0.0.1:{port}"

        def up():
            self.check_alive()
            try:
                return fake_get(url, "requests") is not None
            except OSError:
                return False

        wait_until(up, timeout=20, what="the fake Twilio")
        return url

    def start_web(
        self,
        *,
        port: int,
        workers: int,
        threads: int,
        worker_class: str = "gthread",
        env: dict[str, str] | None = None,
        access_log: bool = False,
        host_header: str = "localhost",
    ) -> None:
        """gunicorn config.wsgi on 127.0.0.1:port. worker_class "gthread" (threads per worker) or "sync" (what
        the Dockerfile runs: --workers 3, one request at a time each)."""
        options = ["--workers", str(workers), "--worker-class", worker_class, "--backlog", "2048"]
        if worker_class == "gthread":
            options += ["--threads", str(threads), "--keep-alive", "5"]
        if access_log:
            options += ["--access-logfile", "-"]
        self.start_gunicorn(port, options, env=env, host=host_header)

    def start_worker(
        self,
        *,
        concurrency: int,
        pool: str = "prefork",
        loglevel: str = "INFO",
        env: dict[str, str] | None = None,
        name: str = "worker",
        queues: str = "celery",
    ) -> None:
        """A Celery worker of `queues`: by default the worker of everything but the sends, as production runs it;
        start_sender starts the other one."""
        options = [
            "--queues",
            queues,
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--without-heartbeat",
        ]
        self.start_celery(name, options, loglevel=loglevel, env=env)

    def start_sender(
        self, *, threads: int, loglevel: str = "INFO", env: dict[str, str] | None = None
    ) -> None:
        """The sender: the sends queue on a pool of threads (docker-compose.prod.yml's `sender`)."""
        self.start_worker(
            concurrency=threads, pool="threads", loglevel=loglevel, env=env, name="sender", queues="sends"
        )

    def pgids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}


# What the text-back path asks Twilio: the line-type lookup, the send, and (reconciling) the list and fetch.
TWILIO_OPERATIONS = ("lookup", "create", "list", "fetch")


def fake_latency(base_url: str, seconds: float) -> None:
    """Make the fake Twilio answer every request of the text-back path in `seconds` (a reset forgets it)."""
    for operation in TWILIO_OPERATIONS:
        fake_post(base_url, "set_latency", {"seconds": seconds, "operation": operation})


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def fake_get(base_url: str, name: str):
    with urllib.request.urlopen(f"{base_url}/_fake/{name}", timeout=30) as response:
        return json.loads(response.read())


def fake_post(base_url: str, name: str, payload: dict | None = None):
    request = urllib.request.Request(
        f"{base_url}/_fake/{name}",
        data=json.dumps(payload or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# --- CPU accounting --------------------------------------------------------------------------------------


def _proc_stats() -> dict[int, tuple[int, float, str, int]]:
    """pid → (process group, CPU seconds including reaped children, command name, parent pid)."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                raw = handle.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        cpu = sum(int(value) for value in fields[11:15]) / TICKS
        out[int(entry.name)] = (int(fields[2]), cpu, comm, int(fields[1]))
    return out


def _postgres_cpu(stats) -> float:
    """CPU of the whole PostgreSQL server: every `postgres` process, including the postmaster's reaped
    children (backends that have exited). All databases: other people's work on the server counts too."""
    return sum(cpu for _, cpu, comm, _ in stats.values() if comm == "postgres")


def _system_busy() -> tuple[float, float]:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


class CpuMeter:
    """CPU used between start() and stop(), in cores (CPU seconds per second of wall time): by each process group
    of the stack (`groups`: name → process group id), by named processes (`pid_groups`: name → pids, e.g. the
    shared redis-server), by the PostgreSQL server (all its processes: the benchmarks wait for a quiet machine
    first, so that is mostly ours), by this process, and by the whole machine; "others" is what the machine used
    beyond all of those (the kernel's own work such as loopback networking, and anyone else's processes)."""

    def __init__(
        self,
        groups: dict[str, int],
        pid_groups: dict[str, list[int]] | None = None,
        this_process: str = "bench process",
        reaped_children: str | None = None,
    ):
        """reaped_children: a name for the CPU of this process's children that exited and were waited for in
        between (e.g. a wrk run), which no longer show in /proc."""
        self.reaped_children = reaped_children
        self.groups = dict(groups)
        self.pid_groups = dict(pid_groups or {})
        self.this_process = this_process

    def _snapshot(self) -> dict:
        stats = _proc_stats()
        snap = {
            name: sum(row[1] for row in stats.values() if row[0] == pgid)
            for name, pgid in self.groups.items()
        }
        for name, pids in self.pid_groups.items():
            snap[name] = sum(stats[pid][1] for pid in pids if pid in stats)
        snap["postgres"] = _postgres_cpu(stats)
        snap[self.this_process] = time.process_time()
        if self.reaped_children:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            snap[self.reaped_children] = usage.ru_utime + usage.ru_stime
        snap["_system"] = _system_busy()
        snap["_wall"] = time.monotonic()
        return snap

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, float]:
        after = self._snapshot()
        wall = after["_wall"] - self.before["_wall"]
        result = {}
        names = [*self.groups, *self.pid_groups, self.this_process, "postgres"]
        if self.reaped_children:
            names.append(self.reaped_children)
        for name in names:
            result[name] = (after[name] - self.before[name]) / wall
        busy = after["_system"][0] - self.before["_system"][0]
        total = after["_system"][1] - self.before["_system"][1]
        machine = busy / total * (os.cpu_count() or 1) if total else 0.0
        result["others"] = max(0.0, machine - sum(result.values()))
        result["machine"] = machine
        return {name: round(cores, 2) for name, cores in result.items()}


def machine_busy_cores(seconds: float = 1.0) -> float:
    before = _system_busy()
    time.sleep(seconds)
    after = _system_busy()
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total * (os.cpu_count() or 1), 2) if total else 0.0


def wait_for_quiet_machine(max_wait: float, threshold: float = 0.3) -> float:
    """Wait (at most max_wait seconds) until the machine is nearly idle — other people's test runs share these
    cores and would be measured as our latency. Returns the busy cores of the last 1 s sample."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = machine_busy_cores(1.0)
        if busy <= threshold or time.monotonic() >= deadline:
            return busy
        print(f"  machine busy with other work ({busy} cores); waiting …", flush=True)


def redis_server_pids(url: str) -> list[int]:
    """The redis-server process serving this URL's port (for CPU accounting), if it runs on this machine."""
    from urllib.parse import urlsplit

    port = str(urlsplit(url).port or 6379)
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "redis-server" in cmdline and (f":{port}" in cmdline or f"--port {port}" in cmdline):
            pids.append(int(entry.name))
    return pids
