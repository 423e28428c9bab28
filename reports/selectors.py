"""Reads for the recovered-revenue report. Keyword-only, typed.

Two sources: a client's own tables (the funnel of one client for any period, exact to the second, with the
reply-time percentiles; reports.definitions says what each number counts) and the public daily roll-ups
(trends, and everything across clients, without entering any client's schema).

For the agency dashboard: ``rollup_month_by_client`` gives every client's numbers for its current month
(missed calls, texts sent, reply rate, recovered revenue) in one query, however many clients."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import ExtractHour
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from accounts.models import Agency, Client
from crm.models import Outcome
from telephony.models import Call

from . import definitions
from .definitions import textback_chain_totals
from .models import ROLLUP_COUNTERS, DailyRollup

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
    booked: int = 0
    won: int = 0
    recovered_revenue: Decimal = Decimal("0.00")
    booked_pending: int = 0
    average_job_value: Decimal | None = None
    opt_outs: int = 0
    delivery_failures: int = 0

    @property
    def missed_in_hours(self) -> int:
        return self.missed_calls - self.missed_after_hours

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


def funnel_for_client(*, client: Client, period: Period) -> Funnel:
    """The funnel of one client for one period (in the client's time zone), from the client's own tables:
    six queries whatever the period."""
    start, end = period.start_at, period.end_at
    funnel = Funnel(average_job_value=getattr(client, "average_job_value", None))
    with tenant_context(client), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(definitions.NO_JIT)
        calls = Call.objects.filter(started_at__gte=start, started_at__lt=end).aggregate(
            calls=Count("id"),
            missed_calls=Count("id", filter=Q(outcome=Call.Outcome.MISSED)),
            missed_after_hours=Count("id", filter=Q(outcome=Call.Outcome.MISSED, in_business_hours=False)),
            answered_calls=Count("id", filter=Q(outcome=Call.Outcome.ANSWERED)),
        )
        chain = textback_chain_totals(start=start, end=end)
        outcomes = _outcome_totals(start, end)
        funnel.opt_outs = definitions.opt_outs(start=start, end=end).count()
        funnel.delivery_failures = definitions.delivery_failures(start=start, end=end).count()
    skipped = (
        definitions.skipped_textbacks(client=client, start=start, end=end)
        .values_list("reason")
        .annotate(n=Count("id"))
    )
    funnel.skipped_reasons = {reason or "unknown": n for reason, n in sorted(skipped, key=lambda r: -r[1])}
    funnel.textbacks_skipped = sum(funnel.skipped_reasons.values())
    for key, value in {**calls, **chain, **outcomes}.items():
        setattr(funnel, key, value)
    funnel.recovered_revenue = funnel.recovered_revenue or Decimal("0.00")
    return funnel


def later_outcome_exists() -> Exists:
    """An outcome of the same contact recorded after this one (ties broken by id): this one is no longer the
    contact's current outcome."""
    return Exists(
        Outcome.objects.filter(contact=OuterRef("contact")).filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id"))
        )
    )


def _outcome_totals(start: datetime, end: datetime) -> dict:
    return (
        Outcome.objects.filter(created_at__gte=start, created_at__lt=end)
        .alias(superseded=later_outcome_exists())
        .aggregate(
            booked=Count("id", filter=Q(kind=Outcome.Kind.BOOKED)),
            won=Count("id", filter=Q(kind=Outcome.Kind.WON)),
            recovered_revenue=Sum("value", filter=Q(kind=Outcome.Kind.WON)),
            booked_pending=Count("id", filter=Q(kind=Outcome.Kind.BOOKED, superseded=False)),
        )
    )


def missed_by_hour(*, client: Client, period: Period) -> list[int]:
    """Missed calls by hour of the day (0–23, the client's local time): when do they miss calls?"""
    hours = [0] * 24
    with tenant_context(client):
        rows = (
            Call.objects.filter(
                outcome=Call.Outcome.MISSED, started_at__gte=period.start_at, started_at__lt=period.end_at
            )
            .annotate(hour=ExtractHour("started_at", tzinfo=ZoneInfo(client.timezone)))
            .values_list("hour")
            .annotate(n=Count("id"))
        )
        for hour, n in rows:
            hours[hour] = n
    return hours


# --- From the roll-ups -------------------------------------------------------------------------------------

ROLLUP_SUMS = {name: Sum(name) for name in (*ROLLUP_COUNTERS, "won_value")}


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
    def reply_rate(self) -> Decimal | None:
        if not self.textbacks_sent:
            return None
        return (Decimal(100) * self.replies / self.textbacks_sent).quantize(Decimal("0.1"))


def rollup_totals(*, client_ids, start: date, end: date) -> RollupNumbers:
    """The numbers of these clients together over local days start..end (one query)."""
    sums = DailyRollup.objects.filter(client_id__in=client_ids, date__gte=start, date__lte=end).aggregate(
        **ROLLUP_SUMS
    )
    return RollupNumbers.from_sums(sums)


def rollup_by_client(*, client_ids, start: date, end: date) -> dict[int, RollupNumbers]:
    """Every client's numbers over local days start..end, keyed by client id (one query)."""
    rows = (
        DailyRollup.objects.filter(client_id__in=client_ids, date__gte=start, date__lte=end)
        .values("client_id")
        .annotate(**ROLLUP_SUMS)
    )
    result = {client_id: RollupNumbers() for client_id in client_ids}
    for row in rows:
        result[row["client_id"]] = RollupNumbers.from_sums(row)
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


def rollup_skipped_reasons(*, client_ids, start: date, end: date) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    rows = DailyRollup.objects.filter(client_id__in=client_ids, date__gte=start, date__lte=end).exclude(
        skipped_reasons={}
    )
    for reasons in rows.values_list("skipped_reasons", flat=True):
        for reason, n in reasons.items():
            totals[reason] += n
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


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
    rows = (
        DailyRollup.objects.filter(client_id__in=client_ids, date__gte=period.start, date__lte=period.end)
        .values("date")
        .annotate(**ROLLUP_SUMS)
    )
    by_day = {row["date"]: row for row in rows}
    buckets: dict[date, dict] = {}
    day = period.start
    while day <= period.end:
        key = _bucket_start(day, bucket)
        sums = buckets.setdefault(key, defaultdict(int))
        for name, value in by_day.get(day, {}).items():
            if name != "date":
                sums[name] += value or 0
        day += timedelta(days=1)
    fmt = {"day": "%-d %b", "week": "wk %-d %b", "month": "%b %Y"}[bucket]
    return [
        TrendPoint(start=key, label=key.strftime(fmt), numbers=RollupNumbers.from_sums(sums))
        for key, sums in buckets.items()
    ]


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
