"""What one missed call costs, stage by stage, in one process: SQL statements, their server round trips, and
CPU. The load benchmark (bench/textback_latency.py) says how fast the whole stack is; this one says where
its work goes, quietly enough to compare two commits on a busy machine.

    .venv/bin/python bench/missed_call_cost.py [--calls 300] [--clients 200] [--profile STAGE]

Each call is a new caller to one of the bench clients (bench/_stack.py; forward mode, no delay), the whole
forward-mode call: the signed incoming-call webhook, the tasks it queued (run while the call rings), the
dial-complete (no-answer), the call's status callback and the text's delivery report, each through Django's whole
handler and middleware
(django.test.Client, production settings, DEBUG off), then every task they queued on the broker (Redis
database 5) is taken off it and run here as the worker would run it (in the schema it was sent from), with
the text going to a fake Twilio on 127.0.0.1. Statements are counted with a database execute wrapper; CPU is
this process's, and PostgreSQL's is its backend's (the one connection all the statements go through; read from
/proc, so PostgreSQL must run on this machine).

--profile STAGE prints cProfile's top functions for that stage (incoming, dial-complete, task:<dotted name>);
--show-sql STAGE the statements of its last run.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import statistics
import time
import uuid
from collections import defaultdict
from functools import partial

import _stack
from _common import report

PUBLIC_BASE_URL = "https://hooks.bench.test"
TICKS = os.sysconf("SC_CLK_TCK")


class Counter:
    """A database execute wrapper: counts statements (and the time spent waiting for them)."""

    def __init__(self):
        self.statements = 0
        self.wait = 0.0
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        self.sql.append(sql)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.wait += time.perf_counter() - started


def queued_tasks(redis_client) -> list[tuple[str, list, dict, str | None]]:
    """Every task message waiting on the broker's queues, removed: (name, args, kwargs, schema)."""
    tasks = []
    for key in redis_client.keys("*"):
        if redis_client.type(key) != b"list":
            continue
        while raw := redis_client.rpop(key):  # oldest first, as a worker takes them (kombu pushes left)
            message = json.loads(raw)
            headers = message["headers"]
            args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            tasks.append((headers["task"], args, kwargs, headers.get("_schema_name")))
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", default="", help="incoming, dial-complete or task:<dotted task name>")
    parser.add_argument("--show-sql", default="", help="a stage: print the statements of its last run")
    parser.add_argument("--redis-url", default=_stack.DEFAULT_REDIS_URL)
    options = parser.parse_args()

    from tests.twilio_fake import FakeTwilio

    fake = FakeTwilio(_stack.ACCOUNT_SID, _stack.AUTH_TOKEN).start()
    for key, value in _stack.base_env(
        PUBLIC_BASE_URL=PUBLIC_BASE_URL, TWILIO_API_BASE_URL=fake.base_url, REDIS_URL=options.redis_url
    ).items():
        os.environ[key] = value
    clients, _port = _stack.fresh_run(
        clients=options.clients, redis_url=options.redis_url, force_migrate=False
    )

    import redis
    from django.db import connection
    from django.test import Client as HttpClient

    from config.celery_app import app

    broker = redis.Redis.from_url(options.redis_url)
    http = HttpClient(HTTP_HOST="localhost")
    counter = Counter()
    stages: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    profiler = cProfile.Profile(time.process_time) if options.profile else None  # CPU, not waiting

    def backend_cpu() -> float:
        """Seconds of CPU the PostgreSQL backend serving this process's connection has used (all of this
        bench's statements go through that one connection)."""
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def measured(stage: str, fn, record: bool):
        counter.statements, counter.wait, counter.sql = 0, 0.0, []
        profiling = profiler is not None and record and stage == options.profile
        backend_before = backend_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        if profiling:
            profiler.enable()
        with connection.execute_wrapper(counter):
            result = fn()
        if profiling:
            profiler.disable()
        if record:
            row = stages[stage]
            row["pg_cpu_ms"].append((backend_cpu() - backend_before) * 1000)
            row["cpu_ms"].append((time.process_time() - cpu) * 1000)
            row["wall_ms"].append((time.perf_counter() - wall) * 1000)
            row["statements"].append(counter.statements)
            row["db_wait_ms"].append(counter.wait * 1000)
            last_sql[stage] = counter.sql
        return result

    def post(path: str, params: dict) -> None:
        body, signature = _stack.signed(PUBLIC_BASE_URL, path, params)
        response = http.post(
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=signature,
        )
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")

    last_sql: dict[str, list[str]] = {}
    outcomes: dict[str, int] = defaultdict(int)

    def run_queued(record: bool) -> None:
        for name, args, kwargs, schema in queued_tasks(broker):
            task = app.tasks[name]
            headers = {"_schema_name": schema} if schema else {}
            result = measured(
                f"task:{name}", partial(task.apply, args, kwargs, headers=headers, throw=True), record
            )
            if name.endswith("deliver_send") and record:
                outcomes[str(result.result)] += 1

    for n in range(options.warmup + options.calls):
        record = n >= options.warmup
        client = clients[n % len(clients)]
        params = _stack.voice_params(
            call_sid="CA" + uuid.uuid4().hex,
            caller=_stack.caller_number(900000 + n),
            to=str(client.phone_number),
        )
        measured("incoming", partial(post, "/hooks/twilio/voice/incoming/", params), record)
        run_queued(record)  # while the call rings (the line-type check)
        measured(
            "dial-complete",
            partial(
                post,
                "/hooks/twilio/voice/dial-complete/",
                {
                    **params,
                    "CallStatus": "in-progress",
                    "DialCallStatus": "no-answer",
                    "DialCallDuration": "0",
                },
            ),
            record,
        )
        run_queued(record)
        # The rest of the forward-mode call: Twilio's call status callback when the caller hangs up, and the
        # text's delivery report.
        measured(
            "call status",
            partial(
                post,
                "/hooks/twilio/voice/status/",
                {**params, "CallStatus": "completed", "CallDuration": "21"},
            ),
            record,
        )
        text = fake.messages_to(params["From"])
        if text:
            measured(
                "sms status",
                partial(
                    post,
                    "/hooks/twilio/sms/status/",
                    {
                        "MessageSid": text[-1]["sid"],
                        "MessageStatus": "delivered",
                        "From": text[-1]["from"],
                        "To": text[-1]["to"],
                        "AccountSid": _stack.ACCOUNT_SID,
                    },
                ),
                record,
            )
        run_queued(record)
        # The frameworks' floor, for scale: the same middleware, URL resolver and view decorators answering a GET
        # to the webhook with 405, and Celery running a task that does nothing, in the client's schema.
        measured("floor: a request", partial(http.get, "/hooks/twilio/voice/incoming/"), record)
        measured(
            "floor: a task",
            partial(app.tasks["celery.accumulate"].apply, (1,), headers={"_schema_name": client.schema_name}),
            record,
        )

    texts = len(fake.messages)
    fake.stop()
    floor = {
        stage: statistics.mean(stages.pop(stage)["cpu_ms"]) for stage in ("floor: a request", "floor: a task")
    }
    rows = []
    for stage, values in stages.items():
        rows.append(
            {
                "stage": stage,
                "runs": len(values["cpu_ms"]),
                "statements": round(statistics.mean(values["statements"]), 1),
                "cpu_ms_median": round(statistics.median(values["cpu_ms"]), 2),
                "wall_ms_median": round(statistics.median(values["wall_ms"]), 2),
                "db_wait_ms_median": round(statistics.median(values["db_wait_ms"]), 2),
                # The backend's clock ticks are 10 ms: only a mean over many runs says anything.
                "pg_cpu_ms_mean": round(statistics.mean(values["pg_cpu_ms"]), 2),
            }
        )
    per_call = {
        "statements": round(sum(r["statements"] * r["runs"] for r in rows) / options.calls, 1),
        "cpu_ms": round(
            sum(statistics.mean(v["cpu_ms"]) * len(v["cpu_ms"]) for v in stages.values()) / options.calls, 1
        ),
        "pg_cpu_ms": round(
            sum(statistics.mean(v["pg_cpu_ms"]) * len(v["pg_cpu_ms"]) for v in stages.values())
            / options.calls,
            1,
        ),
    }
    rows.append(
        {
            "stage": "per missed call",
            "runs": options.calls,
            "statements": per_call["statements"],
            "cpu_ms_median": per_call["cpu_ms"],
            "pg_cpu_ms_mean": per_call["pg_cpu_ms"],
        }
    )
    total = round(per_call["cpu_ms"] + per_call["pg_cpu_ms"], 1)
    print(
        f"a whole missed call: {total} ms of CPU ({per_call['cpu_ms']} in Django and Celery's code, mean over "
        f"stages; {per_call['pg_cpu_ms']} in PostgreSQL), target 15"
    )
    requests = sum(1 for stage in stages if not stage.startswith("task:"))
    tasks = sum(1 for stage in stages if stage.startswith("task:"))
    floor_ms = round(requests * floor["floor: a request"] + tasks * floor["floor: a task"], 1)
    print(
        f"the frameworks' floor under it: {requests} requests x {floor['floor: a request']:.2f} ms (a 405 through "
        f"the same middleware) + {tasks} tasks x {floor['floor: a task']:.2f} ms (a task that does nothing) = "
        f"{floor_ms} ms, before any SQL"
    )
    print(
        f"{options.calls} missed calls over {len(clients)} clients; texts at the fake: {texts} "
        f"(warm-up included); deliver_send returned {dict(outcomes)}; load before: {os.getloadavg()[0]:.2f}"
    )
    report(
        "missed_call_cost",
        rows,
        [
            "stage",
            "runs",
            "statements",
            "cpu_ms_median",
            "wall_ms_median",
            "db_wait_ms_median",
            "pg_cpu_ms_mean",
        ],
        extra={
            "calls": options.calls,
            "clients": len(clients),
            "deliver_send": dict(outcomes),
            "floor_ms": {**{k: round(v, 2) for k, v in floor.items()}, "per_call": floor_ms},
        },
    )
    for number, sql in enumerate(last_sql.get(options.show_sql, []), 1):
        print(f"{number:3d}  {' '.join(sql.split())[:300]}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            45
        )
        if os.environ.get(
            "BENCH_CALLEES"
        ):  # e.g. BENCH_CALLEES=webhooks.py:52 — where that function's time goes
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(
                os.environ["BENCH_CALLEES"]
            )
        print(out.getvalue())


if __name__ == "__main__":
    main()
