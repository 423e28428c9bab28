"""What the agency's "after the text-back" costs with many clients: reports.selectors.after_textback reads the
follow-ups, voicemails and reply intents with one UNION ALL statement of a part per client schema, so its cost
grows with the number of clients even when they have no messages at all (each part is planned and its tables
opened). This makes N real, empty client schemas (a few hundred milliseconds each on a shared machine), measures
the read over 30 days and a year, and drops them.

    DEBUG=1 .venv/bin/python bench/reports_after_textback.py [--clients 1000] [--runs 5]

Uses DATABASE_URL. The volume of messages is bench/reports_funnel.py's side ("client: after the text-back").
"""

import argparse
import os
import time
from datetime import timedelta

from _common import django_setup, report, summary_ms

django_setup()

from accounts.models import Agency, Client  # noqa: E402
from accounts.schemas import client_schema_create, client_schema_drop  # noqa: E402
from reports.selectors import Period, after_textback, today_in  # noqa: E402

AGENCY = "bench-after-textback"


def cleanup() -> None:
    agency = Agency.objects.filter(slug=AGENCY).first()
    if agency is None:
        return
    for client in Client.objects.filter(agency=agency):
        client_schema_drop(client.schema_name)
    Client.objects.filter(agency=agency).delete()
    agency.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cleanup()
    agency = Agency.objects.create(slug=AGENCY, name="Bench After the Text-back")
    try:
        started = time.perf_counter()
        clients = []
        for i in range(args.clients):
            client = Client.objects.create(
                agency=agency,
                slug=f"{AGENCY}-{i}",
                name=f"Bench client {i:04d}",
                schema_name=f"bench_after_{i}",
                status=Client.Status.LIVE,
                timezone=("America/Chicago", "America/New_York", "UTC")[i % 3],
            )
            client_schema_create(client.schema_name)
            clients.append(client)
        load_seconds = time.perf_counter() - started
        today = today_in("UTC")
        rows = []
        for what, days in (
            ("agency: after the text-back, 30 days", 30),
            ("agency: after the text-back, a year", 365),
        ):
            period = Period(today - timedelta(days=days - 1), today, "UTC")
            after_textback(clients=clients, period=period)  # a first run, not timed
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter()
                after_textback(clients=clients, period=period)
                samples.append(time.perf_counter() - start)
            rows.append({"what": what, "scale": f"{args.clients:,} empty clients", **summary_ms(samples)})
        report(
            "reports_after_textback",
            rows,
            ["what", "scale", "n", "median_ms", "p95_ms", "min_ms", "max_ms"],
            extra={
                "clients": args.clients,
                "load_seconds": round(load_seconds, 1),
                "load_average": [round(n, 2) for n in os.getloadavg()],
            },
        )
    finally:
        cleanup()


if __name__ == "__main__":
    main()
