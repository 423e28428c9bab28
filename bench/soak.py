"""Soak: missed calls at a steady rate for a long time while the faults of issue 15's table are injected in turn,
and what callers would notice: texts lost, texts sent twice, and how late they came.

    .venv/bin/python bench/soak.py [--minutes 20] [--rate 10] [--clients 200] [--fault-every 120]
        [--latency 0.2] [--name soak]

What runs: the stack of bench/textback_latency.py (gunicorn with 3 sync workers, a prefork Celery worker x2, the
sender (the sends queue on 32 threads), beat, the fake Twilio as its own process, DEBUG off) on a database of its own (`textback_soak`, created,
migrated and given its clients the first time) and a Redis of its own (a private redis-server on a free port,
append-only file on, as in docker-compose.prod.yml), so that stopping them touches nobody else. Like production
(`restart: unless-stopped`) a supervisor restarts any process that exits; restarts are counted per fault.

Load: `--rate` missed calls per second (incoming webhook, then dial-complete 1 s later; open loop), each from a
caller of its own, to the clients in random order. Twilio answers every request (lookups, sends, lists) in `--latency` seconds.

Faults, one every `--fault-every` seconds in this order (and round again), the first after one interval:
    redis-stop        Redis stopped for 10 s
    redis-restarts    Redis restarted 5 times in 50 s
    postgres-restart  every connection of the stack terminated and new ones refused for 10 s (on the soak's own
                      database; the machine's server is shared, so it is not really restarted)
    sender-kill       Twilio answers in 3 s; the sender is SIGKILLed mid-send; Twilio back to --latency
    beat-kill         beat SIGKILLed (its supervisor restarts it)
    twilio-500        Twilio answers 500 for 60 s (the issue says 2 minutes; a fault slot is 2 minutes)
    twilio-slow       Twilio answers in 5 s for 30 s; the stack's Twilio timeout is 3 s here (production: 10 s),
                      so sends time out and must be reconciled, not resent

Per fault (the calls made from its start until the next fault's start): missed calls (dial-complete answered
200), refused (a webhook not answered 200: Twilio would retry or play its error; nothing was stored), texts,
late (no text yet when the drain ended, but the ledger still holds the send: a backlog, typically a machine too
busy for the rate), lost (no text and no open send in the ledger), duplicates (texts beyond one per caller),
p50 / p99 / max of
call → text, and "after_end_max": the worst of text − max(call, fault end), which the issue wants within 30 s.
Results also go to bench/results/NAME.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field

os.environ.setdefault("BENCH_DB", "textback_soak")

import _stack  # noqa: E402 - after BENCH_DB is chosen
from _common import percentile, report  # noqa: E402
from textback_latency import drive, make_calls  # noqa: E402 - the same load generator

TARGET_AFTER_END = 30.0
APP_NAME = "textback-soak"  # PostgreSQL application_name of every stack process (what the fault terminates)


@dataclass
class Fault:
    name: str
    started: float = 0.0  # wall clock
    ended: float = 0.0  # when the fault condition was over
    restarts: dict[str, int] = field(default_factory=dict)


class SoakStack(_stack.Stack):
    """bench/_stack.Stack with a Redis of its own (a fault stops it) and the supervisor (tests/stack.py's), which
    restarts what exits by itself and, here, says so on the console too."""

    def on_restart(self, name: str, code: int | None) -> None:
        super().on_restart(name, code)
        print(f"  supervisor: {name} exited; restarting it", flush=True)


def database_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{_stack.PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def inject(fault: Fault, stack: SoakStack, *, fake_url: str, latency: float) -> None:
    """Do the fault; return when it is over (fault.ended set)."""
    fake = lambda name, **kwargs: _stack.fake_post(fake_url, name, kwargs)  # noqa: E731
    if fault.name == "redis-stop":
        stack.stop_redis()
        time.sleep(10)
        stack.start_redis()
    elif fault.name == "redis-restarts":
        for _ in range(5):
            stack.restart_redis()
            time.sleep(10)
    elif fault.name == "postgres-restart":
        database_admin(f'ALTER DATABASE "{_stack.BENCH_DB}" ALLOW_CONNECTIONS false')
        try:
            database_admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{_stack.BENCH_DB}' AND application_name = '{APP_NAME}'"
            )
            time.sleep(10)
        finally:
            database_admin(f'ALTER DATABASE "{_stack.BENCH_DB}" ALLOW_CONNECTIONS true')
    elif fault.name == "sender-kill":
        _stack.fake_latency(fake_url, 3.0)
        time.sleep(2)  # sends are in flight, waiting on Twilio
        stack.kill("sender")
        time.sleep(3)
        _stack.fake_latency(fake_url, latency)
    elif fault.name == "beat-kill":
        stack.kill("beat")
    elif fault.name == "twilio-500":
        fake("fail_for", seconds=60.0, status=500)
        time.sleep(60)
    elif fault.name == "twilio-slow":
        _stack.fake_latency(fake_url, 5.0)
        time.sleep(30)
        _stack.fake_latency(fake_url, latency)
    else:
        raise ValueError(fault.name)
    fault.ended = time.time()


FAULTS = [
    "redis-stop",
    "redis-restarts",
    "postgres-restart",
    "sender-kill",
    "beat-kill",
    "twilio-500",
    "twilio-slow",
]


def run_faults(faults: list[Fault], *, every: float, stop: threading.Event, **kwargs) -> None:
    stack = kwargs["stack"]
    for fault in faults:
        if stop.wait(every):
            return
        before = dict(stack.restarts)
        fault.started = time.time()
        print(f"{time.strftime('%H:%M:%S')} fault: {fault.name}", flush=True)
        try:
            inject(fault, **kwargs)
        except Exception as exc:  # report it; the soak goes on
            print(f"  fault {fault.name} could not be injected: {exc!r}", flush=True)
            fault.ended = time.time()
        # Restarts that this fault caused show within a few seconds of it.
        stop.wait(5)
        fault.restarts = {
            name: count - before.get(name, 0)
            for name, count in stack.restarts.items()
            if count != before.get(name, 0)
        }


def drain(calls, fake_url: str, timeout: float) -> dict[str, list[float]]:
    """Wait until every missed call has its text, or nothing new arrived for 30 s, or timeout. → caller → the
    times (received_at) of the texts to them."""
    wanted = {call.caller for call in calls if call.dc_status == 200}
    deadline = time.monotonic() + timeout
    last_count, last_change = -1, time.monotonic()
    while True:
        texts: dict[str, list[float]] = {}
        for message in _stack.fake_get(fake_url, "messages"):
            texts.setdefault(message["to"], []).append(message["received_at"])
        if wanted <= texts.keys() or time.monotonic() > deadline or time.monotonic() - last_change > 30:
            return texts
        count = sum(map(len, texts.values()))
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        time.sleep(2)


def ledger_states(calls) -> dict[str, str]:
    """call_sid → the state of its text-back in the ledger when the drain ended: a call with no text is "late"
    while its send is still pending or sending (the ledger will send it), "lost" otherwise."""
    from django.db import connection

    from messaging.models import OutboundSend

    connection.close()  # this process's connection was cut too, by the PostgreSQL fault
    sids = [call.call_sid for call in calls]
    return dict(OutboundSend.objects.filter(call_sid__in=sids).values_list("call_sid", "state"))


def analyse(calls, texts, ledger: dict[str, str], faults: list[Fault], started: float) -> list[dict]:
    windows = [("(before the first fault)", started, 0.0, {})]
    windows += [(fault.name, fault.started, fault.ended, fault.restarts) for fault in faults if fault.started]
    rows = []
    for i, (name, start, ended, restarts) in enumerate(windows):
        end = windows[i + 1][1] if i + 1 < len(windows) else float("inf")
        mine = [call for call in calls if start <= call.t0 < end]
        missed = [call for call in mine if call.dc_status == 200]
        delays = sorted(texts[call.caller][0] - call.t0 for call in missed if call.caller in texts)
        after_end = [texts[call.caller][0] - max(call.t0, ended) for call in missed if call.caller in texts]
        rows.append(
            {
                "fault": name,
                "missed_calls": len(missed),
                "refused": len(mine) - len(missed),
                "texts": sum(len(texts.get(call.caller, [])) for call in missed),
                "late": sum(
                    1
                    for call in missed
                    if call.caller not in texts and ledger.get(call.call_sid) in ("pending", "sending")
                ),
                "lost": sum(
                    1
                    for call in missed
                    if call.caller not in texts and ledger.get(call.call_sid) not in ("pending", "sending")
                ),
                "duplicates": sum(
                    len(texts.get(call.caller, [])) - 1 for call in missed if call.caller in texts
                ),
                "p50_s": round(percentile(delays, 50), 2) if delays else "-",
                "p99_s": round(percentile(delays, 99), 2) if delays else "-",
                "max_s": round(delays[-1], 2) if delays else "-",
                "after_end_max_s": round(max(after_end), 2) if after_end else "-",
                "restarts": ", ".join(f"{k} x{v}" for k, v in sorted(restarts.items())) or "none",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=10.0, help="missed calls per second")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--fault-every", type=float, default=120.0, help="seconds between faults")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds Twilio takes to answer a create")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--sender-threads", type=int, default=32)
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help="which faults, in this order (and round again)"
    )
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument("--name", default="soak", help="results file name (bench/results/NAME.json)")
    args = parser.parse_args()

    redis_port, port = _stack.free_port(), _stack.free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    host = f"localhost:{port}"
    public_base_url = f"http://{host}"
    busy_before = _stack.machine_busy_cores(2.0)
    env = _stack.base_env(
        REDIS_URL=redis_url, PUBLIC_BASE_URL=public_base_url, PGAPPNAME=APP_NAME, TWILIO_TIMEOUT_SECONDS="3"
    )
    stack = SoakStack(env, keep_logs=args.keep_logs, redis_port=redis_port)
    stop = threading.Event()
    try:
        stack.start_redis()
        clients, _ = _stack.fresh_run(clients=args.clients, redis_url=redis_url, force_migrate=args.migrate)
        count = int(args.rate * args.minutes * 60)
        calls = make_calls(count, 0, clients, public_base_url, random.Random(15))
        chosen = [name for name in args.faults.split(",") if name]
        unknown = set(chosen) - set(FAULTS)
        if unknown or not chosen:
            raise SystemExit(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
        faults = [Fault(chosen[i % len(chosen)]) for i in range(int(args.minutes * 60 // args.fault_every))]
        fake_url = stack.start_fake()
        _stack.fake_latency(fake_url, args.latency)
        stack.env["TWILIO_API_BASE_URL"] = fake_url
        stack.start_web(port=port, workers=3, threads=1, worker_class="sync")
        stack.start_worker(concurrency=args.worker_concurrency)
        stack.start_sender(threads=args.sender_threads)
        stack.start_beat()
        stack.supervise()
        print(
            f"{time.strftime('%H:%M:%S')} soak: {count} missed calls at {args.rate:g}/s over {len(clients)} "
            f"clients for {args.minutes:g} min, {len(faults)} faults; machine busy before: {busy_before} "
            f"cores",
            flush=True,
        )
        started = time.time()
        injector = threading.Thread(
            target=run_faults,
            args=(faults,),
            kwargs=dict(
                every=args.fault_every,
                stop=stop,
                stack=stack,
                fake_url=fake_url,
                latency=args.latency,
            ),
            daemon=True,
        )
        injector.start()
        meter = _stack.CpuMeter(stack.pgids(), this_process="load generator")
        meter.start()
        asyncio.run(drive(calls, rate=args.rate, ring_seconds=1.0, port=port, host=host))
        cpu = meter.stop()
        stop.set()
        injector.join(timeout=120)
        print(f"{time.strftime('%H:%M:%S')} load done; waiting for the last texts …", flush=True)
        texts = drain(calls, fake_url, args.drain_timeout)
        violations = _stack.fake_get(fake_url, "violations")
        ledger = ledger_states(calls)
    finally:
        stop.set()
        try:
            stack.close()
        except Exception as exc:  # the results are in hand: say so and go on to them
            print(f"could not clean up the stack: {exc!r}", flush=True)

    rows = analyse(calls, texts, ledger, faults, started)
    total = {
        key: sum(row[key] for row in rows)
        for key in ("missed_calls", "refused", "texts", "late", "lost", "duplicates")
    }
    columns = [
        "fault",
        "missed_calls",
        "refused",
        "texts",
        "late",
        "lost",
        "duplicates",
        "p50_s",
        "p99_s",
        "max_s",
        "after_end_max_s",
        "restarts",
    ]
    report(
        args.name,
        rows,
        columns,
        extra={
            "what": "bench/soak.py: missed calls under the faults of issue 15, in turn",
            "args": vars(args),
            "machine_busy_before_cores": busy_before,
            "cpu_cores": cpu,
            "total": total,
            "twilio_violations": len(violations),
            "target": f"0 lost, 0 duplicates, every text within {TARGET_AFTER_END:g} s of its fault ending",
        },
    )
    print(f"total: {total}; Twilio API violations: {len(violations)}; CPU (cores): {cpu}")
    sys.exit(0 if total["lost"] == 0 and total["duplicates"] == 0 else 1)


if __name__ == "__main__":
    main()
