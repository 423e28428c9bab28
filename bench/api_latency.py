"""The REST API's cost per request, in process (no server, no network): median and p95 latency and the number
of SQL queries for each endpoint, on one client with many contacts; and signed webhook deliveries per second
to a local receiver.

    .venv/bin/python bench/api_latency.py [--contacts 2000] [--requests 50] [--deliveries 100]

Uses its own database (`textback_api_bench`, created and migrated when missing; override with DATABASE_URL)
and Redis database 6 (cache and broker; the tasks its sends and deliveries queue are deleted at the end, since
no worker runs). Everything runs in one Python process through Django's test client with the client's
Host header, so the numbers are the application's own work (middleware, key check, rate limit, queries,
serialising), not gunicorn's or the network's. The machine is shared: treat them as indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import django_setup, report, summary_ms  # noqa: E402

DB_NAME = "textback_api_bench"
AGENCY, CLIENT = "api-bench", "api-bench-1"


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def setup(contacts: int):
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts.models import Agency, Client
    from accounts.services import agency_create, client_create, client_provision
    from crm.models import Contact
    from messaging.models import Conversation, Message

    call_command("migrate", verbosity=0, interactive=False)
    connection.set_schema_to_public()
    agency = Agency.objects.filter(slug=AGENCY).first() or agency_create(
        slug=AGENCY, name="API bench", admin_email="bench@api-bench.test"
    )
    client = Client.objects.filter(slug=CLIENT).first() or client_create(
        agency=agency,
        slug=CLIENT,
        name="API Bench Plumbing",
        timezone_name="America/Chicago",
        phone_number="+13125559000",
        forward_to="+13125559001",
    )
    client = client_provision(client=client)
    with schema_context(client.schema_name):
        have = Contact.objects.count()
        if have < contacts:
            new = Contact.objects.bulk_create(
                Contact(phone_number=f"+1312{5550000 + n:07d}", name=f"Caller {n}", tags=["bench"])
                for n in range(have, contacts)
            )
            threads = Conversation.objects.bulk_create(Conversation(contact=c) for c in new)
            Message.objects.bulk_create(
                Message(
                    conversation=t,
                    direction="in",
                    kind="inbound",
                    body="Can you come today?",
                    status="received",
                    from_number=t.contact.phone_number,
                    to_number="+13125559000",
                )
                for t in threads
            )
        some = Contact.objects.order_by("pk").values_list("pk", flat=True).first()
    return agency, client, some


def timed(http, method: str, path: str, n: int, headers: dict, body=None, vary=None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples, queries, status = [], 0, None
    for i in range(n):
        data = vary(i) if vary else body
        extra = dict(headers)
        if method == "post":
            extra["HTTP_IDEMPOTENCY_KEY"] = f"bench-{time.time_ns()}-{i}"
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            if method == "get":
                response = http.get(path, **extra)
            else:
                response = http.post(path, json.dumps(data), content_type="application/json", **extra)
            samples.append(time.perf_counter() - start)
        status = response.status_code
        queries = len(captured)
    return {**summary_ms(samples), "queries": queries, "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--deliveries", type=int, default=100)
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", f"postgres:///{DB_NAME}")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
    os.environ["API_RATE_LIMIT"] = "1000000/minute"
    os.environ["WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = "1"
    if os.environ["DATABASE_URL"].endswith(DB_NAME):
        ensure_database()
    django_setup()

    from django.test import Client as HttpClient

    from accounts.models import AgencyMembership
    from api.services import apikey_create

    agency, client, contact_id = setup(args.contacts)
    admin = AgencyMembership.objects.filter(agency=agency).first().user
    _, raw = apikey_create(name="bench", scope="write", created_by=admin, agency=agency)
    http = HttpClient(HTTP_HOST=client.host)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    n = args.requests
    cases = [
        ("GET contacts (page of 50)", "get", "/api/v1/contacts/", None, None),
        ("GET contacts?q=caller 19", "get", "/api/v1/contacts/?q=caller%2019", None, None),
        ("GET conversations (page of 50)", "get", "/api/v1/conversations/", None, None),
        ("GET messages (page of 50)", "get", "/api/v1/messages/", None, None),
        ("GET calls", "get", "/api/v1/calls/", None, None),
        ("GET reports (30 days)", "get", "/api/v1/reports/", None, None),
        (
            "POST contacts + Idempotency-Key",
            "post",
            "/api/v1/contacts/",
            None,
            lambda i: {"phone_number": f"+1773{5550000 + (time.time_ns() // 1000 + i) % 9999:07d}"},
        ),
        (
            "POST messages (queued, not sent)",
            "post",
            "/api/v1/messages/",
            {"contact_id": contact_id, "body": "On our way"},
            None,
        ),
        (
            "POST calls/missed (a new call: recorded, text-back owed)",
            "post",
            "/api/v1/calls/missed/",
            None,
            lambda i: _missed_call(f"bench-{time.time_ns()}-{i}", i),
        ),
        (
            "POST calls/missed (the same call again: 200)",
            "post",
            "/api/v1/calls/missed/",
            None,
            lambda i: _missed_call("bench-repeat", 0),
        ),
        (
            "POST outcomes (won, by phone number)",
            "post",
            "/api/v1/outcomes/",
            {"contact_id": contact_id, "kind": "won", "value": "120.00"},
            None,
        ),
        ("GET hooks/samples/call.missed", "get", "/api/v1/hooks/samples/call.missed/", None, None),
        ("no key (401)", "get", "/api/v1/contacts/", None, None),
    ]
    rows = []
    for name, method, path, body, vary in cases:
        headers = {} if name.startswith("no key") else auth
        timed(http, method, path, 3, headers, body, vary)  # warm up
        rows.append({"endpoint": name, **timed(http, method, path, n, headers, body, vary)})

    rows.append(
        {
            "endpoint": f"webhook deliveries (local receiver, n={args.deliveries})",
            **deliveries(client, admin, args.deliveries),
        }
    )
    report(
        "api_latency",
        rows,
        ["endpoint", "status", "n", "median_ms", "p95_ms", "max_ms", "queries"],
        extra={"contacts": args.contacts},
    )
    cleanup(client)


def _missed_call(call_id: str, i: int) -> dict:
    from django.utils.timezone import now

    number = f"+1773{5560000 + (time.time_ns() // 1000 + i) % 9999:07d}"
    if call_id == "bench-repeat":
        number = "+17735569999"
    return {"call_id": call_id, "from_number": number, "called_at": now().isoformat()}


def deliveries(client, admin, count: int) -> dict:
    """Signed deliveries, one after another, to a local HTTP server that answers 200."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from api.models import WebhookDelivery
    from api.services import webhook_delivery_attempt, webhook_endpoint_create

    class Ok(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = webhook_endpoint_create(
        url=f"http://127.0.0.1:{server.server_port}/", events=["call.missed"], created_by=admin, client=client
    )
    try:
        payload = {"type": "call.missed", "client": {"id": client.pk}, "data": {"call": {"id": 1}}}
        ids = [
            d.pk
            for d in WebhookDelivery.objects.bulk_create(
                WebhookDelivery(endpoint=endpoint, client=client, event="call.missed", payload=payload)
                for _ in range(count)
            )
        ]
        samples = []
        for delivery_id in ids:
            start = time.perf_counter()
            assert webhook_delivery_attempt(delivery_id=delivery_id) == "delivered"
            samples.append(time.perf_counter() - start)
        return {
            **summary_ms(samples),
            "status": 200,
            "queries": "",
            "per_second": round(len(samples) / sum(samples), 1),
        }
    finally:
        WebhookDelivery.objects.filter(endpoint=endpoint).delete()
        endpoint.delete()
        server.shutdown()


def cleanup(client) -> None:
    from django_tenants.utils import schema_context

    from api.models import ApiKey
    from messaging.models import Message, OutboundSend

    ApiKey.objects.filter(agency_id=client.agency_id).delete()
    OutboundSend.objects.filter(client=client).delete()
    with schema_context(client.schema_name):
        Message.objects.filter(direction="out").delete()
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")  # no worker will take them


if __name__ == "__main__":
    main()
