"""How long seed_demo's 90 days of history take per client (part of `./run demo`'s start-up), and how many rows
they are: agency/management/commands/_demo_history.py for each trade, on a new client each run.

    .venv/bin/python bench/demo_history.py [--runs 3]

Uses DATABASE_URL (the development database); every schema and row it makes is removed again.
"""

import argparse
import time

from _common import django_setup, report, summary_ms

django_setup()

from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import Agency, Client  # noqa: E402
from accounts.schemas import client_schema_drop  # noqa: E402
from accounts.services import agency_create, client_create, client_provision, hours_from_text  # noqa: E402
from agency.management.commands._demo_history import DENTAL, PLUMBING, history_add  # noqa: E402
from messaging.models import Message  # noqa: E402
from telephony.models import Call, NumberHolder  # noqa: E402

TRADES = {"plumbing (forward)": (PLUMBING, "forward"), "dental (carrier)": (DENTAL, "carrier")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    agency = Agency.objects.filter(slug="bench-demo").first() or agency_create(
        slug="bench-demo", name="Bench Demo", admin_email="bench-demo@bench.test", admin_password=None
    )
    rows = []
    try:
        for t, (label, (trade, mode)) in enumerate(TRADES.items()):
            samples, calls, messages = [], 0, 0
            for i in range(args.runs):
                client = client_provision(
                    client=client_create(
                        agency=agency,
                        slug=f"bench-demo-{t}-{i}",
                        name=f"Bench {label} {i}",
                        timezone_name="America/Chicago",
                        phone_number=f"+1312555{8100 + 10 * t + i:04d}",
                        forward_to="+13125559999",
                        call_mode=mode,
                        business_hours=hours_from_text("mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00"),
                    )
                )
                start = time.perf_counter()
                history_add(client=client, trade=trade, owner_id=None)
                samples.append(time.perf_counter() - start)
                with tenant_context(client):
                    calls, messages = Call.objects.count(), Message.objects.count()
            rows.append({"trade": label, "calls": calls, "messages": messages, **summary_ms(samples)})
    finally:
        for client in Client.objects.filter(agency=agency):
            client_schema_drop(client.schema_name)
            client.delete()
        NumberHolder.objects.filter(agency=agency).delete()  # numbers stay with an agency until it goes
        agency.delete()
    report(
        "demo_history", rows, ["trade", "calls", "messages", "n", "median_ms", "p95_ms", "min_ms", "max_ms"]
    )


if __name__ == "__main__":
    main()
