"""Server time of the inbox's pages for a big client: the conversation list (each tab, and a search), one
thread, and the list's live poll, with 100,000 conversations and 1,000,000 messages in one client.

    .venv/bin/python bench/inbox_pages.py [--conversations 100000] [--messages-each 10] [--runs 40] [--fresh]
                                          [--only list]

Uses DATABASE_URL (the development database). The client "bench-inbox" (agency "bench-agency") is made once
and filled with SQL (generate_series), since a million rows through the ORM would take the better part of an
hour; --fresh drops and refills it. Requests go through Django's whole stack in this process (middleware,
host routing, the views, templates), timed from request to response; there is no network in the number.
Target (issue 4): list p95 under 100 ms.
"""

import argparse
import random
import time

from _common import django_setup, report, summary_ms

django_setup()

from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from accounts.models import Agency, Client, ClientMembership  # noqa: E402
from accounts.schemas import client_schema_drop  # noqa: E402
from accounts.services import agency_create, client_create, client_provision, user_get_or_create  # noqa: E402
from messaging.models import Conversation  # noqa: E402

SLUG = "bench-inbox"


def ensure_client() -> tuple[Client, object]:
    agency = Agency.objects.filter(slug="bench-agency").first() or agency_create(
        slug="bench-agency", name="Bench Agency", admin_email="bench@bench.test", admin_password=None
    )
    client = Client.objects.filter(slug=SLUG).first()
    if client is None:
        client = client_create(
            agency=agency,
            slug=SLUG,
            name="Bench Inbox Plumbing",
            timezone_name="America/Chicago",
            phone_number="+13125559900",
            forward_to="+13125559942",
        )
        client_provision(client=client)
        client.refresh_from_db()
    owner = user_get_or_create(email="owner@bench-inbox.test", password=None, name="Bench Owner")
    ClientMembership.objects.get_or_create(user=owner, client=client, defaults={"role": "owner"})
    return client, owner


def fill(client: Client, *, conversations: int, messages_each: int, owner_id: int) -> None:
    """One contact, one call and one conversation per caller, `messages_each` texts each (in and out
    alternating), activity spread over 90 days; a tenth unread, a third assigned to the owner, a fifth closed."""
    with schema_context(client.schema_name), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE messaging_message, messaging_conversation, telephony_call, crm_contact CASCADE"
        )
        cursor.execute(
            """
            INSERT INTO crm_contact (id, phone_number, name, email, notes, opted_out, is_blocked, line_type,
                                     unreachable, created_at, updated_at, tags)
            SELECT n, '+1555' || lpad(n::text, 7, '0'),
                   CASE WHEN n %% 3 = 0 THEN 'Caller ' || n ELSE '' END, '', '', n %% 97 = 0, false, 'mobile',
                   false, now() - interval '90 days', now(), '{}'
            FROM generate_series(1, %(n)s) n
            """,
            {"n": conversations},
        )
        cursor.execute(
            """
            INSERT INTO telephony_call (call_sid, from_number, to_number, caller_name, outcome, missed_reason,
                                        dial_status, started_at, ended_at, contact_id, in_business_hours)
            SELECT 'CAbench' || n, '+1555' || lpad(n::text, 7, '0'), '+13125559900', '', 'missed', 'no-answer',
                   'no-answer', now() - (n %% 129600) * interval '1 minute', now() - (n %% 129600) * interval '1 minute',
                   n, n %% 2 = 0
            FROM generate_series(1, %(n)s) n
            """,
            {"n": conversations},
        )
        cursor.execute(
            """
            INSERT INTO messaging_conversation (id, status, unread_count, last_activity_at, last_inbound_at,
                                                created_at, contact_id, assigned_to_id)
            SELECT n, CASE WHEN n %% 5 = 0 THEN 'closed' ELSE 'open' END, CASE WHEN n %% 10 = 0 THEN 2 ELSE 0 END,
                   now() - (n %% 129600) * interval '1 minute', now() - (n %% 129600) * interval '1 minute',
                   now() - interval '90 days', n, CASE WHEN n %% 3 = 0 THEN %(owner)s END
            FROM generate_series(1, %(n)s) n
            """,
            {"n": conversations, "owner": owner_id},
        )
        cursor.execute(
            """
            INSERT INTO messaging_message (direction, kind, body, status, from_number, to_number, error_message,
                                           encoding, segments, call_sid, template_kind, created_at,
                                           status_changed_at, conversation_id)
            SELECT CASE WHEN m %% 2 = 0 THEN 'in' ELSE 'out' END,
                   CASE WHEN m = 1 THEN 'textback' WHEN m %% 2 = 0 THEN 'inbound' ELSE 'reply' END,
                   'Message ' || m || ' about the leaking pipe at number ' || c,
                   CASE WHEN m %% 2 = 0 THEN 'received' ELSE 'delivered' END,
                   '+1555' || lpad(c::text, 7, '0'), '+13125559900', '', 'GSM-7', 1, '', '',
                   now() - (c %% 129600) * interval '1 minute' - (%(each)s - m) * interval '1 minute',
                   now(), c
            FROM generate_series(1, %(n)s) c, generate_series(1, %(each)s) m
            """,
            {"n": conversations, "each": messages_each},
        )
        for table in ("crm_contact", "messaging_conversation"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [conversations])
        cursor.execute(
            "ANALYZE crm_contact; ANALYZE messaging_conversation; ANALYZE messaging_message; "
            "ANALYZE telephony_call"
        )


def timed_get(browser: HttpClient, path: str, **headers) -> float:
    start = time.perf_counter()
    response = browser.get(path, **headers)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--only", default="", help="measure only the pages whose name contains this")
    args = parser.parse_args()

    if args.fresh:
        old = Client.objects.filter(slug=SLUG).first()
        if old is not None:
            client_schema_drop(old.schema_name)
            old.delete()
    client, owner = ensure_client()
    with schema_context(client.schema_name):
        have = Conversation.objects.count()
    if have != args.conversations:
        start = time.perf_counter()
        fill(client, conversations=args.conversations, messages_each=args.messages_each, owner_id=owner.pk)
        print(
            f"filled {args.conversations:,} conversations, {args.conversations * args.messages_each:,} messages "
            f"in {time.perf_counter() - start:.0f} s"
        )

    browser = HttpClient(HTTP_HOST=client.host)
    browser.force_login(owner)
    ids = random.Random(7).sample(range(1, args.conversations + 1), args.runs)
    pages = {
        "list: open (first page)": lambda i: "/inbox/",
        "list: unread": lambda i: "/inbox/?tab=unread",
        "list: mine": lambda i: "/inbox/?tab=mine",
        "list: all, page 50": lambda i: "/inbox/?tab=all&page=50",
        "list: search a number": lambda i: f"/inbox/?tab=all&q=555{ids[i] % 10_000_000:07d}",
        "list: search text": lambda i: "/inbox/?tab=all&q=leaking",
        "thread": lambda i: f"/inbox/{ids[i]}/",
    }
    rows = []
    for name, path_for in pages.items():
        if args.only not in name:
            continue
        timed_get(browser, path_for(0))  # warm: templates compiled, plans cached
        samples = [timed_get(browser, path_for(i)) for i in range(args.runs)]
        rows.append({"page": name, **summary_ms(samples)})
    if args.only in "list: live poll":
        poll = [timed_get(browser, "/inbox/", HTTP_X_INBOX_POLL="1") for _ in range(args.runs)]
        rows.append({"page": "list: live poll", **summary_ms(poll)})
    report(
        "inbox_pages",
        rows,
        ["page", "n", "median_ms", "p95_ms", "min_ms", "max_ms"],
        extra={"conversations": args.conversations, "messages": args.conversations * args.messages_each},
    )


if __name__ == "__main__":
    main()
