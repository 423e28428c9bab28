"""Writing the public daily roll-ups: one counter bump per event, and the rebuild from a client's own tables.

A bump is one INSERT … ON CONFLICT DO UPDATE SET n = n + delta: PostgreSQL takes the row's lock for the update,
so concurrent events for the same client and day add up exactly, and it runs in the event's own transaction
(a rolled-back event leaves no count behind).

The rebuild replaces a client's rows with what its tables say (reports.definitions). While it runs it holds an
exclusive advisory lock on the client, and every bump takes the shared one: a rebuild waits for events already
in flight to commit, and events arriving meanwhile wait for it, so no event is counted twice or lost."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django_tenants.utils import get_public_schema_name, tenant_context

from accounts.models import Client
from crm.models import Outcome
from telephony.models import Call

from . import definitions
from .definitions import textback_chain_by_day
from .models import ROLLUP_COUNTERS, DailyRollup
from .selectors import later_outcome_exists

LOCK_CLASS = 7261  # the advisory-lock namespace of roll-ups: (LOCK_CLASS, client id)
EPOCH = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
FOREVER = datetime(2200, 1, 1, tzinfo=ZoneInfo("UTC"))
_NUMERIC = (*ROLLUP_COUNTERS, "won_value")


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def rollup_bump(*, client_id: int, day: date, skipped_reason: str | None = None, **deltas) -> None:
    """Add `deltas` (counter name → amount, negative allowed) to the client's row for that local day, creating
    it if needed; `skipped_reason` adds one to that reason's count too."""
    unknown = set(deltas) - set(_NUMERIC)
    if unknown:
        raise ValueError(f"Not a roll-up counter: {', '.join(sorted(unknown))}")
    table = f'"{get_public_schema_name()}"."{DailyRollup._meta.db_table}"'
    columns = list(deltas)
    values = [deltas[name] for name in columns]
    updates = [f"{name} = r.{name} + EXCLUDED.{name}" for name in columns]
    reasons_value = "'{}'::jsonb"
    params_reason: list = []
    if skipped_reason is not None:
        reasons_value = "jsonb_build_object(%s::text, 1)"
        params_reason = [skipped_reason]
        updates.append(
            "skipped_reasons = jsonb_set(r.skipped_reasons, ARRAY[%s::text], "
            "to_jsonb(COALESCE((r.skipped_reasons ->> %s::text)::int, 0) + 1))"
        )
    zeros = [name for name in _NUMERIC if name not in deltas]
    # One statement (the webhooks count their queries): the row to insert is selected from the call that takes
    # the shared lock, so the lock is held before the row is written.
    sql = (
        f"INSERT INTO {table} AS r (client_id, date, updated_at, skipped_reasons, {', '.join(columns + zeros)}) "
        f"SELECT %s, %s, now(), {reasons_value}, {', '.join(['%s'] * len(columns) + ['0'] * len(zeros))} "
        "FROM (SELECT pg_advisory_xact_lock_shared(%s, %s)) AS shared_lock "
        f"ON CONFLICT (client_id, date) DO UPDATE SET updated_at = now(), {', '.join(updates)}"
    )
    params = [client_id, day, *params_reason, *values, LOCK_CLASS, client_id]
    if skipped_reason is not None:
        params += [skipped_reason, skipped_reason]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def rollup_days_from_tables(*, client: Client, start: datetime = EPOCH, end: datetime = FOREVER) -> dict:
    """{local date: {counter: value, "skipped_reasons": {...}}} from the client's tables, for events in
    [start, end). The meaning of every counter is here (and in reports.definitions)."""
    tz = client.timezone
    zone = ZoneInfo(tz)
    days: dict[date, dict] = defaultdict(lambda: {"skipped_reasons": {}})

    def add(rows, names):
        for row in rows:
            for name in names:
                if row[name]:
                    days[row["day"]][name] = row[name]

    with tenant_context(client), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(definitions.NO_JIT)
        add(
            Call.objects.filter(started_at__gte=start, started_at__lt=end)
            .annotate(day=TruncDate("started_at", tzinfo=zone))
            .values("day")
            .annotate(
                calls=Count("id"),
                missed_calls=Count("id", filter=Q(outcome=Call.Outcome.MISSED)),
                missed_after_hours=Count(
                    "id", filter=Q(outcome=Call.Outcome.MISSED, in_business_hours=False)
                ),
                answered_calls=Count("id", filter=Q(outcome=Call.Outcome.ANSWERED)),
            ),
            ("calls", "missed_calls", "missed_after_hours", "answered_calls"),
        )
        for day, (sent, replies, answered) in textback_chain_by_day(start=start, end=end, tz=tz).items():
            days[day].update(textbacks_sent=sent, replies=replies, answered_by_staff=answered)
        add(
            Outcome.objects.filter(created_at__gte=start, created_at__lt=end)
            .alias(superseded=later_outcome_exists())
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(
                booked=Count("id", filter=Q(kind=Outcome.Kind.BOOKED)),
                won=Count("id", filter=Q(kind=Outcome.Kind.WON)),
                won_value=Sum("value", filter=Q(kind=Outcome.Kind.WON)),
                booked_pending=Count("id", filter=Q(kind=Outcome.Kind.BOOKED, superseded=False)),
            ),
            ("booked", "won", "won_value", "booked_pending"),
        )
        add(
            definitions.opt_outs(start=start, end=end)
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(opt_outs=Count("id")),
            ("opt_outs",),
        )
        add(
            definitions.delivery_failures(start=start, end=end)
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(delivery_failures=Count("id")),
            ("delivery_failures",),
        )
    skipped = (
        definitions.skipped_textbacks(client=client, start=start, end=end)
        .annotate(day=TruncDate("event_at", tzinfo=zone))
        .values_list("day", "reason")
        .annotate(n=Count("id"))
    )
    for day, reason, n in skipped:
        entry = days[day]
        entry["skipped_reasons"][reason or "unknown"] = n
        entry["textbacks_skipped"] = entry.get("textbacks_skipped", 0) + n
    return dict(days)


@transaction.atomic
def rollup_rebuild_client(*, client: Client) -> int:
    """Replace all of a client's roll-ups with what its tables say. Returns how many days it has."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, client.pk])
    days = rollup_days_from_tables(client=client)
    DailyRollup.objects.filter(client=client).delete()
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                client=client,
                date=day,
                skipped_reasons=values["skipped_reasons"],
                **{name: values.get(name, 0) for name in ROLLUP_COUNTERS},
                won_value=values.get("won_value") or Decimal("0"),
            )
            for day, values in sorted(days.items())
        ],
        batch_size=1000,
    )
    return len(days)


def rollup_rows(*, client: Client) -> dict:
    """A client's roll-ups as {date: {counter: value}} with empty days left out: what tests compare."""
    result = {}
    for row in DailyRollup.objects.filter(client=client).order_by("date"):
        values = {name: getattr(row, name) for name in ROLLUP_COUNTERS if getattr(row, name)}
        if row.won_value:
            values["won_value"] = row.won_value
        reasons = {k: v for k, v in row.skipped_reasons.items() if v}
        if reasons:
            values["skipped_reasons"] = reasons
        if values:
            result[row.date] = values
    return result


def rollup_expected(*, client: Client) -> dict:
    """rollup_rows' shape, computed from the client's tables."""
    result = {}
    for day, values in rollup_days_from_tables(client=client).items():
        clean = {name: values[name] for name in _NUMERIC if values.get(name)}
        if values["skipped_reasons"]:
            clean["skipped_reasons"] = values["skipped_reasons"]
        if clean:
            result[day] = clean
    return result
