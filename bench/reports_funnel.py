"""How long the recovered-revenue report takes: one client's report with many calls, the nightly rebuild of its
roll-ups from its tables, and the agency roll-up across many clients. Every report reads the public roll-ups
(reports.DailyRollup, reports.MonthlyRollup for a period's whole months, and reports.FirstStaffReply),
whatever the number of calls.

    DEBUG=1 .venv/bin/python bench/reports_funnel.py [--calls 1000000] [--clients 1000] [--runs 5] [--keep]
        [--reuse] [--only agency]

--keep leaves the data set in the database and --reuse measures again on the one a --keep run left (minutes of
loading saved; it is made afresh when there is none). --only runs the rows whose description starts with a word.

Targets (issue 6): under 500 ms for the client report with 1,000,000 calls, and for the agency roll-up with
1,000 clients. The agency report page's rows are its presets as the picker makes them in the agency's time zone
(this month, the last 90 days, this year: each with the period before, at the trend the page picks for it: by
day, by week, by month), then this year by week and by day (a trend by day or week reads every day), and the
last 365 days. `queries` counts one run's statements (SETs included). Uses DATABASE_URL; the data is made with
generate_series (seconds, not hours) in a client schema of its own and 1,000 client rows without schemas (a
roll-up never enters a schema), --days of roll-ups each ending today (so with the default 365 "this year"'s
period before is mostly empty, as it is for an agency in its first year), and removed at the end unless --keep.
On a busy machine the numbers are indicative only.
"""

import argparse
import os
import time
from datetime import date, timedelta

from _common import django_setup, report, summary_ms

django_setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils.timezone import now  # noqa: E402

from accounts.models import Agency, Client  # noqa: E402
from accounts.schemas import client_schema_drop  # noqa: E402
from accounts.services import client_create, client_provision  # noqa: E402
from billing.selectors import agency_time_zone  # noqa: E402
from reports.forms import PeriodForm  # noqa: E402
from reports.models import DailyRollup, FirstStaffReply, MonthlyRollup  # noqa: E402
from reports.rollups import monthly_rollups_rebuild, rollup_rebuild_client  # noqa: E402
from reports.selectors import (  # noqa: E402
    Funnel,
    Period,
    after_textback,
    funnel_for_client,
    funnel_for_clients,
    period_from_preset,
    rollup_client_ranking,
    rollup_month_by_client,
    set_weekdays,
    text_results,
    today_in,
)
from reports.views import agency_report_data, client_report_data  # noqa: E402
from telephony.models import NumberHolder  # noqa: E402

AGENCY = "bench-reports"
BIG = "bench-reports-big"


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def cleanup() -> None:
    agency = Agency.objects.filter(slug=AGENCY).first()
    if agency is None:
        return
    DailyRollup.objects.filter(client__agency=agency).delete()
    MonthlyRollup.objects.filter(client__agency=agency).delete()
    FirstStaffReply.objects.filter(client__agency=agency).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM messaging_outboundsend WHERE client_id IN "
            "(SELECT id FROM accounts_client WHERE agency_id = %s)",
            [agency.pk],
        )
    for client in Client.objects.filter(agency=agency, slug=BIG):
        client_schema_drop(client.schema_name)
    Client.objects.filter(agency=agency).delete()
    NumberHolder.objects.filter(agency=agency).delete()  # protects the agency: who held its numbers
    agency.delete()


def load_big_client(agency: Agency, calls: int) -> Client:
    """`calls` calls over the last year: 40% missed, a text-back for most of them, a third replied to, half of
    those answered by staff, some booked and won; a tenth of the text-backs skipped; replies read for an intent,
    some follow-ups and voicemails."""
    client = client_create(
        agency=agency,
        slug=BIG,
        name="Bench Big",
        timezone_name="America/Chicago",
        phone_number="+13125558999",
        forward_to="+13125559999",
    )
    client = client_provision(client=client)
    contacts = max(1, calls // 4)
    schema = client.schema_name
    with connection.cursor() as cursor:
        cursor.execute(f'SET search_path TO "{schema}", public')
        # Text columns added since these INSERTs were written (flags, actions, recordings …) are NOT NULL with no
        # database default: give them '' in this throwaway schema, so the loader needs no edit for each new one.
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND data_type IN ('character varying', 'text')",
            [schema],
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT \'\'')
        cursor.execute(
            "INSERT INTO crm_contact (id, phone_number, name, email, notes, tags, opted_out, is_blocked, line_type,"
            " unreachable, created_at, updated_at)"
            " SELECT g, '+1' || (2000000000 + g)::text, '', '', '', '{}', false, false, '', false, now(), now()"
            " FROM generate_series(1, %s) g",
            [contacts],
        )
        cursor.execute(
            "INSERT INTO messaging_conversation (id, contact_id, status, unread_count, last_activity_at,"
            " created_at) SELECT g, g, 'open', 0, now(), now() FROM generate_series(1, %s) g",
            [contacts],
        )
        # Call g: caller (g % contacts) + 1, started somewhere in the last 365 days.
        cursor.execute(
            "INSERT INTO telephony_call (call_sid, from_number, to_number, caller_name, contact_id, outcome,"
            " missed_reason, dial_status, in_business_hours, started_at)"
            " SELECT 'CA' || g, '+1' || (2000000000 + g %% %s + 1)::text, '+13125558999', '', g %% %s + 1,"
            "  CASE WHEN g %% 5 < 2 THEN 'missed' ELSE 'answered' END,"
            "  CASE WHEN g %% 5 < 2 THEN 'no-answer' ELSE '' END, '', g %% 3 <> 0,"
            "  now() - (g::float / %s * 365) * interval '1 day'"
            " FROM generate_series(1, %s) g",
            [contacts, contacts, calls, calls],
        )
        # Text-backs for 9 in 10 missed calls, a minute later.
        cursor.execute(
            "INSERT INTO messaging_message (conversation_id, direction, kind, body, status, from_number,"
            " to_number, error_message, encoding, segments, call_sid, template_kind, created_at, sent_at,"
            " status_changed_at)"
            " SELECT c.contact_id, 'out', 'textback', 'Sorry we missed you', "
            "  CASE WHEN c.id %% 50 = 0 THEN 'undelivered' ELSE 'delivered' END, '+13125558999', c.from_number,"
            "  '', 'GSM-7', 1, c.call_sid, 'business_hours', c.started_at + interval '1 minute',"
            "  c.started_at + interval '61 seconds', now()"
            " FROM telephony_call c WHERE c.outcome = 'missed' AND c.id %% 10 <> 0",
            [],
        )
        cursor.execute("UPDATE messaging_message SET error_code = 30003 WHERE status = 'undelivered'")
        # A third of the callers reply within minutes; half of those get a staff answer.
        cursor.execute(
            "INSERT INTO messaging_message (conversation_id, direction, kind, body, status, from_number,"
            " to_number, provider_sid, error_message, encoding, segments, call_sid, template_kind, created_at,"
            " status_changed_at)"
            " SELECT m.conversation_id, 'in', 'inbound', 'Yes please', 'received', m.to_number, m.from_number,"
            "  'SMin' || m.id, '', 'GSM-7', 1, '', '', m.sent_at + (m.id %% 20 + 1) * interval '1 minute', now()"
            " FROM messaging_message m WHERE m.kind = 'textback' AND m.id %% 3 = 0",
            [],
        )
        cursor.execute(
            "INSERT INTO messaging_message (conversation_id, direction, kind, body, status, from_number,"
            " to_number, error_message, encoding, segments, call_sid, template_kind, created_at, sent_at,"
            " status_changed_at)"
            " SELECT m.conversation_id, 'out', 'reply', 'On our way', 'delivered', m.to_number, m.from_number,"
            "  '', 'GSM-7', 1, '', '', m.created_at + (m.id %% 45 + 1) * interval '1 minute',"
            "  m.created_at + (m.id %% 45 + 1) * interval '1 minute', now()"
            " FROM messaging_message m WHERE m.kind = 'inbound' AND m.id %% 2 = 0",
            [],
        )
        # What comes after the text-back: the callers' texts read for an intent, a follow-up (an hour after the
        # text-back) for a fifth of those not replied to, and a voicemail on one missed call in seven.
        cursor.execute(
            "UPDATE messaging_message SET intent = (ARRAY['booking', 'price', 'other', 'existing_job'])[id %% 4 + 1]"
            " WHERE direction = 'in'",
            [],
        )
        cursor.execute(
            "INSERT INTO messaging_message (conversation_id, direction, kind, body, status, from_number,"
            " to_number, error_message, encoding, segments, call_sid, template_kind, created_at, sent_at,"
            " status_changed_at)"
            " SELECT m.conversation_id, 'out', 'followup', 'Still need a hand?', 'delivered', m.from_number,"
            "  m.to_number, '', 'GSM-7', 1, '', '', m.sent_at + interval '1 hour', m.sent_at + interval '1 hour',"
            "  now()"
            " FROM messaging_message m WHERE m.kind = 'textback' AND m.id %% 3 <> 0 AND m.id %% 5 = 1",
            [],
        )
        cursor.execute(
            "UPDATE telephony_call SET recording_sid = 'RE' || id WHERE outcome = 'missed' AND id %% 7 = 0",
            [],
        )
        cursor.execute(
            "INSERT INTO crm_outcome (contact_id, kind, value, lost_reason, created_at)"
            " SELECT m.conversation_id, CASE WHEN m.id %% 3 = 0 THEN 'won' ELSE 'booked' END,"
            "  CASE WHEN m.id %% 3 = 0 THEN 150 + m.id %% 900 END, '', m.created_at + interval '2 hours'"
            " FROM messaging_message m WHERE m.kind = 'reply' AND m.id %% 4 = 0",
            [],
        )
        cursor.execute(
            "INSERT INTO public.messaging_outboundsend (client_id, kind, key, to_number, call_sid, event_at,"
            " due_at, state, reason, detail, attempts, created_at, updated_at)"
            " SELECT %s, 'textback', 'call:' || c.call_sid, c.from_number, c.call_sid, c.started_at, c.started_at,"
            "  'skipped', (ARRAY['landline', 'recently_texted', 'opted_out'])[c.id %% 3 + 1], '', 0, now(), now()"
            " FROM telephony_call c WHERE c.outcome = 'missed' AND c.id %% 10 = 0",
            [client.pk],
        )
        cursor.execute("SET search_path TO public")
        for table in (
            "crm_contact",
            "messaging_conversation",
            "telephony_call",
            "messaging_message",
            "crm_outcome",
        ):
            cursor.execute(f'ANALYZE "{schema}"."{table}"')
        cursor.execute("ANALYZE public.messaging_outboundsend")
    return client


def load_many_clients(agency: Agency, clients: int, days: int) -> list[Client]:
    rows = Client.objects.bulk_create(
        [
            Client(
                agency=agency,
                slug=f"bench-r-{i}",
                name=f"Bench client {i:04d}",
                schema_name=f"bench_r_{i}",
                status=Client.Status.LIVE,
                timezone=("America/Chicago", "America/New_York", "UTC")[i % 3],
            )
            for i in range(clients)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reports_dailyrollup (client_id, date, calls, missed_calls, missed_after_hours,"
            " answered_calls, textbacks_sent, textbacks_skipped, skipped_reasons, missed_hours, replies,"
            " answered_by_staff, booked, won, won_value, booked_pending, opt_outs, delivery_failures, updated_at)"
            " SELECT c.id, current_date - d, 20 + c.id %% 7, 8, 3, 12, 7, 1, '{\"landline\": 1}',"
            "  (SELECT array_agg(CASE WHEN h = (c.id + d) %% 24 THEN 5 WHEN h = (c.id + d + 7) %% 24 THEN 3"
            "   ELSE 0 END ORDER BY h) FROM generate_series(0, 23) h), 3, 2, 1,"
            "  (c.id + d) %% 2, ((c.id + d) %% 2) * (100 + c.id %% 500), 0, 0, 0, now()"
            " FROM accounts_client c CROSS JOIN generate_series(0, %s) d WHERE c.agency_id = %s"
            " AND c.slug LIKE 'bench-r-%%'",
            [days - 1, agency.pk],
        )
        # Two answered text-backs a client a day, waiting 1 to 90 minutes for the first staff reply.
        cursor.execute(
            "INSERT INTO reports_firststaffreply (client_id, date, textback_id, wait_seconds)"
            " SELECT c.id, current_date - d, d * 2 + k, ((c.id * 7 + d * 13 + k * 31) %% 90 + 1) * 60"
            " FROM accounts_client c CROSS JOIN generate_series(0, %s) d CROSS JOIN generate_series(0, 1) k"
            " WHERE c.agency_id = %s AND c.slug LIKE 'bench-r-%%'",
            [days - 1, agency.pk],
        )
    monthly_rollups_rebuild(client_ids=[client.pk for client in rows])  # the days written here, by month
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365, help="roll-up days per client")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the data in place afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure on the data a --keep run left, if any")
    parser.add_argument("--only", default="", help="only the rows whose description starts with this")
    args = parser.parse_args()

    agency = Agency.objects.filter(slug=AGENCY).first() if args.reuse else None
    big = Client.objects.filter(agency=agency, slug=BIG).first() if agency else None
    many = (
        list(Client.objects.filter(agency=agency, slug__startswith="bench-r-").order_by("pk")) if big else []
    )
    reused = bool(big) and len(many) == args.clients
    if reused:
        load_seconds = 0.0
        args.keep = True  # it was kept for measuring again
    else:
        cleanup()
        agency = Agency.objects.create(slug=AGENCY, name="Bench Reports")
        started = time.perf_counter()
        big = load_big_client(agency, args.calls)
        load_seconds = time.perf_counter() - started
        many = load_many_clients(agency, args.clients, args.days)

    today = today_in(big.timezone)
    month = Period(start=today.replace(day=1), end=today, tz=big.timezone)
    last_30 = Period(start=today - timedelta(days=29), end=today, tz=big.timezone)
    year = Period(start=today - timedelta(days=364), end=today, tz=big.timezone)
    rebuild_days = None if reused else rollup_rebuild_client(client=big)  # the roll-ups every report reads
    with connection.cursor() as cursor:
        # As autovacuum would leave them: index-only scans need the visibility map.
        cursor.execute("VACUUM ANALYZE reports_dailyrollup")
        cursor.execute("VACUUM ANALYZE reports_monthlyrollup")
        cursor.execute("VACUUM ANALYZE reports_firststaffreply")

    def client_page(period):
        bucket = "day" if period.days <= 45 else "week" if period.days <= 200 else "month"
        client_report_data(client=big, period=period, bucket=bucket)

    first = date(today.year, today.month, 1)
    agency_tz = agency_time_zone(agency=agency)

    def agency_page(preset, bucket=None):
        """The agency report page's numbers for a preset of the picker, at the bucket the page would choose
        unless told."""
        period = period_from_preset(preset=preset, tz=agency_tz)
        bucket = bucket or PeriodForm().chosen_bucket(period)
        return lambda: agency_report_data(agency=agency, period=period, bucket=bucket)

    agency_year = period_from_preset(preset="this_year", tz=agency_tz)
    calls_scale = f"{args.calls:,} calls"
    clients_scale = f"{args.clients:,} clients"
    days_scale = f"{args.clients:,} clients × {args.days} days"
    ids = [c.pk for c in many]
    measures = [
        ("client funnel, last 30 days", calls_scale, lambda: funnel_for_client(client=big, period=last_30)),
        ("client funnel, this month", calls_scale, lambda: funnel_for_client(client=big, period=month)),
        ("client funnel, whole year", calls_scale, lambda: funnel_for_client(client=big, period=year)),
        ("client report page data, this month (the default period)", calls_scale, lambda: client_page(month)),
        ("client report page data, 30 days", calls_scale, lambda: client_page(last_30)),
        ("client report page data, a year", calls_scale, lambda: client_page(year)),
        (
            "client: what works in the texts, 30 days (its own tables)",
            calls_scale,
            lambda: text_results(client=big, period=last_30),
        ),
        (
            "client: what works in the texts, a year (its own tables)",
            calls_scale,
            lambda: text_results(client=big, period=year),
        ),
        (
            "client: after the text-back, 30 days (links, and its own tables)",
            calls_scale,
            lambda: after_textback(clients=[big], period=last_30),
        ),
        (
            "client: after the text-back, a year (links, and its own tables)",
            calls_scale,
            lambda: after_textback(clients=[big], period=year),
        ),
        ("nightly rebuild of the client's roll-ups", calls_scale, lambda: rollup_rebuild_client(client=big)),
        (
            "agency: each client's month (dashboard)",
            clients_scale,
            lambda: rollup_month_by_client(clients=many),
        ),
        (
            "agency: ranking by recovered revenue, month",
            clients_scale,
            lambda: rollup_client_ranking(agency=agency, start=first, end=today),
        ),
        (
            "agency: ranking by recovered revenue, this year",
            days_scale,
            lambda: rollup_client_ranking(agency=agency, start=agency_year.start, end=agency_year.end),
        ),
        (
            "agency: the whole funnel over this year",
            days_scale,
            lambda: funnel_for_clients(client_ids=ids, start=agency_year.start, end=agency_year.end),
        ),
        (
            "agency: calls and missed calls by weekday, this year and the year before",
            days_scale,
            lambda: set_weekdays(
                [Funnel(), Funnel()],
                client_ids=ids,
                periods=[
                    (agency_year.start, agency_year.end),
                    (agency_year.previous().start, agency_year.previous().end),
                ],
            ),
        ),
        (
            "agency report page data, this month (the default period, by day)",
            days_scale,
            agency_page("this_month"),
        ),
        ("agency report page data, last 90 days (by week)", days_scale, agency_page("last_90")),
        ("agency report page data, this year (by month)", days_scale, agency_page("this_year")),
        ("agency report page data, this year by week", days_scale, agency_page("this_year", "week")),
        ("agency report page data, this year by day", days_scale, agency_page("this_year", "day")),
        (
            "agency report page data, the last 365 days (by month)",
            days_scale,
            lambda: agency_report_data(
                agency=agency,
                period=Period(
                    start=today_in(agency_tz) - timedelta(days=364), end=today_in(agency_tz), tz=agency_tz
                ),
                bucket="month",
            ),
        ),
    ]
    rows = []
    for what, scale, fn in measures:
        if not what.startswith(args.only):
            continue
        runs = max(1, args.runs // 2) if what.startswith("nightly") else args.runs
        reset_queries()  # the loader's statements may have filled the log that CaptureQueriesContext counts in
        with CaptureQueriesContext(connection) as queries:
            fn()  # a first run, not timed: counts the statements (SETs included) and warms the caches
        rows.append({"what": what, "scale": scale, "queries": len(queries), **summary_ms(timed(fn, runs))})
    report(
        "reports_funnel",
        rows,
        ["what", "scale", "queries", "n", "median_ms", "p95_ms", "min_ms", "max_ms"],
        extra={
            "calls": args.calls,
            "clients": args.clients,
            "days": args.days,
            "load_seconds": round(load_seconds, 1),
            "rollup_days": rebuild_days,
            "at": now().isoformat(),
            "load_average": [round(n, 2) for n in os.getloadavg()],
        },
    )
    if not args.keep:
        cleanup()


if __name__ == "__main__":
    main()
