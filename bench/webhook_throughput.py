"""Signed Twilio webhooks per second on the production server setup, next to a bare Django view behind the same
middleware, as a ratio (target: webhooks at >= 0.5 of the bare view).

    .venv/bin/python bench/webhook_throughput.py [--connections 8,32,128] [--duration 10] [--warmup 3]
        [--targets bare-get,bare-post,lookup,incoming,dial-complete]
        [--web-worker-class sync|gthread --web-workers 3 --web-threads 4]

Needs `wrk` (Debian package `wrk`). What runs: gunicorn (config.wsgi, DEBUG off; 3 sync workers as the
Dockerfile ships, without its access log unless --access-log) with
DJANGO_SETTINGS_MODULE=bench.settings_bench — the production settings whose platform-host URLconf
(bench.urls_bench) adds /bench/bare/ (a view returning "ok") and /bench/lookup/, so they pass the same
middleware as the webhooks —
against the database `textback_bench` (created and migrated when missing; the bench clients of
bench/textback_latency.py, 200 by default) and Redis database 5.

Targets:
  bare-get       GET  /bench/bare/
  bare-post      POST /bench/bare/ with an incoming-call webhook's form body and signature header (not checked)
  lookup         POST /bench/lookup/, the same body: finds the client by To (one query, as every webhook does
                 first) and answers "ok" — the floor for a view that touches the database at all
  incoming       POST /hooks/twilio/voice/incoming/, signed: checks the signature, finds the client by To, records
                 the contact and the call in the client's schema, answers <Dial> TwiML
  dial-complete  POST /hooks/twilio/voice/dial-complete/ with DialCallStatus=no-answer, signed: the missed-call
                 webhook — records the call as missed, writes the ledger row and queues the text-back on Redis
                 (no worker runs here: the queue is flushed afterwards)
Every webhook request is distinct (its own CallSid and caller, across 200 clients): wrk (bench/
webhook_throughput.lua) cycles through a file of pre-signed requests made for each run. Each target gets a
warm-up, then one run per connection count. wrk, gunicorn and PostgreSQL share the machine's cores; the CPU
table says who used what.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import subprocess
import uuid
from pathlib import Path

import _stack
from _common import print_table, report

LUA = Path(__file__).with_name("webhook_throughput.lua")
PATHS = {
    "bare-get": ("GET", "/bench/bare/"),
    "bare-post": ("POST", "/bench/bare/"),
    "lookup": ("POST", "/bench/lookup/"),
    "incoming": ("POST", "/hooks/twilio/voice/incoming/"),
    "dial-complete": ("POST", "/hooks/twilio/voice/dial-complete/"),
}


class RequestFiles:
    """Files of distinct, signed requests for wrk (one call per line, never reused across runs)."""

    def __init__(self, folder: Path, clients: list, public_base_url: str):
        self.folder = folder
        self.numbers = [str(client.phone_number) for client in clients]
        self.public_base_url = public_base_url
        self.next_caller = (
            random.Random().randrange(10_000) * 10_000
        )  # fresh callers on every run of the script
        self.made = 0
        self.rng = random.Random(7)

    def make(self, target: str, count: int) -> Path:
        method, path = PATHS[target]
        self.made += 1
        file = self.folder / f"{self.made:02d}-{target}.tsv"
        lines = []
        # The baselines change nothing, so their requests may repeat: a few hundred distinct lines do.
        for _ in range(count if target in ("incoming", "dial-complete") else min(count, 512)):
            params = _stack.voice_params(
                call_sid="CA" + uuid.uuid4().hex,
                caller=_stack.caller_number(self.next_caller),
                to=self.rng.choice(self.numbers),
            )
            self.next_caller += 1
            if target == "dial-complete":
                params.update(CallStatus="in-progress", DialCallStatus="no-answer", DialCallDuration="0")
            if target == "bare-get":
                lines.append(f"GET\t{path}\t\t")
                continue
            sign_path = PATHS["incoming"][1] if target in ("bare-post", "lookup") else path
            body, signature = _stack.signed(self.public_base_url, sign_path, params)
            lines.append(f"{method}\t{path}\t{signature}\t{body.decode()}")
        file.write_text("\n".join(lines) + "\n")
        return file


def run_wrk(
    stack: _stack.Stack,
    *,
    port: int,
    host: str,
    requests_file: Path,
    connections: int,
    seconds: float,
    threads: int,
    meter_groups: dict,
    pid_groups: dict,
) -> tuple[dict, dict]:
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
        host,
        str(threads),
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        cwd=_stack.ROOT,
    )
    stack.processes["wrk"] = process
    # wrk is measured once it has exited (this process's reaped children), so the meter starts right away.
    meter = _stack.CpuMeter(meter_groups, pid_groups, reaped_children="wrk")
    meter.start()
    try:
        output, _ = process.communicate(timeout=seconds + 60)
    finally:
        stack.processes.pop("wrk", None)
        if process.poll() is None:
            stack.processes["wrk"] = process
            stack.stop("wrk")
    cpu = meter.stop()
    line = next((line for line in output.splitlines() if line.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output[-3000:]}")
    return json.loads(line.removeprefix("BENCH_JSON ")), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="bare-get,bare-post,lookup,incoming,dial-complete")
    parser.add_argument("--connections", default="8,32,128", help="comma-separated wrk connection counts")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of warm-up per target (not recorded)"
    )
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--requests-per-run",
        type=int,
        default=6000,
        help="distinct webhook requests made for each run (a run that needs more repeats them, "
        "counted in 'repeats': raise this if it is not 0 for a webhook)",
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--web-worker-class",
        default="sync",
        choices=("sync", "gthread"),
        help="gunicorn worker class; default as the Dockerfile ships: --workers 3, sync",
    )
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=4, help="threads per worker (gthread only)")
    parser.add_argument(
        "--access-log", action="store_true", help="gunicorn --access-logfile - (as the Dockerfile)"
    )
    parser.add_argument(
        "--redis-url",
        default=_stack.DEFAULT_REDIS_URL,
        help="cache and broker; a Redis database of its own, flushed at start and end",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=10.0,
        help="before each run, wait up to this many seconds for other work on the machine to stop",
    )
    parser.add_argument(
        "--migrate", action="store_true", help="run manage.py migrate even if nothing is pending"
    )
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--name", default="webhook_throughput", help="results file name (bench/results/NAME.json)"
    )
    args = parser.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in PATHS]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {', '.join(PATHS)}")
    connection_counts = [int(c) for c in args.connections.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    clients, port = _stack.fresh_run(
        clients=args.clients, redis_url=args.redis_url, force_migrate=args.migrate
    )
    host = f"localhost:{port}"
    env = _stack.base_env(
        REDIS_URL=args.redis_url,
        PUBLIC_BASE_URL=f"http://{host}",
        DJANGO_SETTINGS_MODULE="bench.settings_bench",
        TWILIO_API_BASE_URL="http://127.0.0.1:9",
    )  # nothing here calls Twilio
    stack = _stack.Stack(env, keep_logs=args.keep_logs)
    files = RequestFiles(stack.tmp, clients, f"http://{host}")
    web_desc = (
        f"gunicorn config.wsgi --workers {args.web_workers} --worker-class {args.web_worker_class}"
        + (f" --threads {args.web_threads}" if args.web_worker_class == "gthread" else "")
        + (" --access-logfile -" if args.access_log else "")
    )
    rows = []
    try:
        stack.start_web(
            port=port,
            workers=args.web_workers,
            threads=args.web_threads,
            worker_class=args.web_worker_class,
            access_log=args.access_log,
        )
        print(f"{web_desc} on :{port} (DJANGO_SETTINGS_MODULE=bench.settings_bench, DEBUG=0)", flush=True)
        groups = {"web": stack.processes["web"].pid}
        pid_groups = {"redis": _stack.redis_server_pids(args.redis_url)}
        for target in targets:
            warm = files.make(target, max(2000, int(args.requests_per_run * args.warmup / args.duration)))
            run_wrk(
                stack,
                port=port,
                host=host,
                requests_file=warm,
                connections=max(connection_counts),
                seconds=args.warmup,
                threads=args.wrk_threads,
                meter_groups=groups,
                pid_groups=pid_groups,
            )
            for connections in connection_counts:
                requests_file = files.make(target, args.requests_per_run)
                background = _stack.wait_for_quiet_machine(args.wait_quiet)
                stack.check_alive()
                result, cpu = run_wrk(
                    stack,
                    port=port,
                    host=host,
                    requests_file=requests_file,
                    connections=connections,
                    seconds=args.duration,
                    threads=args.wrk_threads,
                    meter_groups=groups,
                    pid_groups=pid_groups,
                )
                requests_file.unlink()
                seconds = result["duration_us"] / 1e6
                rps = result["requests"] / seconds
                errors = sum(
                    result[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout")
                )
                row = {
                    "target": target,
                    "conns": connections,
                    "req_per_s": round(rps, 1),
                    "p50_ms": round(result["p50_us"] / 1000, 1),
                    "p99_ms": round(result["p99_us"] / 1000, 1),
                    "non2xx": result["non2xx"],
                    "sock_err": errors,
                    "requests": result["requests"],
                    "repeats": result["wrapped"],
                    "web_cores": cpu["web"],
                    "web_cpu_ms_per_req": round(cpu["web"] * seconds / max(1, result["requests"]) * 1000, 2),
                    "wrk_cores": cpu["wrk"],
                    "pg_cores": cpu["postgres"],
                    "redis_cores": cpu.get("redis", 0),
                    "others_cores": cpu["others"],
                    "background_before": background,
                    "statuses": result["statuses"],
                }
                rows.append(row)
                print(
                    f"  {target:13s} c={connections:<4d} {rps:8.1f} req/s  p50 {row['p50_ms']} ms  "
                    f"p99 {row['p99_ms']} ms  non-2xx {row['non2xx']}  web {cpu['web']} cores, "
                    f"others {cpu['others']}",
                    flush=True,
                )
        stack.check_alive()
    finally:
        stack.close()
        with contextlib.suppress(Exception):
            _stack.flush_redis(args.redis_url)
    if args.keep_logs:
        print(f"logs kept in {stack.tmp}")

    def best(target: str) -> dict | None:
        candidates = [r for r in rows if r["target"] == target]
        return max(candidates, key=lambda r: r["req_per_s"]) if candidates else None

    ratios = []
    for target in ("incoming", "dial-complete"):
        for baseline in ("bare-get", "bare-post", "lookup"):
            for connections in connection_counts:
                hook = next((r for r in rows if r["target"] == target and r["conns"] == connections), None)
                base = next((r for r in rows if r["target"] == baseline and r["conns"] == connections), None)
                if hook and base:
                    ratios.append(
                        {
                            "webhook": target,
                            "vs": baseline,
                            "conns": connections,
                            "ratio": round(hook["req_per_s"] / base["req_per_s"], 3),
                            "cpu_ratio": round(base["web_cpu_ms_per_req"] / hook["web_cpu_ms_per_req"], 3),
                        }
                    )
            hook, base = best(target), best(baseline)
            if hook and base:
                ratios.append(
                    {
                        "webhook": target,
                        "vs": baseline,
                        "conns": "best",
                        "ratio": round(hook["req_per_s"] / base["req_per_s"], 3),
                        "cpu_ratio": round(base["web_cpu_ms_per_req"] / hook["web_cpu_ms_per_req"], 3),
                    }
                )
    noisy = [f"{row['target']} c={row['conns']}" for row in rows if row["others_cores"] > 0.25]
    if noisy:
        print(
            f"\nWARNING: other work used more than 0.25 cores during {', '.join(noisy)} (others_cores): those "
            "numbers are lowered by it; rerun on a quiet machine."
        )
    print()
    print_table(
        ratios,
        ["webhook", "vs", "conns", "ratio", "cpu_ratio"],
        title="webhooks per second as a share of the bare view's (target >= 0.5); cpu_ratio = the same "
        "from gunicorn's CPU per request",
    )
    print()
    report(
        args.name,
        rows,
        [
            "target",
            "conns",
            "req_per_s",
            "p50_ms",
            "p99_ms",
            "non2xx",
            "sock_err",
            "repeats",
            "web_cores",
            "web_cpu_ms_per_req",
            "wrk_cores",
            "pg_cores",
            "redis_cores",
            "others_cores",
        ],
        {
            "ratios": ratios,
            "settings": {
                "gunicorn": web_desc,
                "wrk_threads": args.wrk_threads,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "clients": args.clients,
                "debug": False,
                "settings_module": "bench.settings_bench",
                "target": "webhooks >= 0.5 x bare view",
            },
        },
    )


if __name__ == "__main__":
    main()
