"""Writing the public roll-ups: one counter bump per event, and the rebuild from a client's own tables.

A bump is one statement of two INSERT … ON CONFLICT DO UPDATE SET n = n + delta, the day's row and its month's:
PostgreSQL takes each row's lock for the update, so concurrent events for the same client and day add up
exactly, and it runs in the event's own transaction (a rolled-back event leaves no count behind). A month's row
is always the sum of its days' rows: a bump adds the same deltas to both, and whatever replaces days rebuilds
their months from them (monthly_rollups_rebuild).

The rebuild replaces a client's rows with what its tables say (reports.definitions). While it runs it holds an
exclusive advisory lock on the client, and every bump takes the shared one: a rebuild waits for events already
in flight to commit, and events arriving meanwhile wait for it, so no event is counted twice or lost."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django_tenants.utils import get_public_schema_name, tenant_context

from accounts.models import Client
from crm.models import Outcome
from telephony.models import Call

from . import definitions
from .definitions import first_staff_replies_insert, textback_chain_by_day
from .models import ROLLUP_COUNTERS, DailyRollup, FirstStaffReply, MonthlyRollup
from .selectors import later_outcome_exists

LOCK_CLASS = 7261  # the advisory-lock namespace of roll-ups: (LOCK_CLASS, client id)
EPOCH = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
FOREVER = datetime(2200, 1, 1, tzinfo=ZoneInfo("UTC"))
_NUMERIC = (*ROLLUP_COUNTERS, "won_value")
# The counters kept by hour of the day (24 to a row) and by day of the week (7, Monday first): their sizes.
_ARRAYS = {"missed_hours": 24, "call_hours": 24, "missed_weekdays": 7, "call_weekdays": 7}
_HOUR_ARRAYS = ("missed_hours", "call_hours")


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


def _public(model) -> str:
    return f'"{get_public_schema_name()}"."{model._meta.db_table}"'


def rollup_bump(
    *,
    client_id: int,
    day: date,
    skipped_reason: str | None = None,
    missed_hour: int | None = None,
    call_hour: int | None = None,
    weekday: int | None = None,
    **deltas,
) -> None:
    """Add `deltas` (counter name → amount, negative allowed) to the client's row for that local day and to its
    row for that day's month, creating them if needed; `skipped_reason` adds one to that reason's count,
    `missed_hour` / `call_hour` (0–23, local) one to that hour's missed calls / calls, and with `weekday` (0 for
    Monday, the day's own) one to that weekday's missed calls / calls too."""
    unknown = set(deltas) - set(_NUMERIC)
    if unknown:
        raise ValueError(f"Not a roll-up counter: {', '.join(sorted(unknown))}")
    # One statement (the webhooks count their queries). The month's row is written first, from the call that
    # takes the shared lock, and the day's row from the month's RETURNING: the lock is held before either row
    # is written, and every bump locks a month's row before any of its days' rows. Two transactions bumping
    # days of the same month (an outcome that moves a booking's pending count from one day to another, a call
    # on one of those days) therefore queue on the month's row instead of each holding a day the other wants.
    month_sql, month_params = _upsert(
        MonthlyRollup,
        "month",
        day.replace(day=1),
        "(SELECT pg_advisory_xact_lock_shared(%s, %s)) AS shared_lock",
        [LOCK_CLASS, client_id],
        client_id=client_id,
        skipped_reason=skipped_reason,
        hours={
            "missed_hours": missed_hour,
            "call_hours": call_hour,
            "missed_weekdays": weekday if missed_hour is not None else None,
            "call_weekdays": weekday if call_hour is not None else None,
        },
        deltas=deltas,
    )
    day_sql, day_params = _upsert(
        DailyRollup,
        "date",
        day,
        "month",
        [],
        client_id=client_id,
        skipped_reason=skipped_reason,
        hours={
            "missed_hours": missed_hour,
            "call_hours": call_hour,
            "missed_weekdays": weekday if missed_hour is not None else None,
            "call_weekdays": weekday if call_hour is not None else None,
        },
        deltas=deltas,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH month AS ({month_sql} RETURNING 1) {day_sql}", [*month_params, *day_params])


def _upsert(
    model,
    key: str,
    key_value: date,
    source: str,
    source_params: list,
    *,
    client_id: int,
    skipped_reason: str | None,
    hours: dict[str, int | None],
    deltas: dict,
) -> tuple[str, list]:
    """INSERT … ON CONFLICT DO UPDATE SET n = n + delta of one roll-up row, selected FROM `source`."""
    columns = list(deltas)
    values = [deltas[name] for name in columns]
    updates = [f"{name} = r.{name} + EXCLUDED.{name}" for name in columns]
    reasons_value = "'{}'::jsonb"
    params_reason: list = []
    params_update: list = []
    if skipped_reason is not None:
        reasons_value = "jsonb_build_object(%s::text, 1)"
        params_reason = [skipped_reason]
        updates.append(
            "skipped_reasons = jsonb_set(r.skipped_reasons, ARRAY[%s::text], "
            "to_jsonb(COALESCE((r.skipped_reasons ->> %s::text)::int, 0) + 1))"
        )
        params_update += [skipped_reason, skipped_reason]
    arrays = []
    for name, size in _ARRAYS.items():
        array, hour = [0] * size, hours.get(name)
        if hour is not None:
            array[hour] = 1
            updates.append(f"{name}[%s] = r.{name}[%s] + 1")  # SQL arrays count from 1
            params_update += [hour + 1, hour + 1]
        arrays.append(array)
    zeros = [name for name in _NUMERIC if name not in deltas]
    sql = (
        f"INSERT INTO {_public(model)} AS r "
        f"(client_id, {key}, updated_at, skipped_reasons, {', '.join(_ARRAYS)}, "
        f"{', '.join(columns + zeros)}) "
        f"SELECT %s, %s, now(), {reasons_value}, {', '.join(['%s'] * len(_ARRAYS))}, "
        f"{', '.join(['%s'] * len(columns) + ['0'] * len(zeros))} "
        f"FROM {source} "
        f"ON CONFLICT (client_id, {key}) DO UPDATE SET updated_at = now(), {', '.join(updates)}"
    )
    params = [client_id, key_value, *params_reason, *arrays, *values, *source_params, *params_update]
    return sql, params


def first_staff_reply_record(*, client_id: int, day: date, textback_id: int, wait: timedelta) -> None:
    """The caller who replied to this text-back waited `wait` for the first staff reply. One statement, under
    the roll-ups' shared lock like a bump. Recorded again with a shorter wait (a staff reply written earlier
    but sent later is the first one), the shorter wait stays."""
    sql = (
        f"INSERT INTO {_public(FirstStaffReply)} AS f (client_id, date, textback_id, wait_seconds) "
        "SELECT %s, %s, %s, %s FROM (SELECT pg_advisory_xact_lock_shared(%s, %s)) AS shared_lock "
        "ON CONFLICT (client_id, textback_id) DO UPDATE SET wait_seconds = LEAST(f.wait_seconds, EXCLUDED.wait_seconds)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [client_id, day, textback_id, round(wait.total_seconds()), LOCK_CLASS, client_id])


def rollup_days_from_tables(*, client: Client, start: datetime = EPOCH, end: datetime = FOREVER) -> dict:
    """{local date: {counter: value, "skipped_reasons": {...}}} from the client's tables, for events in
    [start, end). The meaning of every counter is here (and in reports.definitions)."""
    tz = client.timezone
    zone = ZoneInfo(tz)
    days: dict[date, dict] = defaultdict(
        lambda: {"skipped_reasons": {}, **{name: [0] * size for name, size in _ARRAYS.items()}}
    )

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
        by_hour = (
            Call.objects.filter(started_at__gte=start, started_at__lt=end)
            .annotate(day=TruncDate("started_at", tzinfo=zone), hour=ExtractHour("started_at", tzinfo=zone))
            .values_list("day", "hour")
            .annotate(n=Count("id"), missed=Count("id", filter=Q(outcome=Call.Outcome.MISSED)))
        )
        for day, hour, n, missed in by_hour:
            days[day]["call_hours"][hour] = n
            days[day]["missed_hours"][hour] = missed
            days[day]["call_weekdays"][day.weekday()] += n
            days[day]["missed_weekdays"][day.weekday()] += missed
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
    """Replace all of a client's roll-ups and first staff replies with what its tables say. Returns how many
    days it has."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, client.pk])
    days = rollup_days_from_tables(client=client)
    FirstStaffReply.objects.filter(client=client).delete()
    with tenant_context(client):
        first_staff_replies_insert(
            client_id=client.pk, table=_public(FirstStaffReply), tz=client.timezone, start=EPOCH, end=FOREVER
        )
    DailyRollup.objects.filter(client=client).delete()
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                client=client,
                date=day,
                skipped_reasons=values["skipped_reasons"],
                **{name: values[name] for name in _ARRAYS},
                **{name: values.get(name, 0) for name in ROLLUP_COUNTERS},
                won_value=values.get("won_value") or Decimal("0"),
            )
            for day, values in sorted(days.items())
        ],
        batch_size=1000,
    )
    monthly_rollups_rebuild(client_ids=[client.pk])
    return len(days)


# The columns a month sums from its days, in MonthlyRollup's INSERT order.
_MONTH_SUMS = ", ".join(
    [f"sum({name})" for name in _NUMERIC]
    + [
        "ARRAY[" + ", ".join(f"sum({name}[{i}])" for i in range(1, size + 1)) + "]::integer[]"
        for name, size in _ARRAYS.items()
    ]
)


@transaction.atomic
def monthly_rollups_rebuild(*, client_ids) -> None:
    """Replace these clients' monthly roll-ups with the sums of their daily ones. Whatever writes days other
    than rollup_bump (the nightly rebuild, a loader of made-up history) calls this after. It takes each
    client's exclusive roll-up lock (already held in rollup_rebuild_client), so no bump lands in between."""
    ids = sorted(set(client_ids))
    daily, monthly = _public(DailyRollup), _public(MonthlyRollup)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, id) FROM unnest(%s::integer[]) AS id", [LOCK_CLASS, ids]
        )
        cursor.execute(f"DELETE FROM {monthly} WHERE client_id = ANY(%s)", [ids])
        cursor.execute(
            "WITH months AS ("
            f"  SELECT client_id, date_trunc('month', date)::date AS month, {_MONTH_SUMS}"
            f"  FROM {daily} WHERE client_id = ANY(%s) GROUP BY 1, 2"
            "), reasons AS ("
            "  SELECT client_id, month, jsonb_object_agg(key, n) AS skipped_reasons FROM ("
            "    SELECT d.client_id, date_trunc('month', d.date)::date AS month, kv.key, sum(kv.value::integer) AS n"
            f"    FROM {daily} d, jsonb_each_text(d.skipped_reasons) kv WHERE d.client_id = ANY(%s) GROUP BY 1, 2, 3"
            "  ) AS r GROUP BY 1, 2"
            ") "
            f"INSERT INTO {monthly} (client_id, month, {', '.join(_NUMERIC)}, {', '.join(_ARRAYS)}, "
            "skipped_reasons, "
            "updated_at) "
            "SELECT m.*, COALESCE(r.skipped_reasons, '{}'::jsonb), now() "
            "FROM months AS m LEFT JOIN reasons AS r USING (client_id, month)",
            [ids, ids],
        )


def rollup_rows(*, client: Client) -> dict:
    """A client's roll-ups as {date: {counter: value}} with empty days left out: what tests compare."""
    return _shown(DailyRollup.objects.filter(client=client).order_by("date"), "date")


def monthly_rollup_rows(*, client: Client) -> dict:
    """A client's monthly roll-ups as {first day of the month: {counter: value}}, rollup_rows' shape."""
    return _shown(MonthlyRollup.objects.filter(client=client).order_by("month"), "month")


def rollup_rows_by_month(days: dict) -> dict:
    """rollup_rows (or rollup_expected) summed month by month: what monthly_rollup_rows must say."""
    months: dict[date, dict] = {}
    for day, values in sorted(days.items()):
        month = months.setdefault(day.replace(day=1), {})
        for name, value in values.items():
            if isinstance(value, dict):
                into = month.setdefault(name, {})
                for key, n in value.items():
                    into[key] = into.get(key, 0) + n
            else:
                month[name] = month.get(name, 0) + value
    return {month: _nonzero(values) for month, values in months.items() if _nonzero(values)}


def _nonzero(values: dict) -> dict:
    result = {}
    for name, value in values.items():
        if isinstance(value, dict):
            value = {key: n for key, n in value.items() if n}
        if value:
            result[name] = value
    return result


def _shown(rows, key: str) -> dict:
    result = {}
    for row in rows:
        values = {name: getattr(row, name) for name in ROLLUP_COUNTERS if getattr(row, name)}
        if row.won_value:
            values["won_value"] = row.won_value
        reasons = {k: v for k, v in row.skipped_reasons.items() if v}
        if reasons:
            values["skipped_reasons"] = reasons
        for name in _HOUR_ARRAYS:
            hours = _hours_shown(getattr(row, name))
            if hours:
                values[name] = hours
        if values:
            result[getattr(row, key)] = values
    return result


def _hours_shown(hours: list[int]) -> dict[int, int]:
    """{hour: missed calls} for the hours that had any."""
    return {hour: n for hour, n in enumerate(hours) if n}


def rollup_expected(*, client: Client) -> dict:
    """rollup_rows' shape, computed from the client's tables."""
    result = {}
    for day, values in rollup_days_from_tables(client=client).items():
        clean = {name: values[name] for name in _NUMERIC if values.get(name)}
        if values["skipped_reasons"]:
            clean["skipped_reasons"] = values["skipped_reasons"]
        for name in _HOUR_ARRAYS:
            if _hours_shown(values[name]):
                clean[name] = _hours_shown(values[name])
        if clean:
            result[day] = clean
    return result


def first_staff_reply_rows(*, client: Client) -> dict:
    """A client's first staff replies as {text-back id: (date, wait)}: what tests compare."""
    return {
        row.textback_id: (row.date, timedelta(seconds=row.wait_seconds))
        for row in FirstStaffReply.objects.filter(client=client).order_by("textback_id")
    }


def rollup_weekday_mismatches(*, client: Client) -> list:
    """Rows whose weekday arrays disagree with what they must be: a day's calls and missed calls at its own
    weekday, a month's the sum of its days'. Empty when all agree (what tests check)."""
    wrong = []
    months: dict[date, list[list[int]]] = {}
    for row in DailyRollup.objects.filter(client=client).order_by("date"):
        weekday = row.date.weekday()
        calls = [row.calls if i == weekday else 0 for i in range(7)]
        missed = [row.missed_calls if i == weekday else 0 for i in range(7)]
        if (row.call_weekdays, row.missed_weekdays) != (calls, missed):
            wrong.append(("day", row.date, row.call_weekdays, row.missed_weekdays))
        into = months.setdefault(row.date.replace(day=1), [[0] * 7, [0] * 7])
        for i in range(7):
            into[0][i] += calls[i]
            into[1][i] += missed[i]
    for month_row in MonthlyRollup.objects.filter(client=client):
        expected = months.get(month_row.month, [[0] * 7, [0] * 7])
        if [month_row.call_weekdays, month_row.missed_weekdays] != expected:
            wrong.append(("month", month_row.month, month_row.call_weekdays, month_row.missed_weekdays))
    return wrong
