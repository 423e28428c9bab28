"""Reads for the recovered-revenue report. Keyword-only, typed.

Every number comes from the public roll-ups (reports.DailyRollup and reports.MonthlyRollup, and
reports.FirstStaffReply for the reply-time percentiles), kept exact by events and rebuilt nightly from the
client's tables as reports.definitions defines them: a report costs a few indexed reads of at most a few hundred
rows a client, whatever the number of calls, and never enters a client's schema. Sums over a period read its
whole months from the monthly roll-ups, and the months it covers in part from the days in it or as the month
less the days outside it (rollup_spans).

For the agency dashboard: ``rollup_month_by_client`` gives every client's numbers for its current month
(missed calls, texts sent, reply rate, recovered revenue) in one query, however many clients.

Two parts are not in the roll-ups and read the client's own tables: "What works in the texts" (text_results, one
client) and what callers did after the text-back (after_textback: the public link tables, and one statement over
all the clients' schemas for the follow-ups, voicemails and reply intents)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import Aggregate, Count, Exists, F, FloatField, OuterRef, Q, Sum
from django.utils.timezone import now
from django_tenants.utils import get_public_schema_name, tenant_context

from accounts.models import Agency, Client
from billing.selectors import client_price_for_period
from crm.models import Outcome
from messaging.intents import Intent
from messaging.models import IntakeLink, TrackedLink

from .definitions import after_textback_by_client, texts_by_template
from .models import ROLLUP_COUNTERS, SAMPLE_EVERY, DailyRollup, FirstStaffReply, MonthlyRollup
from .stats import SIGNIFICANCE, fisher_exact


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal (half up); None when whole is 0."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"))


# --- Periods -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole days in a client's time zone, `start` to `end` inclusive."""

    start: date
    end: date
    tz: str = "UTC"

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=ZoneInfo(self.tz))

    @property
    def end_at(self) -> datetime:
        """The midnight after the last day (a DST day is 23 or 25 hours long; zoneinfo knows)."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.tz))

    def previous(self) -> "Period":
        """The period just before, as long; a calendar month compares with the whole month before."""
        if self.start.day == 1 and (self.end + timedelta(days=1)).day == 1:
            last = self.start - timedelta(days=1)
            return Period(start=last.replace(day=1), end=last, tz=self.tz)
        return Period(
            start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1), tz=self.tz
        )

    def label(self) -> str:
        if self.start == self.end:
            return self.start.strftime("%-d %b %Y")
        return f"{self.start.strftime('%-d %b %Y')} – {self.end.strftime('%-d %b %Y')}"


def month_period(*, year: int, month: int, tz: str) -> Period:
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(start=start, end=following - timedelta(days=1), tz=tz)


def today_in(tz: str, at: datetime | None = None) -> date:
    return (at or now()).astimezone(ZoneInfo(tz)).date()


PRESETS = [
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("last_7", "Last 7 days"),
    ("last_30", "Last 30 days"),
    ("last_90", "Last 90 days"),
    ("this_year", "This year"),
    ("custom", "Custom"),
]
MAX_PERIOD_DAYS = 3 * 366


def period_from_preset(*, preset: str, tz: str, at: datetime | None = None) -> Period:
    today = today_in(tz, at)
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return month_period(year=last.year, month=last.month, tz=tz)
    if preset in ("last_7", "last_30", "last_90"):
        days = int(preset.split("_")[1])
        return Period(start=today - timedelta(days=days - 1), end=today, tz=tz)
    if preset == "this_year":
        return Period(start=today.replace(month=1, day=1), end=today, tz=tz)
    return Period(start=today.replace(day=1), end=today, tz=tz)


# --- The funnel of one client, from its own tables -------------------------------------------------------


@dataclass
class Funnel:
    calls: int = 0
    missed_calls: int = 0
    missed_after_hours: int = 0
    answered_calls: int = 0
    textbacks_sent: int = 0
    textbacks_skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    answered_by_staff: int = 0
    first_reply_median_seconds: int | None = None
    first_reply_p90_seconds: int | None = None
    # 1 when those two are exact; SAMPLE_EVERY when they come from the sample of the waits (SAMPLE_ABOVE).
    first_reply_sample_every: int = 1
    booked: int = 0
    won: int = 0
    recovered_revenue: Decimal = Decimal("0.00")
    booked_pending: int = 0
    average_job_value: Decimal | None = None
    opt_outs: int = 0
    delivery_failures: int = 0
    missed_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    calls_by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    # Monday first; filled by set_weekdays (the report pages), not by every read of a funnel.
    missed_by_weekday: list[int] = field(default_factory=lambda: [0] * 7)
    calls_by_weekday: list[int] = field(default_factory=lambda: [0] * 7)

    @property
    def missed_in_hours(self) -> int:
        return self.missed_calls - self.missed_after_hours

    @property
    def missed_rate(self) -> Decimal | None:
        """Missed calls per call, as a percentage with one decimal; None when there were no calls."""
        return rate(self.missed_calls, self.calls)

    @property
    def missed_rate_by_hour(self) -> list[Decimal | None]:
        """The missed-call rate of each hour of the day (on each client's own clock), None for an hour without
        calls."""
        return [
            rate(missed, calls) for missed, calls in zip(self.missed_by_hour, self.calls_by_hour, strict=True)
        ]

    @property
    def missed_rate_by_weekday(self) -> list[Decimal | None]:
        """The missed-call rate of each day of the week, Monday first (each client's own local days)."""
        return [
            rate(missed, calls)
            for missed, calls in zip(self.missed_by_weekday, self.calls_by_weekday, strict=True)
        ]

    @property
    def reply_rate(self) -> Decimal | None:
        """Replies per text-back sent, as a percentage with one decimal; None when nothing was sent."""
        if not self.textbacks_sent:
            return None
        return (Decimal(100) * self.replies / self.textbacks_sent).quantize(Decimal("0.1"))

    @property
    def estimated_revenue(self) -> Decimal | None:
        """Booked jobs without an outcome yet, valued at the client's average job value: an estimate, shown
        apart from recovered revenue and never added to it. None when the client has not set that value."""
        if self.average_job_value is None:
            return None
        return (self.average_job_value * self.booked_pending).quantize(Decimal("0.01"))


def funnel_for_client(*, client: Client, period: Period, reasons: bool = True) -> Funnel:
    """The funnel of one client for one period of its local days, from the public roll-ups (three queries,
    whatever the period and however many calls; the client's schema is not entered)."""
    funnel = funnel_for_clients(client_ids=[client.pk], start=period.start, end=period.end, reasons=reasons)
    funnel.average_job_value = getattr(client, "average_job_value", None)
    return funnel


def funnel_for_clients(*, client_ids, start: date, end: date, reasons: bool = True) -> Funnel:
    """These clients' funnel together over local days start..end (each client's days its own), from the
    roll-ups and the first staff replies: three queries. No estimate (the average job value is a client's).
    reasons=False leaves skipped_reasons empty, a query less, for a comparison that does not show them."""
    rows, params = _rollup_rows(client_ids, [(start, end)], (*ROLLUP_SUMS, *HOUR_ARRAYS))
    sums = _fetch_one(f"SELECT {_SUMS_SQL}, {_HOUR_SUMS_SQL} FROM ({rows}) AS r", params)
    funnel = _funnel_from_sums(sums)
    if reasons:
        funnel.skipped_reasons = _skipped_reasons(client_ids=client_ids, start=start, end=end)
    _set_reply_times([funnel], client_ids=client_ids, periods=[(start, end)])
    return funnel


def _funnel_from_sums(sums: dict) -> Funnel:
    """A Funnel of summed roll-ups (ROLLUP_SUMS, and HOUR_SUMS when they were summed)."""
    numbers = RollupNumbers.from_sums(sums)
    funnel = Funnel(**{name: getattr(numbers, name) for name in ROLLUP_COUNTERS})
    funnel.recovered_revenue = numbers.won_value
    funnel.missed_by_hour = [sums.get(name) or 0 for name in HOUR_SUMS]
    funnel.calls_by_hour = [sums.get(name) or 0 for name in CALL_HOUR_SUMS]
    return funnel


# Percentiles of more waits than this come from the sample (FirstStaffReply.in_sample): one in SAMPLE_EVERY,
# which answers the same to the minute the report shows (the median of 50,000 waits or more is within a fraction
# of a percent of the whole's) in an eighth of the time. Sorting 1.3 million waits, an agency's year and the
# year before at 1,000 clients, took about 360 ms: most of the page. A client's report is always exact (it
# reaches this only with over a thousand answered callers a day).
SAMPLE_ABOVE = 400_000


def _set_reply_times(funnels: list[Funnel], *, client_ids, periods: list[tuple[date, date]]) -> None:
    """The median and 90th percentile wait for the first staff reply of each period (start, end), into the
    funnel beside it: one query whatever the number of periods (each period's rows FILTERed out of one read of
    the days they cover), one sort a period for both fractions. How many waits there are is known before the
    read: one for each answered_by_staff of the funnels' roll-ups."""
    rows = FirstStaffReply.objects.filter(
        client_id__in=client_ids,
        date__gte=min(start for start, _ in periods),
        date__lte=max(end for _, end in periods),
    )
    sample_every = 1
    if sum(funnel.answered_by_staff for funnel in funnels) > SAMPLE_ABOVE:
        rows, sample_every = rows.filter(in_sample=True), SAMPLE_EVERY
    aggregates = {}
    for index, (start, end) in enumerate(periods):
        within = Q(date__gte=start, date__lte=end) if len(periods) > 1 else None
        aggregates[f"waits_{index}"] = Percentiles(0.5, 0.9, filter=within)
    waits = rows.aggregate(**aggregates)
    for index, funnel in enumerate(funnels):
        median, p90 = waits[f"waits_{index}"] or (None, None)
        funnel.first_reply_median_seconds = None if median is None else round(median)
        funnel.first_reply_p90_seconds = None if p90 is None else round(p90)
        funnel.first_reply_sample_every = sample_every


def set_weekdays(funnels: list[Funnel], *, client_ids, periods: list[tuple[date, date]]) -> None:
    """Calls and missed calls by day of the week of each period (start, end), into the funnel beside it: one
    query of the roll-ups' weekday arrays, whole months from the months (rollup_spans), each row told to its
    period by its day."""
    rows, params = _rollup_rows(client_ids, periods, ("call_weekdays", "missed_weekdays"))
    which = " ".join(f"WHEN r.day BETWEEN %s AND %s THEN {index}" for index in range(len(periods)))
    sums = ", ".join(
        f"sum(r.{name}[{i + 1}]) AS {name}_{i}"
        for name in ("call_weekdays", "missed_weekdays")
        for i in range(7)
    )
    sql = f"SELECT CASE {which} END AS period, {sums} FROM ({rows}) AS r GROUP BY 1"
    found = {row["period"]: row for row in _fetch_all(sql, [*(d for p in periods for d in p), *params])}
    for index, funnel in enumerate(funnels):
        row = found.get(index, {})
        funnel.calls_by_weekday = [row.get(f"call_weekdays_{i}") or 0 for i in range(7)]
        funnel.missed_by_weekday = [row.get(f"missed_weekdays_{i}") or 0 for i in range(7)]


class Percentiles(Aggregate):
    """percentile_cont at each fraction of the seconds a caller waited for the first staff reply
    (FirstStaffReply.wait_seconds), as a list: the rows are sorted once for all the fractions."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())

    def __init__(self, *fractions: float, filter: Q | None = None):
        super().__init__(
            F("wait_seconds"),
            fractions=", ".join(repr(float(fraction)) for fraction in fractions),
            filter=filter,
        )


def _skipped_reasons(*, client_ids, start: date, end: date) -> dict[str, int]:
    """Skipped text-backs by reason, most first."""
    rows, params = _rollup_rows(client_ids, [(start, end)], ("skipped_reasons",))
    sql = (
        f"SELECT key, sum(value::int) AS n FROM ({rows}) AS r, jsonb_each_text(r.skipped_reasons) "
        "WHERE r.skipped_reasons <> '{}' GROUP BY key ORDER BY n DESC, key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {reason: n for reason, n in cursor.fetchall() if n}


def later_outcome_exists() -> Exists:
    """An outcome of the same contact recorded after this one (ties broken by id): this one is no longer the
    contact's current outcome."""
    return Exists(
        Outcome.objects.filter(contact=OuterRef("contact")).filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id"))
        )
    )


# --- From the roll-ups -------------------------------------------------------------------------------------

ROLLUP_SUMS = {name: Sum(name) for name in (*ROLLUP_COUNTERS, "won_value")}
# The names of missed_hours[0] … [23] and call_hours[0] … [23] summed position by position (_HOUR_SUMS_SQL).
HOUR_ARRAYS = ("missed_hours", "call_hours")
HOUR_SUMS = tuple(f"missed_hour_{hour}" for hour in range(24))
CALL_HOUR_SUMS = tuple(f"call_hour_{hour}" for hour in range(24))
# An agency's year of first staff replies (~730,000 at 1,000 clients) is sorted for its percentiles: in memory
# (it fits in 32 MB) rather than in temporary files, as the default 4 MB has it. For that one transaction.
PERCENTILE_WORK_MEM = "32MB"


# --- Days and months -----------------------------------------------------------------------------------------
#
# A month's MonthlyRollup row is the sum of its DailyRollup rows, so a period's sums read its whole months from
# the months (12 rows a client for a year instead of 365), and a month it covers only in part either from its
# days or as the month's row less the days outside the period, whichever reads fewer rows: "this month" on the
# 23rd is the month less the 24th to the 30th, days that have no rows yet. Every read of sums over a period
# goes through rollup_spans and _rollup_rows; a read that needs the days themselves (a trend by day or week)
# reads DailyRollup.


@dataclass(frozen=True)
class RollupSpans:
    """How the roll-ups of days start..end are read: `days`, ranges of days (inclusive) added from DailyRollup;
    `months`, the first days of the first and last whole months (inclusive) added from MonthlyRollup, or None;
    `part_months`, months covered in part, each read as (its first day, the first day of it in the period,
    the ranges of its days outside the period): its MonthlyRollup row less those days' DailyRollup rows."""

    days: tuple[tuple[date, date], ...] = ()
    months: tuple[date, date] | None = None
    part_months: tuple[tuple[date, date, tuple[tuple[date, date], ...]], ...] = ()


def rollup_spans(start: date, end: date, *, today: date | None = None) -> RollupSpans:
    """start..end as its whole months, and for each month it covers in part either its days in the period or
    the month less its days outside, whichever has fewer days that can have rows (none after tomorrow, UTC,
    `today` being the day to count from). 1 Jan – 23 Nov on the 23rd: January to November from the months,
    less 24–30 Nov; 15 Jan – 14 Feb in the past: the days."""
    last_with_rows = (today or now().date()) + timedelta(days=1)  # the latest local day anywhere on Earth

    def rows(first: date, last: date) -> int:
        return max(0, (min(last, last_with_rows) - first).days + 1)

    days: list[tuple[date, date]] = []
    whole: list[date] = []
    parts = []
    month = start.replace(day=1)
    while month <= end:
        month_end = _next_month(month) - timedelta(days=1)
        first, last = max(start, month), min(end, month_end)
        if (first, last) == (month, month_end):
            whole.append(month)
        else:
            outside = tuple(
                (a, b)
                for a, b in ((month, first - timedelta(days=1)), (last + timedelta(days=1), month_end))
                if a <= b
            )
            if 1 + sum(rows(a, b) for a, b in outside) < rows(first, last):
                parts.append((month, first, outside))
            elif days and days[-1][1] + timedelta(days=1) == first:
                days[-1] = (days[-1][0], last)  # one range across the turn of a month
            else:
                days.append((first, last))
        month = _next_month(month)
    return RollupSpans(
        days=tuple(days), months=(whole[0], whole[-1]) if whole else None, part_months=tuple(parts)
    )


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# A day's roll-up taken off its month's: each column negated.
_NEGATED = {
    **{name: f"-r.{name}" for name in (*ROLLUP_COUNTERS, "won_value")},
    **{
        name: f"ARRAY(SELECT -n FROM unnest(r.{name}) WITH ORDINALITY AS h(n, i) ORDER BY i)"
        for name in ("missed_hours", "call_hours", "missed_weekdays", "call_weekdays")
    },
    "skipped_reasons": "(SELECT jsonb_object_agg(key, -value::integer) FROM jsonb_each_text(r.skipped_reasons))",
}


def _rollup_rows(
    client_ids, periods: list[tuple[date, date]], columns, *, months: bool = True
) -> tuple[str, list]:
    """SQL and parameters of the roll-up rows that add up to each period's sums (rollup_spans), as
    (client_id, day, *columns): `day` is a day's date, a whole month's first day for a month's row, and for a
    month covered in part the first day of it in the period, on its row and on the rows of the days taken off
    it. The periods must not overlap; every row's day lies in its own period and in its own month, so the rows
    can be told apart by period and summed by client, day or month. months=False reads every day."""
    ordered = sorted(periods)
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start <= end:
            raise ValueError("Periods read together must not overlap.")
    ids = list(client_ids)
    selected = ", ".join(f"r.{name}" for name in columns)
    negated = ", ".join(f"{_NEGATED[name]} AS {name}" for name in columns)
    in_days = "WHERE r.client_id = ANY(%s::bigint[]) AND r.date BETWEEN %s AND %s"
    parts, params = [], []
    for start, end in ordered:
        spans = rollup_spans(start, end) if months else RollupSpans(days=((start, end),))
        for first, last in spans.days:
            parts.append(f"SELECT r.client_id, r.date AS day, {selected} FROM {_DAILY} AS r {in_days}")
            params += [ids, first, last]
        if spans.months is not None:
            parts.append(
                f"SELECT r.client_id, r.month AS day, {selected} FROM {_MONTHLY} AS r "
                "WHERE r.client_id = ANY(%s::bigint[]) AND r.month BETWEEN %s AND %s"
            )
            params += [ids, *spans.months]
        for month, day, outside in spans.part_months:
            parts.append(
                f"SELECT r.client_id, %s::date AS day, {selected} FROM {_MONTHLY} AS r "
                "WHERE r.client_id = ANY(%s::bigint[]) AND r.month = %s"
            )
            params += [day, ids, month]
            for first, last in outside:
                parts.append(f"SELECT r.client_id, %s::date AS day, {negated} FROM {_DAILY} AS r {in_days}")
                params += [day, ids, first, last]
    return " UNION ALL ".join(parts), params


def _fetch_all(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _fetch_one(sql: str, params: list) -> dict:
    return _fetch_all(sql, params)[0]


_DAILY = f'"{get_public_schema_name()}"."{DailyRollup._meta.db_table}"'
_MONTHLY = f'"{get_public_schema_name()}"."{MonthlyRollup._meta.db_table}"'
# ROLLUP_SUMS and HOUR_SUMS in SQL, over _rollup_rows' rows.
_SUMS_SQL = ", ".join(f"sum(r.{name}) AS {name}" for name in ROLLUP_SUMS)
_HOUR_SUMS_SQL = ", ".join(
    [f"sum(r.missed_hours[{hour + 1}]) AS {name}" for hour, name in enumerate(HOUR_SUMS)]
    + [f"sum(r.call_hours[{hour + 1}]) AS {name}" for hour, name in enumerate(CALL_HOUR_SUMS)]
)


@dataclass
class RollupNumbers:
    """Sums of daily roll-ups: the funnel without the reply-time percentiles (a median cannot be summed)."""

    calls: int = 0
    missed_calls: int = 0
    missed_after_hours: int = 0
    answered_calls: int = 0
    textbacks_sent: int = 0
    textbacks_skipped: int = 0
    replies: int = 0
    answered_by_staff: int = 0
    booked: int = 0
    won: int = 0
    won_value: Decimal = Decimal("0.00")
    booked_pending: int = 0
    opt_outs: int = 0
    delivery_failures: int = 0

    @classmethod
    def from_sums(cls, sums: dict) -> "RollupNumbers":
        values = {key: sums.get(key) or 0 for key in (*ROLLUP_COUNTERS, "won_value")}
        values["won_value"] = Decimal(values["won_value"] or 0).quantize(Decimal("0.01"))
        return cls(**values)

    @property
    def recovered_revenue(self) -> Decimal:
        return self.won_value

    @property
    def missed_rate(self) -> Decimal | None:
        return rate(self.missed_calls, self.calls)

    @property
    def reply_rate(self) -> Decimal | None:
        if not self.textbacks_sent:
            return None
        return (Decimal(100) * self.replies / self.textbacks_sent).quantize(Decimal("0.1"))


def rollup_by_client(*, client_ids, start: date, end: date) -> dict[int, RollupNumbers]:
    """Every client's numbers over local days start..end, keyed by client id (one query)."""
    rows, params = _rollup_rows(client_ids, [(start, end)], ROLLUP_SUMS)
    result = {client_id: RollupNumbers() for client_id in client_ids}
    for sums in _fetch_all(
        f"SELECT r.client_id, {_SUMS_SQL} FROM ({rows}) AS r GROUP BY r.client_id", params
    ):
        result[sums["client_id"]] = RollupNumbers.from_sums(sums)
    return result


def rollup_month_by_client(*, clients, at: datetime | None = None) -> dict[int, RollupNumbers]:
    """For the agency dashboard: each client's numbers for its own current month (the month in its time zone,
    which near midnight on the 1st differs between clients), keyed by client id. One query for any number
    of clients: at most a few distinct months, each a (client ids, date range) pair in one OR."""
    months: dict[date, list[int]] = defaultdict(list)
    for client in clients:
        months[today_in(client.timezone, at).replace(day=1)].append(client.pk)
    result = {pk: RollupNumbers() for ids in months.values() for pk in ids}
    if not months:
        return result
    condition = Q()
    for first, ids in months.items():
        last = month_period(year=first.year, month=first.month, tz="UTC").end
        condition |= Q(client_id__in=ids, date__gte=first, date__lte=last)
    for row in DailyRollup.objects.filter(condition).values("client_id").annotate(**ROLLUP_SUMS):
        result[row["client_id"]] = RollupNumbers.from_sums(row)
    return result


BUCKETS = [("day", "By day"), ("week", "By week"), ("month", "By month")]


@dataclass
class TrendPoint:
    start: date
    label: str
    numbers: RollupNumbers


def _bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday
    if bucket == "month":
        return day.replace(day=1)
    return day


def rollup_trend(*, client_ids, period: Period, bucket: str) -> list[TrendPoint]:
    """The period's numbers per day, week (from Monday) or month, every bucket present even when empty."""
    return rollup_trends(client_ids=client_ids, periods=[period], bucket=bucket)[0]


def rollup_trends(*, client_ids, periods: list[Period], bucket: str) -> list[list[TrendPoint]]:
    """rollup_trend of each period (a period and the one before), read in one query."""
    return _trends(
        _rollup_days(client_ids=client_ids, periods=periods, months=bucket == "month"),
        periods=periods,
        bucket=bucket,
    )


def _rollup_days(
    *, client_ids, periods: list[Period], hours: bool = False, months: bool = False
) -> dict[date, dict]:
    """The clients' roll-ups summed day by day over the days the periods cover, {date: sums}, in one query; with
    `months`, a whole month comes as one entry on its first day (rollup_spans), which is all that sums over the
    periods and a trend by month need. `hours` adds the missed calls by hour of day (HOUR_SUMS), always read
    from the whole months and the days around them: only their sums over a period are shown, never a day's,
    so a month's may sit on its first day beside that day's counters (a year's hours are then 12,000 arrays
    summed instead of 365,000)."""
    ranges = [(p.start, p.end) for p in periods]
    if months or not hours:
        rows, params = _rollup_rows(
            client_ids, ranges, (*ROLLUP_SUMS, *HOUR_ARRAYS) if hours else ROLLUP_SUMS, months=months
        )
        sums = f"{_SUMS_SQL}, {_HOUR_SUMS_SQL}" if hours else _SUMS_SQL
        sql = f"SELECT r.day, {sums} FROM ({rows}) AS r GROUP BY r.day"
    else:
        # Each day's counters summed from the days, and beside them the hours summed from the months and the
        # days around them: two groupings of their own rows (every row would otherwise carry 38 sums).
        days, days_params = _rollup_rows(client_ids, ranges, ROLLUP_SUMS, months=False)
        spans, spans_params = _rollup_rows(client_ids, ranges, HOUR_ARRAYS)
        no_sums = ", ".join(f"NULL AS {name}" for name in ROLLUP_SUMS)
        no_hours = ", ".join(f"NULL AS {name}" for name in (*HOUR_SUMS, *CALL_HOUR_SUMS))
        sql = (
            f"SELECT r.day, {_SUMS_SQL}, {no_hours} FROM ({days}) AS r GROUP BY r.day "
            f"UNION ALL SELECT r.day, {no_sums}, {_HOUR_SUMS_SQL} FROM ({spans}) AS r GROUP BY r.day"
        )
        params = days_params + spans_params
    by_day: dict[date, dict] = {}
    for row in _fetch_all(sql, params):
        sums = by_day.setdefault(row.pop("day"), {})
        sums.update((name, value) for name, value in row.items() if value is not None or name not in sums)
    return by_day


def _trends(by_day: dict[date, dict], *, periods: list[Period], bucket: str) -> list[list[TrendPoint]]:
    fmt = {"day": "%-d %b", "week": "wk %-d %b", "month": "%b %Y"}[bucket]
    trends = []
    for period in periods:
        buckets: dict[date, dict] = {}
        day = period.start
        while day <= period.end:
            key = _bucket_start(day, bucket)
            sums = buckets.setdefault(key, defaultdict(int))
            for name, value in by_day.get(day, {}).items():
                if name in ROLLUP_SUMS:
                    sums[name] += value or 0
            day += timedelta(days=1)
        trends.append(
            [
                TrendPoint(start=key, label=key.strftime(fmt), numbers=RollupNumbers.from_sums(sums))
                for key, sums in buckets.items()
            ]
        )
    return trends


@dataclass
class AgencyFunnels:
    funnel: Funnel
    before: Funnel
    trend: list[TrendPoint]
    trend_before: list[TrendPoint]


def agency_funnels(*, client_ids, period: Period, previous: Period, bucket: str) -> AgencyFunnels:
    """The agency report's funnel of its clients together for the period (with the skip reasons and when calls
    were missed) and the period before (without the skip reasons: the page does not show them), and both trends: the same sums
    as funnel_for_clients and rollup_trends, from the roll-ups read day by day, or for a trend by month whole
    months at once (a query a period, each planned for its own range of days; the days are summed here), one
    read of the skip reasons, one of both periods' reply times and one of both periods' calls by weekday: five
    queries in one transaction that keeps a year's sort of reply times in memory and compiles nothing (JIT
    costs more than these queries)."""
    periods = [period, previous]
    months = bucket == "month"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{PERCENTILE_WORK_MEM}'")
        cursor.execute("SET LOCAL jit = off")
        by_day = _rollup_days(client_ids=client_ids, periods=[period], hours=True, months=months)
        by_day.update(_rollup_days(client_ids=client_ids, periods=[previous], hours=True, months=months))
        funnels = []
        for each in periods:
            sums: dict = defaultdict(int)
            for day, row in by_day.items():
                if each.start <= day <= each.end:
                    for name, value in row.items():
                        sums[name] += value or 0
            funnels.append(_funnel_from_sums(sums))
        funnels[0].skipped_reasons = _skipped_reasons(
            client_ids=client_ids, start=period.start, end=period.end
        )
        _set_reply_times(funnels, client_ids=client_ids, periods=[(p.start, p.end) for p in periods])
        set_weekdays(funnels, client_ids=client_ids, periods=[(p.start, p.end) for p in periods])
    trend, trend_before = _trends(by_day, periods=periods, bucket=bucket)
    return AgencyFunnels(funnel=funnels[0], before=funnels[1], trend=trend, trend_before=trend_before)


@dataclass
class RankedClient:
    client: Client
    numbers: RollupNumbers


def agency_clients(*, agency: Agency):
    """The clients an agency's reports cover: live or paused (one still provisioning has no numbers yet)."""
    return Client.objects.filter(
        agency=agency, status__in=(Client.Status.LIVE, Client.Status.PAUSED)
    ).order_by("name")


def rollup_client_ranking(*, agency: Agency, start: date, end: date) -> list[RankedClient]:
    """The agency's clients by recovered revenue over local days start..end, highest first (two queries)."""
    clients = list(agency_clients(agency=agency))
    numbers = rollup_by_client(client_ids=[c.pk for c in clients], start=start, end=end)
    ranked = [RankedClient(client=c, numbers=numbers[c.pk]) for c in clients]
    ranked.sort(key=lambda r: (-r.numbers.won_value, -r.numbers.missed_calls, r.client.name))
    return ranked


# --- Return on what the client pays ---------------------------------------------------------------------------


@dataclass
class ReturnOnCost:
    """What text-back brought a client in a period against what the agency charged it for that period.
    `recovered` is counted (won jobs' values); the estimate is shown apart and labelled: booked jobs without an
    outcome × the average job value, and the replies not booked or won × the reply conversion rate × the
    average job value. Replies not booked or won are replies − booked − won, at least 0: a booking later won
    is taken off twice, so the estimate errs low."""

    recovered: Decimal
    booked_pending: int
    open_replies: int
    average_job_value: Decimal | None
    conversion_rate: Decimal | None  # percent
    cost: Decimal | None

    @property
    def conversion_rate_shown(self) -> str:
        """12.50 as "12.5", 20.00 as "20"."""
        if self.conversion_rate is None:
            return ""
        text = f"{self.conversion_rate:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    @property
    def estimate_booked(self) -> Decimal | None:
        if self.average_job_value is None:
            return None
        return (self.average_job_value * self.booked_pending).quantize(Decimal("0.01"))

    @property
    def estimate_replies(self) -> Decimal | None:
        if self.average_job_value is None or self.conversion_rate is None:
            return None
        jobs = Decimal(self.open_replies) * self.conversion_rate / 100
        return (jobs * self.average_job_value).quantize(Decimal("0.01"))

    @property
    def estimate(self) -> Decimal | None:
        parts = [part for part in (self.estimate_booked, self.estimate_replies) if part is not None]
        return sum(parts, Decimal("0.00")) if parts else None

    @staticmethod
    def times(value: Decimal, cost: Decimal | None) -> Decimal | None:
        """value ÷ cost to one decimal; None without a cost."""
        if not cost:
            return None
        return (value / cost).quantize(Decimal("0.1"))

    @property
    def multiple(self) -> Decimal | None:
        """Recovered revenue ÷ cost, one decimal ("returned 14.0× its cost"); None without a price."""
        return self.times(self.recovered, self.cost)

    @property
    def multiple_with_estimate(self) -> Decimal | None:
        if self.estimate is None:
            return None
        return self.times(self.recovered + self.estimate, self.cost)


def return_on_cost(*, client: Client, funnel: Funnel, period: Period) -> ReturnOnCost:
    """The client's return for the period from its funnel and its price (billing's statements: a few queries a
    month of the period)."""
    return ReturnOnCost(
        recovered=funnel.recovered_revenue,
        booked_pending=funnel.booked_pending,
        open_replies=max(0, funnel.replies - funnel.booked - funnel.won),
        average_job_value=client.average_job_value,
        conversion_rate=client.reply_conversion_rate,
        cost=client_price_for_period(client=client, start=period.start, end=period.end),
    )


# --- What works in the texts ------------------------------------------------------------------------------------

# The templates a report lists, in this order; a follow-up is one fixed text, with no wording to test.
TEMPLATE_LABELS = {
    "business_hours": "Business hours",
    "after_hours": "After hours",
    "returning_caller": "Returning caller",
    "followup": "Follow-up",
}


@dataclass
class Wording:
    """One wording's texts over a period: how many went out, and how many of them were replied to, led to a
    booking, or to an opt-out before the next text."""

    variant: str  # "a", "b", or "" when the template had one wording
    sent: int = 0
    replied: int = 0
    booked: int = 0
    opted_out: int = 0

    @property
    def reply_rate(self) -> Decimal | None:
        return rate(self.replied, self.sent)

    @property
    def booked_rate(self) -> Decimal | None:
        return rate(self.booked, self.sent)

    @property
    def opt_out_rate(self) -> Decimal | None:
        return rate(self.opted_out, self.sent)


@dataclass
class TemplateResults:
    template: str
    label: str
    wordings: list[Wording]  # one, or "a" and "b" (and the single wording's texts before or after a test)

    @property
    def total(self) -> Wording:
        total = Wording(variant="")
        for w in self.wordings:
            total.sent, total.replied = total.sent + w.sent, total.replied + w.replied
            total.booked, total.opted_out = total.booked + w.booked, total.opted_out + w.opted_out
        return total

    @property
    def test(self) -> tuple[Wording, Wording] | None:
        by_variant = {w.variant: w for w in self.wordings}
        if "a" in by_variant and "b" in by_variant:
            return by_variant["a"], by_variant["b"]
        return None

    @property
    def p_value(self) -> float | None:
        """Fisher's exact test (two-sided) of the two wordings' replies (reports.stats)."""
        if self.test is None:
            return None
        a, b = self.test
        return fisher_exact(a.replied, a.sent - a.replied, b.replied, b.sent - b.replied)

    @property
    def winner(self) -> Wording | None:
        """The wording replied to more often, when the difference is significant (p < SIGNIFICANCE)."""
        p = self.p_value
        if p is None or p >= SIGNIFICANCE:
            return None
        a, b = self.test  # type: ignore[misc]
        return a if a.replied * b.sent > b.replied * a.sent else b


def text_results(*, client: Client, period: Period) -> list[TemplateResults]:
    """Reply, booked and opt-out rates of each template (and of each wording under test) over the period, from the
    client's own tables (reports.definitions.texts_by_template): one query in the client's schema."""
    with tenant_context(client):
        rows = texts_by_template(start=period.start_at, end=period.end_at)
    grouped: dict[str, list[Wording]] = defaultdict(list)
    for template, variant, sent, replied, booked, opted_out in rows:
        grouped[template].append(Wording(variant or "", sent, replied, booked, opted_out))
    order = list(TEMPLATE_LABELS)
    return [
        TemplateResults(
            template=template,
            label=TEMPLATE_LABELS.get(template, template.replace("_", " ").capitalize()),
            wordings=sorted(wordings, key=lambda w: w.variant),
        )
        for template, wordings in sorted(
            grouped.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)
        )
    ]


# --- After the first text: links, the intake form, the follow-up, voicemails, what replies were about ----------


@dataclass
class CallerSteps:
    """What callers did with what we texted them after the first text, over a period: booking links sent,
    opened (by a person, messaging.links), and opened then booked; intake forms sent (one link a conversation,
    messaging.intake), opened by the caller and answered. Read from the public link tables; not part of the
    daily roll-ups (they count links by the day they were sent, which no roll-up column does)."""

    links_sent: int = 0
    links_opened: int = 0
    booked_after_opening: int = 0
    forms_sent: int = 0
    forms_opened: int = 0
    forms_answered: int = 0


@dataclass
class FollowupResults:
    """The one follow-up (messaging.followups) over a period: how many went out, and how many the caller answered
    afterwards ("recovered by the follow-up")."""

    sent: int = 0
    recovered: int = 0


@dataclass
class AfterTextback:
    """The caller's side after the text-back over a period, for one client or several added up: the links and
    the intake form (CallerSteps), the follow-up, voicemails left, and what callers' texts were about."""

    steps: CallerSteps = field(default_factory=CallerSteps)
    followups: FollowupResults = field(default_factory=FollowupResults)
    voicemails: int = 0
    reply_intents: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Anything counted at all (a report leaves out the section otherwise)."""
        return bool(
            self.steps.links_sent
            or self.steps.forms_sent
            or self.followups.sent
            or self.voicemails
            or self.intents
        )

    @property
    def intents(self) -> list[tuple[str, int]]:
        """(label, count), most first (ties by label); intents nobody declares any more left out."""
        labels = dict(Intent.choices)
        return sorted(
            ((labels[i], n) for i, n in self.reply_intents.items() if i in labels and n),
            key=lambda row: (-row[1], row[0]),
        )

    def __add__(self, other: "AfterTextback") -> "AfterTextback":
        def added(a, b):
            return type(a)(**{name: getattr(a, name) + getattr(b, name) for name in a.__dataclass_fields__})

        intents = dict(self.reply_intents)
        for intent, n in other.reply_intents.items():
            intents[intent] = intents.get(intent, 0) + n
        return AfterTextback(
            steps=added(self.steps, other.steps),
            followups=added(self.followups, other.followups),
            voicemails=self.voicemails + other.voicemails,
            reply_intents=intents,
        )


def _spans(clients, period: Period) -> dict[Client, tuple[datetime, datetime]]:
    """Each client's [start, end) of the period's days on its own clock (as the roll-ups count its days)."""
    spans = {}
    for client in clients:
        own = Period(period.start, period.end, client.timezone)
        spans[client] = (own.start_at, own.end_at)
    return spans


def after_textback(*, clients, period: Period) -> dict[int, AfterTextback]:
    """Each client's AfterTextback over the period's days on its own clock, keyed by client id: three queries for
    any number of clients (the booking links and the intake forms, both public and grouped by client, and one
    statement over the clients' own tables, reports.definitions.after_textback_by_client; in a transaction)."""
    spans = _spans(clients, period)
    result = {client.pk: AfterTextback() for client in spans}
    if not spans:
        return result
    by_zone: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for client, span in spans.items():
        by_zone[span].append(client.pk)
    in_period = Q()
    for (start, end), ids in by_zone.items():
        in_period |= Q(client_id__in=ids, created_at__gte=start, created_at__lt=end)
    for row in (
        TrackedLink.objects.filter(in_period)
        .values("client_id")
        .annotate(
            links_sent=Count("id"),
            links_opened=Count("id", filter=Q(first_clicked_at__isnull=False)),
            booked_after_opening=Count("id", filter=Q(booked_at__isnull=False)),
        )
    ):
        steps = result[row.pop("client_id")].steps
        for name, value in row.items():
            setattr(steps, name, value)
    for row in (
        IntakeLink.objects.filter(in_period)
        .values("client_id")
        .annotate(
            forms_sent=Count("id"),
            forms_opened=Count("id", filter=Q(first_opened_at__isnull=False)),
            forms_answered=Count("id", filter=Q(submissions__gt=0)),
        )
    ):
        steps = result[row.pop("client_id")].steps
        for name, value in row.items():
            setattr(steps, name, value)
    for client_id, row in after_textback_by_client(spans=spans).items():
        after = result[client_id]
        after.followups = FollowupResults(sent=row["followups_sent"], recovered=row["followups_recovered"])
        after.voicemails = row["voicemails"]
        after.reply_intents = dict(row["reply_intents"])
    return result


def after_textback_for_client(*, client: Client, period: Period) -> AfterTextback:
    return after_textback(clients=[client], period=period)[client.pk]


def after_textback_total(parts) -> AfterTextback:
    return sum(parts, AfterTextback())
