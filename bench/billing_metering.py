"""Metering writes per second: how fast billing counts events, and that it stays exact under repeats and
concurrency.

    .venv/bin/python bench/billing_metering.py [--events 2000] [--clients 20] [--procs 2]

Uses DATABASE_URL (migrated; `./run setup`), public schema only: a bench agency with --clients clients (public
rows, no schemas: metering needs none), removed again at the end with all their usage. Phases, one transaction
per event as in a webhook:

- new: distinct events (an INSERT … ON CONFLICT for the event, an upsert of the month's counters);
- repeat: the same events again (the conflict path a repeated webhook takes: nothing counted);
- reconcile: a provider recount that changes each event's segments and price (row lock, two updates);
- concurrent: --procs processes record the same events at once; the counters must equal one pass exactly.

Numbers are indicative: the machine is shared. queries_per_event counts the statements metering sends (not the
BEGIN and COMMIT of the benchmark's own transaction per event: in a webhook, metering joins the webhook's).
"""

import argparse
import multiprocessing
import time

from _common import django_setup, report

django_setup()

from decimal import Decimal  # noqa: E402

from django.db import connection, transaction  # noqa: E402

from accounts.models import Agency, Client  # noqa: E402
from billing.models import MonthlyUsage, UsageEvent, UsageKind  # noqa: E402
from billing.services import usage_reconcile, usage_record  # noqa: E402

PREFIX = "bench-billing"


def setup(n_clients: int) -> list[Client]:
    teardown()
    agency = Agency.objects.create(slug=PREFIX, name="Bench billing agency")
    return [
        Client.objects.create(
            agency=agency,
            slug=f"{PREFIX}-{i}",
            name=f"Bench {i}",
            schema_name=f"bench_billing_{i}",
            status=Client.Status.LIVE,
            phone_number=f"+1999555{i:04d}",
        )
        for i in range(n_clients)
    ]


def teardown() -> None:
    clients = Client.objects.filter(agency__slug=PREFIX)
    UsageEvent.objects.filter(client__in=clients).delete()
    MonthlyUsage.objects.filter(client__in=clients).delete()
    clients.delete()
    Agency.objects.filter(slug=PREFIX).delete()


def record_all(clients: list[Client], n_events: int) -> int:
    counted = 0
    for i in range(n_events):
        with transaction.atomic():
            counted += usage_record(
                client=clients[i % len(clients)],
                kind=UsageKind.SEGMENTS_OUT,
                source=f"message:{i}",
                quantity=1,
            )
    return counted


def reconcile_all(clients: list[Client], n_events: int) -> None:
    for i in range(n_events):
        with transaction.atomic():
            usage_reconcile(
                client=clients[i % len(clients)],
                kind=UsageKind.SEGMENTS_OUT,
                source=f"message:{i}",
                quantity=2,
                provider_price=Decimal("0.0158"),
                provider_price_unit="USD",
            )


def _worker(args) -> int:
    client_ids, n_events = args
    connection.close()  # a fresh connection per process
    clients = list(Client.objects.filter(pk__in=client_ids).order_by("pk"))
    return record_all(clients, n_events)


class QueryCounter:
    """Counts statements sent to PostgreSQL: the part of the cost a busy machine does not blur."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed(fn) -> tuple[float, int]:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
    return seconds, counter.count


def _row(phase: str, events: int, seconds: float, queries: int | None = None) -> dict:
    row = {"phase": phase, "events": events, "seconds": round(seconds, 2), "per_s": round(events / seconds)}
    if queries is not None:
        row["queries_per_event"] = round(queries / events, 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    n = args.events
    clients = setup(args.clients)
    try:
        rows = []
        rows.append(_row("new", n, *timed(lambda: record_all(clients, n))))
        rows.append(_row("repeat", n, *timed(lambda: record_all(clients, n))))
        rows.append(_row("reconcile", n, *timed(lambda: reconcile_all(clients, n))))
        one_pass = list(
            MonthlyUsage.objects.filter(client__in=clients).values_list("segments_out", flat=True)
        )
        assert sum(one_pass) == 2 * n, f"counters {sum(one_pass)} != {2 * n}"

        UsageEvent.objects.filter(client__in=clients).delete()
        MonthlyUsage.objects.filter(client__in=clients).delete()
        connection.close()
        ids = [client.pk for client in clients]
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(args.procs) as pool:
            counted = sum(pool.map(_worker, [(ids, n)] * args.procs))
        seconds = time.perf_counter() - start
        total = sum(MonthlyUsage.objects.filter(client__in=clients).values_list("segments_out", flat=True))
        exact = counted == n and total == n
        rows.append({**_row(f"concurrent x{args.procs}", n * args.procs, seconds), "exact": exact})
        report(
            "billing_metering",
            rows,
            ["phase", "events", "seconds", "per_s", "queries_per_event", "exact"],
            extra={"clients": args.clients, "counted_once": counted, "counter_total": total},
        )
        if not exact:
            raise SystemExit(f"not exact: counted {counted}, counters say {total}, expected {n}")
    finally:
        connection.close()
        teardown()


if __name__ == "__main__":
    main()
