"""The whole system, really started, for the tests that need it: its own Redis, gunicorn serving the app,
the Celery worker, the sender (the worker of the sends queue) and beat, all on the test database, with Twilio faked at its HTTP boundary.

The stack has a Redis of its own so a test can stop and restart it (a broker outage) without touching the
Redis every other test uses. Everything it writes is committed; `committed_db` cleans up after each test.

Like production (docker-compose.prod.yml: `restart: unless-stopped`, Redis with AOF on), a supervisor thread
restarts any process that exits without being told to and counts it in `stack.restarts`, and Redis keeps its
data across a restart. PostgreSQL is the machine's own, shared with other test runs, so it is never restarted:
`stop_database()` does to this stack what a restart does to its clients (every connection of the stack's
processes is terminated, new ones are refused) on the stack's own test database only.

`Processes`, the part that starts, supervises and stops the servers, is shared with the benchmarks
(bench/_stack.py), so a benchmark runs the same processes, started the same way, as the tests.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing, suppress
from pathlib import Path

import psycopg
import redis
import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def test_database_url() -> str:
    db = connection.settings_dict
    auth = ""
    if db.get("USER"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "") + "@"
    host = db.get("HOST") or ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{db['NAME']}"


class Processes:
    """The servers of a stack as subprocesses: each in a session of its own (so a killpg reaches a server and all
    its workers), its output in a log file in a temporary folder. stop() is SIGTERM, then SIGKILL; supervise()
    restarts, as `restart: unless-stopped` does, whatever exits without being stopped."""

    def __init__(
        self, env: dict[str, str], *, tag: str, redis_port: int | None = None, keep_logs: bool = False
    ):
        self.env = env
        self.tag = tag  # in the Celery workers' hostnames, so two stacks on one broker never mix
        self.redis_port = redis_port  # a Redis of the stack's own (start_redis), or None for a shared one
        self.keep_logs = keep_logs
        self.tmp = Path(tempfile.mkdtemp(prefix="textback-stack-"))
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.commands: dict[str, tuple[list[str], dict[str, str] | None]] = {}
        self.restarts: dict[str, int] = {}  # name → times the supervisor restarted it
        self._lock = threading.Lock()
        self._supervising = threading.Event()

    # --- any process ---
    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        self.commands[name] = (args, env)
        with log.open("ab") as output:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env or self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        with self._lock:
            self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

    def check_alive(self) -> None:
        """Raise, with its log, if a process has exited (while starting, before the supervisor watches)."""
        with self._lock:
            exited = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        for name, code in exited.items():
            raise RuntimeError(f"{name} exited with {code}:\n{self.log(name)[-3000:]}")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop a process (the supervisor leaves it stopped): `sig`, then SIGKILL if it lingers."""
        with self._lock:
            process = self.processes.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        # A worker child that outlived its parent is still in the group: make sure nothing is left.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def kill(self, name: str) -> None:
        """SIGKILL a process group and leave it to the supervisor, as a crash would."""
        with self._lock:
            process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)

    def supervise(self) -> None:
        threading.Thread(target=self._supervise, name="stack-supervisor", daemon=True).start()

    def _supervise(self) -> None:
        while not self._supervising.wait(0.5):
            with self._lock:
                exited = [name for name, process in self.processes.items() if process.poll() is not None]
                codes = {name: self.processes.pop(name).returncode for name in exited}
                for name in exited:
                    self.restarts[name] = self.restarts.get(name, 0) + 1
            for name, code in codes.items():
                self.on_restart(name, code)
                args, env = self.commands[name]
                self.spawn(name, args, env)

    def on_restart(self, name: str, code: int | None) -> None:
        """Say in its log that the supervisor restarts `name` (the soak also says so on its console)."""
        with self.logs[name].open("a") as log:
            log.write(f"\n*** supervisor: {name} exited with {code}; restarting it ***\n")

    def close(self) -> None:
        self._supervising.set()
        for name in list(self.processes):
            self.stop(name)
        if not self.keep_logs:
            shutil.rmtree(self.tmp, ignore_errors=True)  # logs, and a Redis's data

    # --- the servers ---
    def start_redis(self) -> None:
        """The stack's own Redis on redis_port, persistent as in production (docker-compose.prod.yml: the
        append-only file, synced every second), so a restart keeps what was queued."""
        assert self.redis_port, "a stack's own Redis needs redis_port"
        self.spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(self.tmp),
            ],
        )
        client = redis.Redis(port=self.redis_port)

        def up():
            self.check_alive()
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_until(up, timeout=10, what="the stack's redis")

    def stop_redis(self) -> None:
        self.stop("redis")

    def restart_redis(self) -> None:
        self.stop_redis()
        self.start_redis()

    def start_gunicorn(
        self, port: int, options: list[str], *, env: dict[str, str] | None = None, host: str = "localhost"
    ) -> None:
        """gunicorn serving config.wsgi on 127.0.0.1:port with these options; returns once /healthz/web answers."""
        args = [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            *options,
        ]
        self.spawn("web", args, env)

        def up():
            self.check_alive()
            try:
                url = f"http://127.0.0.1:{port}/healthz/web"
                return requests.get(url, headers={"Host": f"{host}:{port}"}, timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, what="gunicorn")

    def start_celery(
        self, name: str, options: list[str], *, loglevel: str = "INFO", env: dict[str, str] | None = None
    ) -> None:
        """A Celery worker (`options`: its queues, pool, concurrency); returns once it is ready."""
        self.spawn(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                loglevel,
                "--hostname",
                f"{name}-{self.tag}@%h",
                "--without-gossip",
                "--without-mingle",
                *options,
            ],
            env,
        )
        # "ready." is logged at INFO; at a quieter log level, give the worker a moment instead.
        if loglevel.upper() in ("DEBUG", "INFO"):
            wait_until(
                lambda: self.check_alive() or "ready." in self.log(name),
                timeout=60,
                what=f"the celery {name}",
            )
        else:
            time.sleep(5)
            self.check_alive()

    def start_beat(self, env: dict[str, str] | None = None) -> None:
        self.spawn(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp / "beat-schedule"),
            ],
            env,
        )
        wait_until(
            lambda: self.check_alive() or "beat: Starting..." in self.log("beat"),
            timeout=30,
            what="celery beat",
        )


class Stack(Processes):
    """The whole system on the test database, as production runs it, with the fake Twilio given."""

    def __init__(self, fake_twilio, **extra_env: str):
        self.fake = fake_twilio
        self.web_port = free_port()
        self.base_url = f"http://localhost:{self.web_port}"
        self.app_name = f"textback-stack-{self.web_port}"  # PostgreSQL's application_name for its connections
        redis_port = free_port()
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "TEST_CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
            "TELEPHONY_PROVIDER": "twilio",
            "TWILIO_API_BASE_URL": fake_twilio.base_url,
            "TWILIO_ACCOUNT_SID": settings.TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": settings.TWILIO_AUTH_TOKEN,
            "TWILIO_TIMEOUT_SECONDS": "1",
            "SENDING_STALE_SECONDS": "3",
            "SWEEP_INTERVAL_SECONDS": "1",
            # Workers probe themselves every second and reconnect a consumer that took no probe for 4 s
            # (config/liveness.py): a stall after a Redis restart costs seconds, not the rest of the run.
            "HEARTBEAT_SECONDS": "1",
            "WORKER_STALL_SECONDS": "4",
            "PUBLIC_BASE_URL": self.base_url,
            "PYTHONUNBUFFERED": "1",
            "PGAPPNAME": self.app_name,
            **extra_env,  # settings of a variant of the stack (tests/integration/test_pooling.py)
        }
        super().__init__(env, tag=str(self.web_port), redis_port=redis_port)

    def save_logs(self, label: str) -> None:
        """Keep the processes' logs of a failed test in test-artifacts/, and show their tails."""
        folder = ROOT / "test-artifacts"
        folder.mkdir(exist_ok=True)
        for name in self.logs:
            text = self.log(name)
            (folder / f"{label}-{name}.log").write_text(text)
            print(
                f"----- {name} log (tail; all of it in test-artifacts/{label}-{name}.log) -----\n{text[-3000:]}"
            )

    # --- the database, as its clients see a restart ---
    def _database_admin(self, statement: str, *params) -> None:
        """Run a statement from the server's maintenance database (PostgreSQL refuses to bar connections to the
        database the statement is run in)."""
        db = connection.settings_dict
        options = {
            key: value
            for key, value in {
                "host": db.get("HOST"),
                "port": db.get("PORT"),
                "user": db.get("USER"),
                "password": db.get("PASSWORD"),
            }.items()
            if value
        }
        with psycopg.connect(dbname="postgres", autocommit=True, **options) as admin:
            admin.execute(statement, params or None)

    def stop_database(self) -> None:
        """Refuse new connections to the test database and terminate every one the stack's processes hold."""
        name = connection.settings_dict["NAME"]
        self._database_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        self._database_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            name,
            self.app_name,
        )

    def start_database(self) -> None:
        name = connection.settings_dict["NAME"]
        self._database_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    # --- the servers, as production runs them ---
    def start_web(self) -> None:
        self.start_gunicorn(self.web_port, ["--workers", "2", "--threads", "8", "--access-logfile", "-"])

    def start_worker(self) -> None:
        """The worker of everything but the sends (alerts, the outbox, sweeps, exports), as in production."""
        self.start_celery("worker", ["--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--concurrency", "2"])

    def start_sender(self) -> None:
        """The sender: the sends queue on a pool of threads, as in production (docker-compose.prod.yml)."""
        self.start_celery(
            "sender", ["--queues", settings.SENDS_QUEUE, "--pool", "threads", "--concurrency", "8"]
        )

    def kill_sender(self) -> None:
        """SIGKILL the sender at once, sends in flight and all: no warm shutdown, no acknowledgements."""
        self.stop("sender", signal.SIGKILL)

    def kill_beat(self) -> None:
        self.stop("beat", signal.SIGKILL)

    def start(self) -> "Stack":
        self.start_database()  # in case a run was killed while the database was "down"
        self.start_redis()
        self.start_web()
        self.start_worker()
        self.start_sender()
        self.start_beat()
        self.supervise()
        return self


# Client-schema tables that hold callers' data (templates and contenttypes stay: they come with the schema).
# Client-schema tables that hold callers' data, children first (so that DELETE, table by table, never trips a
# foreign key; the benchmarks delete, bench/_stack.py) and the tests' own additions: truncated between stack tests.
CALLER_DATA_TABLES = [
    "inbox_note",
    "messaging_message",
    "messaging_consentevent",
    "crm_outcome",
    "messaging_conversation",
    "telephony_call",
    "crm_suppression",
    "crm_contact",
]
CLIENT_DATA_TABLES = [*CALLER_DATA_TABLES, "inbox_cannedreply"]


def delete_callers_data(schemas: list[str]) -> None:
    """DELETE the callers' data of these schemas, in one round trip: for many schemas, cheaper than TRUNCATE,
    which makes new files for every table (200 schemas' took about 7 s; deleting a few rows each, under 1 s)."""
    with connection.cursor() as cursor:
        cursor.execute(
            ";".join(
                f'DELETE FROM "{schema}"."{table}"' for schema in schemas for table in CALLER_DATA_TABLES
            )
        )


def reset_committed_data(schemas: list[str]) -> None:
    with connection.cursor() as cursor:
        for schema in schemas:
            tables = ", ".join(f'"{schema}"."{table}"' for table in CLIENT_DATA_TABLES)
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        cursor.execute("DELETE FROM public.messaging_outboundsend")
        # Events the stack's worker had not drained yet: they name rows that are gone now.
        cursor.execute("DELETE FROM public.events_outboxevent")
        # What billing metered from those clients' events.
        for table in ("billing_usagewarning", "billing_usageevent", "billing_monthlyusage"):
            cursor.execute(f"DELETE FROM public.{table}")
