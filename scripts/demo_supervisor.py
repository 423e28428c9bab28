"""`./run demo`'s supervisor: runs the web server, the Celery worker, the sender and beat, restarts whichever
dies (and says so), prints the demo's logins once the web server answers, and keeps the log readable.

    python scripts/demo_supervisor.py --port 8000 --welcome var/demo-welcome.txt

What it does to the log: every line is prefixed with the process it came from; Celery's start-up banners and
the every-second "sweep" chatter are left out; an email (the console backend prints whole messages) becomes one
line, and the message itself is saved under var/emails/ for the links in it (invitations, password resets).

Production is supervised by its container runtime instead (docker-compose.prod.yml: restart: unless-stopped).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COLOURS = {"web": "32", "worker": "36", "sender": "34", "beat": "35", "supervisor": "1"}
# A process that dies sooner than this after starting is waited for longer each time (up to MAX_BACKOFF), so a
# broken one (a syntax error, the database down) does not spin.
HEALTHY_AFTER = 10.0
MAX_BACKOFF = 30.0
EMAIL_END = "-" * 79  # how Django's console email backend ends each message
# In the worker, Celery logs what a task prints, each line with its own log prefix.
CELERY_PREFIX = re.compile(r"^\[\d{4}-\d\d-\d\d [^\]]*\] ")
QUIET = (
    "sweep_due_sends",
    "sweep_webhook_deliveries",
    "sweep-due-sends",
    "sweep-webhook-deliveries",
    "outbox_drain",
    "drain-outbox",
    "/healthz/web",
)

_print_lock = threading.Lock()


def say(name: str, text: str) -> None:
    colour = COLOURS.get(name, "0")
    with _print_lock:
        if sys.stdout.isatty():
            print(f"\033[{colour}m{name:<10}|\033[0m {text}", flush=True)
        else:
            print(f"{name:<10}| {text}", flush=True)


class LogFilter:
    """Turns one process's raw output into the lines worth showing (see the module docstring)."""

    def __init__(self, name: str, emails: Path):
        self.name = name
        self.emails = emails
        self.in_banner = name in ("worker", "sender", "beat")
        self.email: list[str] | None = None

    def restarted(self) -> None:
        self.in_banner = self.name in ("worker", "sender", "beat")
        self.email = None

    def feed(self, line: str) -> str | None:
        line = line.rstrip("\n")
        bare = CELERY_PREFIX.sub("", line)
        if self.email is not None:
            if bare == EMAIL_END:
                return self._email_done()
            self.email.append(bare)
            return None
        if bare.startswith("Content-Type: ") and ("text/plain" in bare or "multipart/" in bare):
            self.email = [bare]
            return None
        if self.in_banner:
            # Celery prints its banner and settings before its first timestamped log line.
            if not line.startswith("["):
                return None
            self.in_banner = False
            return f"{self.name} started"
        if any(word in line for word in QUIET):
            return None
        return line or None

    def _email_done(self) -> str:
        message, self.email = "\n".join(self.email), None
        headers: dict[str, str] = {}
        for header in message.split("\n\n", 1)[0].splitlines():
            if ": " in header:
                key, value = header.split(": ", 1)
                headers.setdefault(key, value)
        self.emails.mkdir(parents=True, exist_ok=True)
        path = (
            self.emails / f"{time.strftime('%Y%m%d-%H%M%S')}-{len(list(self.emails.iterdir())) + 1:03d}.eml"
        )
        path.write_text(message + "\n")
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return (
            f"email to {headers.get('To', '?')}: {headers.get('Subject', '(no subject)')}  "
            f"(whole message: {shown})"
        )


class Supervised:
    def __init__(self, name: str, command: list[str], emails: Path):
        self.name = name
        self.command = command
        self.filter = LogFilter(name, emails)
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.backoff = 1.0
        self.restarts = 0

    def start(self) -> None:
        self.filter.restarted()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own commands, from main()
            self.command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()

    def _pump(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            shown = self.filter.feed(line)
            if shown is not None:
                say(self.name, shown)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def check(self) -> None:
        """Restart the process if it has exited (after a backoff when it keeps dying young)."""
        code = self.process.poll()
        if code is None:
            return
        lived = time.monotonic() - self.started_at
        self.backoff = 1.0 if lived > HEALTHY_AFTER else min(MAX_BACKOFF, self.backoff * 2)
        self.restarts += 1
        say(
            "supervisor",
            f"{self.name} exited with code {code} after {lived:.0f}s; restarting it in "
            f"{self.backoff:.0f}s (restart {self.restarts})",
        )
        time.sleep(self.backoff)
        self.start()


def wait_then_welcome(port: int, welcome: Path, stopping: threading.Event) -> None:
    """Print the logins once the web server answers, not before: until then the URLs would not work."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz/web", headers={"Host": "localhost"})
    while not stopping.wait(0.5):
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - http, our port
                if response.status == 200:
                    break
        except OSError:
            continue
    if stopping.is_set():
        return
    text = welcome.read_text() if welcome.exists() else "Textback demo is ready."
    with _print_lock:
        print(f"\n{text.strip()}\n\n  Ctrl-C stops everything.\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--welcome", type=Path, required=True, help="text to print once the web server answers"
    )
    args = parser.parse_args()

    emails = ROOT / "var" / "emails"
    celery = str(BIN / "celery")
    processes = [
        Supervised("web", [sys.executable, "manage.py", "runserver", str(args.port)], emails),
        Supervised(
            "worker",
            [
                celery,
                "-A",
                "config",
                "-q",
                "worker",
                "--loglevel",
                "INFO",
                "--queues",
                "celery",
                "--concurrency",
                "2",
                "--hostname",
                "demo@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            emails,
        ),
        # The texts: the sends queue on a pool of threads, as in production (config/settings/base.py).
        Supervised(
            "sender",
            [
                celery,
                "-A",
                "config",
                "-q",
                "worker",
                "--loglevel",
                "INFO",
                "--queues",
                "sends",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--hostname",
                "demo-sender@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            emails,
        ),
        Supervised(
            "beat",
            [
                celery,
                "-A",
                "config",
                "-q",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(ROOT / "var" / "celerybeat-schedule"),
            ],
            emails,
        ),
    ]
    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for process in processes:
        process.start()
    threading.Thread(target=wait_then_welcome, args=(args.port, args.welcome, stopping), daemon=True).start()
    while not stopping.wait(0.5):
        for process in processes:
            process.check()
    say("supervisor", "stopping web, worker, sender and beat")
    for process in processes:
        process.stop()


if __name__ == "__main__":
    main()
