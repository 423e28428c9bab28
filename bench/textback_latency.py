"""Missed call → text-back latency on the production-like stack: from the dial-complete webhook that makes a call
missed to the SMS request reaching Twilio's API (a fake Twilio on 127.0.0.1), under an open-loop load.

    .venv/bin/python bench/textback_latency.py [--phases 20:15,100:10] [--clients 200]
        [--web-worker-class sync|gthread --web-workers 3] [--worker-concurrency 4] [--ring-seconds 1]
        [--worker-settings config.settings.base|bench.settings_worker_reuse]

What runs: gunicorn (config.wsgi, DEBUG off; 3 sync workers as the Dockerfile ships), the Celery worker (prefork
x2), the sender (the sends queue on a pool of 32 threads: many sends in flight while Twilio answers in
--twilio-latency-ms, 200 by default) and beat, the fake Twilio (`python -m tests.twilio_fake`) as its own process, all against the database
`textback_bench` (created and migrated when missing) with broker and cache on Redis database 5 (flushed at start
and end). The bench agency and its clients (200 by default: text delay 0, forward mode, numbers +1312555xxxx)
are created once and reused; their callers' data is deleted before each run. Before each phase the script
waits (up to --wait-quiet seconds) for other work on the machine to stop, and reports how busy it was.

Each call has a caller number used only once, so its text is found at the fake by its To. The incoming-call
webhook is sent at the call's scheduled time (start + i/rate, whatever the responses: open loop), the
dial-complete (DialCallStatus=no-answer) --ring-seconds later — or as soon as the incoming one was answered if
that took longer, as Twilio too only reports a <Dial> it was given. At R calls/s the web tier thus receives 2R
webhooks/s. Latency is t1 - t0: t0 just before the dial-complete is sent, t1 the fake's received_at of the
message to that caller. A text that has not arrived when --drain-timeout runs out is "missing".

Columns: achieved/s — dial-completes sent per second; non200 — webhooks not answered 200 (either kind);
hook_* — the dial-complete's response time, in_hook_* — the incoming one's; gen_lag_p99 — how late the load
generator sent incoming webhooks (its own health); dc_late_p99 — how late dial-completes went out because the
incoming webhook was still unanswered; busy_before — cores in use on the machine just before the phase.
Then: where the time went (t0 → the ledger's dispatched_at, i.e. handed to the broker; → the worker's line-type
lookup reaching the fake; → the SMS), the CPU each part used (cores, and ms per missed call; "postgres" is the
whole server, "others" the kernel and anyone else), and what the deliver_send tasks returned.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import time
import uuid
from dataclasses import dataclass

import _stack
from _common import percentile, print_table, report


@dataclass
class Call:
    n: int
    client_number: str
    caller: str
    call_sid: str
    incoming: tuple[bytes, str] = (b"", "")
    dial_complete: tuple[bytes, str] = (b"", "")
    in_status: int | str = 0
    in_seconds: float = 0.0
    in_lag: float = 0.0
    dc_status: int | str = 0
    dc_seconds: float = 0.0
    dc_lag: float = 0.0
    dc_sent_mono: float = 0.0
    t0: float = 0.0  # wall clock, just before the dial-complete is sent


INCOMING = "/hooks/twilio/voice/incoming/"
DIAL_COMPLETE = "/hooks/twilio/voice/dial-complete/"


def make_calls(
    count: int, first_n: int, clients: list, public_base_url: str, rng: random.Random
) -> list[Call]:
    calls = []
    for n in range(first_n, first_n + count):
        client_number = str(rng.choice(clients).phone_number)
        call = Call(
            n=n, client_number=client_number, caller=_stack.caller_number(n), call_sid="CA" + uuid.uuid4().hex
        )
        params = _stack.voice_params(call_sid=call.call_sid, caller=call.caller, to=client_number)
        call.incoming = _stack.signed(public_base_url, INCOMING, params)
        call.dial_complete = _stack.signed(
            public_base_url,
            DIAL_COMPLETE,
            {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer", "DialCallDuration": "0"},
        )
        calls.append(call)
    return calls


async def drive(calls: list[Call], *, rate: float, ring_seconds: float, port: int, host: str) -> None:
    """Open loop: call i's incoming webhook at start + i/rate, its dial-complete ring_seconds later (or as soon
    as the incoming one was answered, if that took longer)."""
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)

    async def post(session, path: str, signed: tuple[bytes, str]) -> tuple[int | str, float]:
        body, signature = signed
        started = time.perf_counter()
        try:
            async with session.post(
                base + path,
                data=body,
                headers={
                    "Host": host,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                },
            ) as response:
                await response.read()
                status = response.status
        except Exception as exc:  # a refused or dropped connection, a timeout: counted, not fatal
            status = f"error:{type(exc).__name__}"
        return status, time.perf_counter() - started

    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",)
    ) as session:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.2

        async def one(i: int, call: Call) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            call.in_lag = loop.time() - scheduled
            call.in_status, call.in_seconds = await post(session, INCOMING, call.incoming)
            scheduled += ring_seconds
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            call.dc_lag = loop.time() - scheduled
            call.dc_sent_mono = loop.time()
            call.t0 = time.time()
            call.dc_status, call.dc_seconds = await post(session, DIAL_COMPLETE, call.dial_complete)

        await asyncio.gather(*(one(i, call) for i, call in enumerate(calls)))


def wait_for_ledger(calls: list[Call], timeout: float) -> tuple[bool, float]:
    """Wait until every call's ledger row is final (sent, skipped, failed). Returns (all final, seconds)."""
    from django.db import connection

    from messaging.models import OutboundSend

    sids = [call.call_sid for call in calls]
    started = time.monotonic()
    final = {OutboundSend.State.SENT, OutboundSend.State.SKIPPED, OutboundSend.State.FAILED}
    while True:
        states = list(OutboundSend.objects.filter(call_sid__in=sids).values_list("state", flat=True))
        done = len(states) == len(sids) and all(state in final for state in states)
        if done or time.monotonic() - started > timeout:
            connection.close()
            return done, time.monotonic() - started
        time.sleep(0.5)


def ms(values: list[float], pct: float | None = None) -> float | str:
    if not values:
        return "-"
    return round((max(values) if pct is None else percentile(values, pct)) * 1000, 1)


def analyse(
    name: str,
    rate: float,
    calls: list[Call],
    fake_url: str,
    cpu: dict[str, float],
    drain_seconds: float,
    all_final: bool,
) -> tuple[dict, dict, dict]:
    from messaging.models import OutboundSend

    messages = _stack.fake_get(fake_url, "messages")
    requests = _stack.fake_get(fake_url, "requests")
    texts: dict[str, list[dict]] = {}
    for message in messages:
        texts.setdefault(message["to"], []).append(message)
    lookups: dict[str, float] = {}
    for request in requests:
        if request.get("operation") == "FetchPhoneNumber":
            number = request["path"].rsplit("/", 1)[-1]
            lookups.setdefault(number, request["received_at"])
    ledger = {
        row["call_sid"]: row
        for row in OutboundSend.objects.filter(call_sid__in=[c.call_sid for c in calls]).values(
            "call_sid", "state", "reason", "dispatched_at"
        )
    }

    latency, to_enqueued, to_lookup, lookup_to_sms = [], [], [], []
    missing = duplicates = 0
    states: dict[str, int] = {}
    for call in calls:
        row = ledger.get(call.call_sid)
        state = (
            "no ledger row"
            if row is None
            else row["state"] + (f" ({row['reason']})" if row["reason"] else "")
        )
        states[state] = states.get(state, 0) + 1
        if row is not None and row["dispatched_at"] is not None:
            to_enqueued.append(row["dispatched_at"].timestamp() - call.t0)
        got = texts.get(call.caller, [])
        if not got:
            missing += 1
            continue
        duplicates += len(got) - 1
        t1 = got[0]["received_at"]
        latency.append(t1 - call.t0)
        if call.caller in lookups:
            to_lookup.append(lookups[call.caller] - call.t0)
            lookup_to_sms.append(t1 - lookups[call.caller])

    n = len(calls)
    sent_at = sorted(call.dc_sent_mono for call in calls)
    achieved = (n - 1) / (sent_at[-1] - sent_at[0]) if n > 1 and sent_at[-1] > sent_at[0] else float("nan")
    bad = [c for c in calls for status in (c.in_status, c.dc_status) if status != 200]
    row = {
        "phase": name,
        "target/s": rate,
        "achieved/s": round(achieved, 1),
        "calls": n,
        "texts": len(latency),
        "missing": missing,
        "dupes": duplicates,
        "non200": len(bad),
        "p50_ms": ms(latency, 50),
        "p95_ms": ms(latency, 95),
        "p99_ms": ms(latency, 99),
        "max_ms": ms(latency),
        "hook_p50_ms": ms([c.dc_seconds for c in calls], 50),
        "hook_p99_ms": ms([c.dc_seconds for c in calls], 99),
        "in_hook_p50_ms": ms([c.in_seconds for c in calls], 50),
        "in_hook_p99_ms": ms([c.in_seconds for c in calls], 99),
        "gen_lag_p99_ms": ms([c.in_lag for c in calls], 99),
        "dc_late_p99_ms": ms([c.dc_lag for c in calls], 99),
    }
    breakdown = {
        "phase": name,
        "enqueued_p50_ms": ms(to_enqueued, 50),
        "enqueued_p99_ms": ms(to_enqueued, 99),
        "lookup_p50_ms": ms(to_lookup, 50),
        "lookup_p99_ms": ms(to_lookup, 99),
        "sms_after_lookup_p50_ms": ms(lookup_to_sms, 50),
        "sms_after_lookup_p99_ms": ms(lookup_to_sms, 99),
        "ledger_states": states,
        "drained_in_s": round(drain_seconds, 1),
        "all_final": all_final,
        "non200_examples": sorted({str(s) for c in bad for s in (c.in_status, c.dc_status) if s != 200})[:5],
    }
    window = cpu.pop("_window", None)
    cpu_row = {"phase": name, **cpu, "window_s": window}
    return row, breakdown, cpu_row


def run_phase(name, rate, duration, calls, *, args, port, host, fake_url, meter) -> tuple[dict, dict, dict]:
    _stack.fake_post(fake_url, "reset")
    _stack.fake_latency(fake_url, args.twilio_latency_ms / 1000)  # the reset forgot it
    meter.start()
    started = time.monotonic()
    asyncio.run(drive(calls, rate=rate, ring_seconds=args.ring_seconds, port=port, host=host))
    all_final, drain = wait_for_ledger(calls, args.drain_timeout)
    time.sleep(0.3)  # let the last status callbacks and ledger writes settle before the CPU meter stops
    cpu = meter.stop()
    others = cpu["others"]
    window = time.monotonic() - started
    per_call = {
        part: round(cores * window / len(calls) * 1000, 1)
        for part, cores in cpu.items()
        if part not in ("machine", "others")
    }
    cpu = {
        **{f"{part} cores": cores for part, cores in cpu.items()},
        **{f"{part} ms/call": value for part, value in per_call.items()},
        "_window": round(window, 1),
    }
    row, breakdown, cpu_row = analyse(name, rate, calls, fake_url, cpu, drain, all_final)
    most = _stack.fake_get(fake_url, "concurrency")["max"]
    row["sends_in_flight_max"] = most.get("create", 0)
    row["lookups_in_flight_max"] = most.get("lookup", 0)
    row["others_cores"] = others  # CPU used meanwhile by the kernel and by anyone else's processes
    return row, breakdown, cpu_row


def parse_phases(text: str) -> list[tuple[float, float]]:
    phases = []
    for part in text.split(","):
        rate, _, seconds = part.partition(":")
        phases.append((float(rate), float(seconds or 10)))
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--phases",
        default="20:15,100:10",
        help="comma-separated RATE:SECONDS of missed calls per second (default 20:15,100:10)",
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--twilio-latency-ms",
        type=float,
        default=200.0,
        help="how long the fake Twilio takes to answer each lookup, send, list and fetch (default 200, as the "
        "real one takes 100-300 ms; 0 for an instant Twilio)",
    )
    parser.add_argument(
        "--ring-seconds",
        type=float,
        default=1.0,
        help="from a call's incoming webhook to its dial-complete (default 1)",
    )
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="at 20 calls/s, not recorded")
    parser.add_argument(
        "--web-worker-class",
        default="sync",
        choices=("sync", "gthread"),
        help="gunicorn worker class; default as the Dockerfile ships: --workers 3, sync",
    )
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=4, help="threads per worker (gthread only)")
    parser.add_argument(
        "--worker-concurrency", type=int, default=2, help="the worker of everything but the sends (prefork)"
    )
    parser.add_argument(
        "--sender-threads",
        type=int,
        default=32,
        help="the sender's threads (docker-compose.prod.yml's default)",
    )
    parser.add_argument("--worker-pool", default="prefork")
    parser.add_argument(
        "--worker-settings",
        default="config.settings.base",
        help="DJANGO_SETTINGS_MODULE of the Celery worker and beat (e.g. bench.settings_worker_reuse, "
        "a what-if that keeps database connections across tasks)",
    )
    parser.add_argument(
        "--worker-loglevel",
        default="INFO",
        help="celery worker --loglevel (INFO as in docker-compose.yml and ./run)",
    )
    parser.add_argument(
        "--redis-url",
        default=_stack.DEFAULT_REDIS_URL,
        help="broker and cache; a Redis database of its own, flushed at start and end",
    )
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="before each phase, wait up to this many seconds for other work on the machine to stop",
    )
    parser.add_argument(
        "--migrate", action="store_true", help="run manage.py migrate even if nothing is pending"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs (path printed)")
    parser.add_argument(
        "--name", default="textback_latency", help="results file name (bench/results/NAME.json)"
    )
    args = parser.parse_args()
    phases = parse_phases(args.phases)

    clients, port = _stack.fresh_run(
        clients=args.clients, redis_url=args.redis_url, force_migrate=args.migrate
    )
    host = f"localhost:{port}"
    public_base_url = f"http://{host}"
    env = _stack.base_env(REDIS_URL=args.redis_url, PUBLIC_BASE_URL=public_base_url)
    stack = _stack.Stack(env, keep_logs=args.keep_logs)
    rng = random.Random(20240601)
    web_desc = f"config.wsgi --workers {args.web_workers} --worker-class {args.web_worker_class}" + (
        f" --threads {args.web_threads}" if args.web_worker_class == "gthread" else ""
    )
    rows, breakdowns, cpu_rows = [], [], []
    try:
        fake_url = stack.start_fake()
        stack.env["TWILIO_API_BASE_URL"] = fake_url
        stack.start_web(
            port=port, workers=args.web_workers, threads=args.web_threads, worker_class=args.web_worker_class
        )
        worker_env = {**stack.env, "DJANGO_SETTINGS_MODULE": args.worker_settings}
        stack.start_worker(
            concurrency=args.worker_concurrency,
            pool=args.worker_pool,
            loglevel=args.worker_loglevel,
            env=worker_env,
        )
        stack.start_sender(threads=args.sender_threads, loglevel=args.worker_loglevel, env=worker_env)
        stack.start_beat(env=worker_env)
        meter = _stack.CpuMeter(
            stack.pgids(), {"redis": _stack.redis_server_pids(args.redis_url)}, this_process="load generator"
        )
        print(
            f"stack up: gunicorn {web_desc} on :{port}, celery worker {args.worker_pool} "
            f"x{args.worker_concurrency} and sender threads x{args.sender_threads} "
            f"(--loglevel {args.worker_loglevel}), fake Twilio {fake_url} answering in {args.twilio_latency_ms:g} ms",
            flush=True,
        )

        next_n = 0
        if args.warmup_seconds > 0:
            count = max(1, int(20 * args.warmup_seconds))
            calls = make_calls(count, next_n, clients, public_base_url, rng)
            next_n += count
            row, _, _ = run_phase(
                "warm-up",
                20,
                args.warmup_seconds,
                calls,
                args=args,
                port=port,
                host=host,
                fake_url=fake_url,
                meter=meter,
            )
            print(f"warm-up: {row['texts']}/{row['calls']} texts, p50 {row['p50_ms']} ms", flush=True)

        for rate, seconds in phases:
            count = max(1, int(rate * seconds))
            calls = make_calls(count, next_n, clients, public_base_url, rng)
            next_n += count
            name = f"{rate:g}/s x {seconds:g}s"
            background = _stack.wait_for_quiet_machine(args.wait_quiet)
            print(
                f"phase {name}: {count} missed calls (machine busy before: {background} cores) …", flush=True
            )
            stack.check_alive()
            row, breakdown, cpu_row = run_phase(
                name, rate, seconds, calls, args=args, port=port, host=host, fake_url=fake_url, meter=meter
            )
            row["busy_before"] = background
            rows.append(row)
            breakdowns.append(breakdown)
            cpu_rows.append(cpu_row)
            print(
                f"  p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, {row['texts']}/{row['calls']} texts",
                flush=True,
            )
        stack.check_alive()
        worker_log = stack.log("worker") + stack.log("sender")
        worker_errors = [line for line in worker_log.splitlines() if " ERROR " in line][:5]
        # What each deliver_send task returned ("busy": the ledger row was locked, so the task left it to the
        # sweep) and how many sends the beat sweep had to re-dispatch (visible at --worker-loglevel INFO).
        outcomes: dict[str, int] = {}
        for outcome in re.findall(r"deliver_send\[[^\]]+\] succeeded in [0-9.e-]+s: '([^']*)'", worker_log):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        redispatched = sum(int(n) for n in re.findall(r"sweep re-dispatched (\d+) sends", worker_log))
        violations = _stack.fake_get(fake_url, "violations")
    finally:
        stack.close()
        with contextlib.suppress(Exception):
            _stack.flush_redis(args.redis_url)
    if args.keep_logs:
        print(f"logs kept in {stack.tmp}")

    print()
    print_table(
        breakdowns,
        [
            "phase",
            "enqueued_p50_ms",
            "enqueued_p99_ms",
            "lookup_p50_ms",
            "lookup_p99_ms",
            "sms_after_lookup_p50_ms",
            "sms_after_lookup_p99_ms",
            "drained_in_s",
            "all_final",
        ],
        title="where the time goes (from t0: text handed to the broker; the worker's line-type lookup "
        "at the fake; then the SMS)",
    )
    parts = [key for key in cpu_rows[0] if key.endswith("cores")] if cpu_rows else []
    print_table(
        [{"phase": r["phase"], **{k.removesuffix(" cores"): r[k] for k in parts}} for r in cpu_rows],
        ["phase", *[k.removesuffix(" cores") for k in parts]],
        title="CPU used, in cores (2 on this machine), from the first webhook until every text was final",
    )
    per = [key for key in cpu_rows[0] if key.endswith("ms/call")] if cpu_rows else []
    print_table(
        [{"phase": r["phase"], **{k.removesuffix(" ms/call"): r[k] for k in per}} for r in cpu_rows],
        ["phase", *[k.removesuffix(" ms/call") for k in per]],
        title="CPU ms per missed call",
    )
    for breakdown in breakdowns:
        print(
            f"ledger {breakdown['phase']}: {breakdown['ledger_states']}"
            + (f"; non-200: {breakdown['non200_examples']}" if breakdown["non200_examples"] else "")
        )
    noisy = [row["phase"] for row in rows if row["others_cores"] > 0.25]
    if noisy:
        print(
            f"WARNING: other work used more than 0.25 cores during {', '.join(noisy)} (others_cores): those "
            "numbers are inflated by it; rerun on a quiet machine."
        )
    print(
        f"deliver_send results over the whole run (warm-up included): {outcomes or 'not logged'}; "
        f"sends re-dispatched by the beat sweep: {redispatched}"
    )
    held = [
        r
        for r in rows
        if r["p99_ms"] is not None and r["p99_ms"] <= 300 and not r["missing"] and not r["dupes"]
    ]
    broke = [r for r in rows if r not in held]
    print(
        f"Twilio answering in {args.twilio_latency_ms:g} ms: p99 <= 300 ms with nothing lost or doubled up to "
        + (f"{max(r['target/s'] for r in held):g} missed calls/s" if held else "no rate tried")
        + (
            f"; saturated at {min(r['target/s'] for r in broke):g}/s"
            if broke
            else "; not saturated by any rate tried"
        )
    )
    if worker_errors:
        print("worker errors (first 5):\n  " + "\n  ".join(worker_errors))
    if violations:
        print(
            f"{len(violations)} requests to the fake broke Twilio's API spec, e.g. {violations[0]['problem']}"
        )
    print()
    report(
        args.name,
        rows,
        [
            "phase",
            "achieved/s",
            "calls",
            "texts",
            "missing",
            "dupes",
            "non200",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
            "hook_p50_ms",
            "hook_p99_ms",
            "in_hook_p50_ms",
            "in_hook_p99_ms",
            "gen_lag_p99_ms",
            "dc_late_p99_ms",
            "sends_in_flight_max",
            "lookups_in_flight_max",
            "busy_before",
            "others_cores",
        ],
        {
            "settings": {
                "clients": args.clients,
                "twilio_latency_ms": args.twilio_latency_ms,
                "ring_seconds": args.ring_seconds,
                "gunicorn": web_desc,
                "celery_worker": f"--pool {args.worker_pool} --concurrency {args.worker_concurrency} "
                f"--loglevel {args.worker_loglevel}",
                "celery_sender": f"--queues sends --pool threads --concurrency {args.sender_threads}",
                "worker_settings": args.worker_settings,
                "celery_beat": True,
                "debug": False,
                "redis_url": args.redis_url,
                "target": "p99 <= 300 ms at 50 missed calls/s (100/s stretch), 0 lost, 0 duplicates",
            },
            "breakdown": breakdowns,
            "cpu": cpu_rows,
            "worker_errors": worker_errors,
            "deliver_send_results": outcomes,
            "sweep_redispatched": redispatched,
            "fake_twilio_spec_violations": len(violations),
        },
    )


if __name__ == "__main__":
    main()
