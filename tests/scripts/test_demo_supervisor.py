"""./run demo's supervisor: a process that dies comes back and the log says so; the log stays readable."""

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("demo_supervisor", ROOT / "scripts" / "demo_supervisor.py")
demo_supervisor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo_supervisor)

EMAIL = """[2026-12-07 01:48:27,869: WARNING/ForkPoolWorker-2] Content-Type: text/plain; charset="utf-8"
MIME-Version: 1.0
Subject: Missed call from +13125550177 at Acme Plumbing
From: "Bright Local Marketing" <no-reply@localhost>
To: owner@acme-plumbing.test

+13125550177 called Acme Plumbing and nobody picked up.
Subject: not a header
http://acme-plumbing.localhost:8000/inbox/
[2026-12-07 01:48:27,869: WARNING/ForkPoolWorker-2] -------------------------------------------------------------------------------
"""


def shown(log_filter, text: str) -> list[str]:
    return [line for line in map(log_filter.feed, text.splitlines(keepends=True)) if line is not None]


def test_an_email_is_one_line_and_the_whole_message_is_kept(tmp_path):
    log_filter = demo_supervisor.LogFilter("worker", tmp_path / "emails")
    log_filter.in_banner = False
    [line] = shown(log_filter, EMAIL)
    assert line.startswith(
        "email to owner@acme-plumbing.test: Missed call from +13125550177 at Acme Plumbing"
    )
    [saved] = (tmp_path / "emails").iterdir()
    assert "http://acme-plumbing.localhost:8000/inbox/" in saved.read_text()
    assert str(saved.name) in line


def test_celerys_banner_and_the_sweeps_are_left_out(tmp_path):
    log_filter = demo_supervisor.LogFilter("beat", tmp_path)
    lines = shown(
        log_filter,
        "celery beat v5.7.0 (collider) is starting.\n__    -    ... __   -        _\n"
        "LocalTime -> 2026-12-07 01:47:13\n"
        "[2026-12-07 01:47:14,001: INFO/MainProcess] beat: Starting...\n"
        "[2026-12-07 01:47:15,001: INFO/MainProcess] Scheduler: Sending due task "
        "sweep-due-sends (messaging.tasks.sweep_due_sends)\n"
        "[2026-12-07 01:47:16,001: ERROR/MainProcess] beat: Connection error\n",
    )
    assert lines == ["beat started", "[2026-12-07 01:47:16,001: ERROR/MainProcess] beat: Connection error"]


def test_a_process_that_dies_is_restarted_and_the_log_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo_supervisor.time, "sleep", lambda seconds: None)
    dying = demo_supervisor.Supervised(
        "web", [sys.executable, "-c", "print('up'); raise SystemExit(3)"], tmp_path
    )
    dying.start()
    dying.process.wait(timeout=10)
    dying.check()
    dying.process.wait(timeout=10)
    # The output pump is a thread: wait for the restarted process's line. (time.sleep is patched out above, and
    # it is the same module everywhere, so the wait uses an Event's.)
    out, deadline = "", time.monotonic() + 10
    while out.count("web       | up") < 2 and time.monotonic() < deadline:
        threading.Event().wait(0.05)
        out += capsys.readouterr().out
    assert dying.restarts == 1
    assert "web exited with code 3" in out and "restarting it in 2s (restart 1)" in out
    assert out.count("web       | up") == 2


@pytest.mark.parametrize("lived, backoff", [(60.0, 1.0), (1.0, 4.0)])
def test_one_that_keeps_dying_young_is_waited_for_longer(tmp_path, monkeypatch, lived, backoff):
    monkeypatch.setattr(demo_supervisor.time, "sleep", lambda seconds: None)
    process = demo_supervisor.Supervised("beat", [sys.executable, "-c", "raise SystemExit(1)"], tmp_path)
    process.start()
    process.process.wait(timeout=10)
    process.backoff = 2.0
    process.started_at = time.monotonic() - lived
    process.check()
    assert process.backoff == backoff
    process.stop()
