"""The agency dashboard's server time with many clients and a year of daily roll-ups.

    .venv/bin/python bench/agency_dashboard.py [--clients 1000] [--days 365] [--runs 15]

Uses DATABASE_URL (a development database, migrated). Makes an agency of its own with --clients clients (rows
only: the dashboard never enters a client's schema) and --days of roll-ups each, times GET / (the request in
process through every middleware, rendering included) for a few sorts and filters, counts the queries, then
removes everything it made. Numbers on a shared, busy machine are indicative.
"""

import argparse
import random
import time
from datetime import timedelta
from decimal import Decimal

from _common import django_setup, report, summary_ms

django_setup()

from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Agency, AgencyMembership, Client, User  # noqa: E402
from reports.models import DailyRollup  # noqa: E402

SLUG = "bench-dash"
PAGES = {
    "default (by name)": "/",
    "by recovered revenue": "/?sort=revenue",
    "needs attention": "/?health=warnings",
    "search": "/?q=bench 09",
    "page 5": "/?page=5",
}


def seed(clients: int, days: int) -> tuple[Agency, User]:
    cleanup()
    agency = Agency.objects.create(slug=SLUG, name="Bench Dashboard Agency")
    user = User.objects.create_user("bench-dash@bench.test", None)
    AgencyMembership.objects.create(user=user, agency=agency, role="staff")
    made = Client.objects.bulk_create(
        Client(
            agency=agency,
            slug=f"bench-dash-{i:05d}",
            name=f"Bench {i:05d}",
            schema_name=f"c_bench_dash_{i:05d}",
            status=Client.Status.LIVE,
            phone_number=f"+1646{i:07d}",
            created_at=timezone.now() - timedelta(days=days),
            went_live_at=timezone.now() - timedelta(days=days),
        )
        for i in range(clients)
    )
    today = timezone.now().date()
    rng = random.Random(7)
    batch = []
    for client in made:
        for d in range(days):
            sent = rng.randint(0, 6)
            batch.append(
                DailyRollup(
                    client=client,
                    date=today - timedelta(days=d),
                    calls=sent + rng.randint(0, 4),
                    missed_calls=sent,
                    textbacks_sent=sent,
                    replies=rng.randint(0, sent),
                    won=rng.randint(0, 1),
                    won_value=Decimal(rng.randint(0, 900)),
                    opt_outs=rng.randint(0, 1) if sent else 0,
                )
            )
            if len(batch) >= 20_000:
                DailyRollup.objects.bulk_create(batch)
                batch = []
    DailyRollup.objects.bulk_create(batch)
    return agency, user


def cleanup() -> None:
    agency = Agency.objects.filter(slug=SLUG).first()
    if agency is not None:
        DailyRollup.objects.filter(client__agency=agency).delete()
        Client.objects.filter(agency=agency).delete()
        agency.delete()
    User.objects.filter(email="bench-dash@bench.test").delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    started = time.perf_counter()
    _, user = seed(args.clients, args.days)
    seeded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_dailyrollup; ANALYZE accounts_client")
    browser = HttpClient(HTTP_HOST="localhost")
    browser.force_login(user)
    rows = []
    try:
        for label, url in PAGES.items():
            assert browser.get(url).status_code == 200  # warm
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter()
                response = browser.get(url)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
            with CaptureQueriesContext(connection) as queries:
                browser.get(url)
            rows.append({"page": label, "queries": len(queries), **summary_ms(samples)})
    finally:
        cleanup()
    report(
        "agency_dashboard",
        rows,
        ["page", "queries", "n", "median_ms", "p95_ms", "min_ms", "max_ms"],
        extra={
            "clients": args.clients,
            "days_of_rollups": args.days,
            "rollup_rows": args.clients * args.days,
            "seed_seconds": round(seeded, 1),
        },
    )
    print(
        f"{args.clients} clients × {args.days} days of roll-ups ({args.clients * args.days} rows), "
        f"seeded in {seeded:.1f} s; numbers on a busy shared machine are indicative."
    )


if __name__ == "__main__":
    main()
