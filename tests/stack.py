"""The whole system, really started, for the tests that need it: its own Redis, gunicorn serving the app,
the Celery worker, the sender (the worker of the sends queue) and beat, all on the test database, with Twilio faked at its HTTP boundary.

The stack has a Redis of its own so a test can stop and restart it (a broker outage) without touching the
Redis every other test uses. Everything it writes is committed; `committed_db` cleans up after each test.

Like production (docker-compose.prod.yml: `restart: unless-stopped`, Redis with AOF on), a supervisor thread
restarts any process that exits without being told to and counts it in `stack.restarts`, and Redis keeps its
data across a restart. PostgreSQL is the machine's own, shared with other test runs, so it is never restarted:
`stop_database()` does to this stack what a restart does to its clients (every connection of the stack's
processes is terminated, new ones are refused) on the stack's own test database only.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
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


class Stack:
    def __init__(self, fake_twilio, **extra_env: str):
        self.fake = fake_twilio
        self.tmp = tempfile.TemporaryDirectory(prefix="textback-stack-")
        self.redis_port = free_port()
        self.web_port = free_port()
        self.base_url = f"http://localhost:{self.web_port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.commands: dict[str, list[str]] = {}
        self.restarts: dict[str, int] = {}  # name → times the supervisor restarted it
        self._lock = threading.Lock()
        self._supervising = threading.Event()
        self.app_name = f"textback-stack-{self.web_port}"  # PostgreSQL's application_name for its connections
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "TEST_CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "TELEPHONY_PROVIDER": "twilio",
            "TWILIO_API_BASE_URL": fake_twilio.base_url,
            "TWILIO_ACCOUNT_SID": settings.TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": settings.TWILIO_AUTH_TOKEN,
            "TWILIO_TIMEOUT_SECONDS": "1",
            "SENDING_STALE_SECONDS": "3",
            "SWEEP_INTERVAL_SECONDS": "1",
            "PUBLIC_BASE_URL": self.base_url,
            "PYTHONUNBUFFERED": "1",
            "PGAPPNAME": self.app_name,
            **extra_env,  # settings of a variant of the stack (tests/integration/test_pooling.py)
        }

    # --- processes ---
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = Path(self.tmp.name) / f"{name}.log"
        self.logs[name] = log
        self.commands[name] = args
        with log.open("ab") as output:
            process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        with self._lock:
            self.processes[name] = process
        return process

    def _supervise(self) -> None:
        """Restart what exits on its own (not through stop()), as `restart: unless-stopped` does."""
        while not self._supervising.wait(0.5):
            with self._lock:
                exited = [name for name, process in self.processes.items() if process.poll() is not None]
                for name in exited:
                    code = self.processes.pop(name).returncode
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    with self.logs[name].open("a") as log:
                        log.write(f"\n*** supervisor: {name} exited with {code}; restarting it ***\n")
            for name in exited:
                self._spawn(name, self.commands[name])

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace") if name in self.logs else ""

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

    def start_redis(self) -> None:
        # Persistence as in production (docker-compose.prod.yml): the append-only file, synced every second.
        self._spawn(
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
                self.tmp.name,
            ],
        )
        client = redis.Redis(port=self.redis_port)

        def up():
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

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--threads",
                "8",
                "--access-logfile",
                "-",
            ],
        )

        def up():
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=1).status_code in (200, 503)
            except requests.RequestException:
                return False

        wait_until(up, timeout=30, what="gunicorn")

    def _start_celery_worker(self, name: str, *options: str) -> None:
        self._spawn(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--hostname",
                f"{name}-{self.web_port}@%h",
                "--without-gossip",
                "--without-mingle",
                *options,
            ],
        )
        wait_until(lambda: "ready." in self.log(name), timeout=30, what=f"the celery {name}")

    def start_worker(self) -> None:
        """The worker of everything but the sends (alerts, the outbox, sweeps, exports), as in production."""
        self._start_celery_worker(
            "worker", "--queues", settings.CELERY_TASK_DEFAULT_QUEUE, "--concurrency", "2"
        )

    def start_sender(self) -> None:
        """The sender: the sends queue on a pool of threads, as in production (docker-compose.prod.yml)."""
        self._start_celery_worker(
            "sender", "--queues", settings.SENDS_QUEUE, "--pool", "threads", "--concurrency", "8"
        )

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(Path(self.tmp.name) / "beat-schedule"),
            ],
        )
        wait_until(lambda: "beat: Starting..." in self.log("beat"), timeout=30, what="celery beat")

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        with self._lock:
            process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

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
        threading.Thread(target=self._supervise, name="stack-supervisor", daemon=True).start()
        return self

    def close(self) -> None:
        self._supervising.set()
        for name in list(self.processes):
            self.stop(name)
        self.tmp.cleanup()


# Client-schema tables that hold callers' data (templates and contenttypes stay: they come with the schema).
CLIENT_DATA_TABLES = [
    "crm_contact",
    "crm_suppression",
    "telephony_call",
    "messaging_conversation",
    "messaging_message",
    "messaging_consentevent",
    "inbox_note",
    "inbox_cannedreply",
]


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
