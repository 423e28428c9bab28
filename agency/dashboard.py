"""Reads for the agency dashboard: every client of the agency with this month's numbers and what needs a look.

A constant number of queries however many clients there are: the clients (one query), then the public daily
roll-ups (this month's numbers from reports.selectors, the quiet-week window in one more query), and the 7-day
deliverability counts (one more). Nothing here enters a client's schema, so 1,000 clients
cost what 10 do, give or take the rows."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import CharField, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Agency, Client
from deliverability.selectors import Rates, agencies_holding, deliverability_by_client
from messaging.selectors import send_oldest_overdue
from reports.models import DailyRollup
from reports.selectors import RollupNumbers, rollup_month_by_client, today_in

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Number(TypedDict):
        number: str | None  # the phone number as text; None while the client has none

    # A client as dashboard_clients reads it.
    DashboardClient = WithAnnotations[Client, _Number]

QUIET_DAYS = 7


class Stage:
    """What the dashboard calls a client's status: onboarding covers provisioning, a failed provisioning and a
    provisioned client the wizard has not put live yet (Client.went_live_at empty)."""

    ONBOARDING = "onboarding"
    LIVE = "live"
    PAUSED = "paused"
    OFFBOARDED = "offboarded"

    LABELS = {ONBOARDING: "Onboarding", LIVE: "Live", PAUSED: "Paused", OFFBOARDED: "Offboarded"}
    STATUSES = {
        ONBOARDING: [Client.Status.PROVISIONING, Client.Status.FAILED],
        LIVE: [Client.Status.LIVE],
        PAUSED: [Client.Status.PAUSED],
        OFFBOARDED: [Client.Status.ARCHIVED],
    }

    @classmethod
    def of(cls, client: Client) -> str:
        if client.is_onboarding:
            return cls.ONBOARDING
        return next(stage for stage, statuses in cls.STATUSES.items() if client.status in statuses)

    @classmethod
    def query(cls, stage: str) -> Q:
        not_live_yet = Q(status__in=[Client.Status.LIVE, Client.Status.PAUSED], went_live_at__isnull=True)
        if stage == cls.ONBOARDING:
            return Q(status__in=cls.STATUSES[stage]) | not_live_yet
        if stage in (cls.LIVE, cls.PAUSED):
            return Q(status__in=cls.STATUSES[stage]) & ~not_live_yet
        return Q(status__in=cls.STATUSES[stage])


@dataclass
class DashboardRow:
    client: Client
    month: RollupNumbers
    stage: str
    warnings: list[str] = field(default_factory=list)
    texting: Rates = field(default_factory=Rates)  # the last 7 days' deliverability

    @property
    def stage_label(self) -> str:
        return Stage.LABELS[self.stage]


SORTS = {
    "name": lambda row: row.client.name.lower(),
    "status": lambda row: row.stage,
    "missed": lambda row: row.month.missed_calls,
    "sent": lambda row: row.month.textbacks_sent,
    "reply_rate": lambda row: row.month.reply_rate if row.month.reply_rate is not None else Decimal(-1),
    "revenue": lambda row: row.month.recovered_revenue,
    "webhook": lambda row: row.client.last_webhook_at or datetime.min.replace(tzinfo=UTC),
    "warnings": lambda row: len(row.warnings),
}
# Numbers read best biggest first; names and statuses A to Z.
SORT_DESCENDING_BY_DEFAULT = {"missed", "sent", "reply_rate", "revenue", "webhook", "warnings"}


# What the table shows; loading only these keeps a thousand model instances cheap.
DASHBOARD_FIELDS = (
    "id",
    "agency_id",
    "slug",
    "name",
    "status",
    "provisioning_error",
    "timezone",
    "created_at",
    "last_webhook_at",
    "went_live_at",
    "messaging_registration",
    "agency__id",
    "agency__slug",
    "agency__name",
    "agency__brand_name",
    "agency__custom_domain",  # client_url: a client's link is on its agency's domain once verified
    "agency__custom_domain_verified_at",
    "onboarding__id",
    "onboarding__client_id",
    "onboarding__reached",
    "onboarding__completed_at",
)


def dashboard_clients(
    *, agencies: QuerySet[Agency], stage: str = "", search: str = ""
) -> "QuerySet[DashboardClient]":
    """The clients of these agencies, narrowed by stage and a search over name, slug and number. Offboarded
    clients only when asked for."""
    # The numbers come back as plain text: a PhoneNumberField parses every value it loads, which for a thousand
    # clients cost more than all the queries together (bench/agency_dashboard.py).
    clients = (
        Client.objects.filter(agency__in=agencies)
        .select_related("agency", "onboarding")
        .only(*DASHBOARD_FIELDS)
        .annotate(number=Cast("phone_number", CharField()))
    )
    if stage in Stage.STATUSES:
        clients = clients.filter(Stage.query(stage))
    else:
        clients = clients.exclude(status=Client.Status.ARCHIVED)
    search = search.strip()
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        match = Q(name__icontains=search) | Q(slug__icontains=search)
        if len(digits) >= 3:
            match |= Q(phone_number__contains=digits)
        clients = clients.filter(match)
    return clients


def _calls_recent_by_client(client_ids: list[int], today) -> dict[int, int]:
    """Calls in the last QUIET_DAYS, from the roll-ups (one query)."""
    rows = (
        DailyRollup.objects.filter(
            client_id__in=client_ids, date__gte=today - timedelta(days=QUIET_DAYS - 1), date__lte=today
        )
        .values("client_id")
        .annotate(calls=Sum("calls"))
    )
    result = dict.fromkeys(client_ids, 0)
    result.update({row["client_id"]: row["calls"] or 0 for row in rows})
    return result


def _warnings(
    client: "DashboardClient", calls_recent: int, texting: Rates, at: datetime, held: bool = False
) -> list[str]:
    warnings = []
    if client.status == Client.Status.FAILED:
        warnings.append(f"Setup failed: {client.provisioning_error or 'see the onboarding page'}")
    if not client.number:
        warnings.append("Number not configured")
    if client.messaging_registration == Client.Registration.PENDING:
        warnings.append(
            "Text-backs held until its A2P 10DLC registration is approved"
            if held
            else "Messaging registration pending: US carriers may filter its texts"
        )
    if (
        client.status == Client.Status.LIVE
        and client.went_live_at is not None
        and client.went_live_at <= at - timedelta(days=QUIET_DAYS)
        and calls_recent == 0
    ):
        warnings.append(f"No calls in {QUIET_DAYS} days")
    # What carriers would act on (deliverability.selectors: opt-outs, filtering, registration, failures).
    warnings.extend(finding.text for finding in texting.findings)
    return warnings


def dashboard_rows(
    *,
    clients: "QuerySet[DashboardClient]",
    sort: str = "name",
    descending: bool | None = None,
    at: datetime | None = None,
) -> list[DashboardRow]:
    """Each client with its numbers for its own current month and its health warnings, sorted."""
    at = at or timezone.now()
    listed = list(clients)
    ids = [client.pk for client in listed]
    month = rollup_month_by_client(clients=listed, at=at)
    # The windows for warnings are in UTC days: a day either way does not change whether a week was silent.
    today = today_in("UTC", at)
    calls_recent = _calls_recent_by_client(ids, today)
    texting = deliverability_by_client(client_ids=ids, at=at)
    # Whose agencies hold text-backs until registration is approved: asked only when a listed client is pending.
    pending = {c.agency_id for c in listed if c.messaging_registration == Client.Registration.PENDING}
    holding = agencies_holding(agency_ids=pending) if pending else set()
    rows = [
        DashboardRow(
            client=client,
            month=month[client.pk],
            stage=Stage.of(client),
            warnings=_warnings(
                client, calls_recent[client.pk], texting[client.pk], at, held=client.agency_id in holding
            ),
            texting=texting[client.pk],
        )
        for client in listed
    ]
    key = SORTS.get(sort, SORTS["name"])
    if descending is None:
        descending = sort in SORT_DESCENDING_BY_DEFAULT
    # Ties (and the many zeros of a new agency) fall back to the name, always A to Z.
    rows.sort(key=lambda row: row.client.name.lower())
    rows.sort(key=key, reverse=descending)
    return rows


SPARK_DAYS = 30


@dataclass
class DashboardTotals:
    """The row of totals the dashboard opens with: this month across the clients listed, and the last 30 days
    of each as a daily series for its sparkline."""

    clients: int
    recovered: Decimal
    missed_calls: int
    replies_waiting: int  # callers who replied to a text-back this month and got no staff answer yet
    needing_attention: int
    recovered_by_day: list = field(default_factory=list)
    missed_by_day: list = field(default_factory=list)
    waiting_by_day: list = field(default_factory=list)


def dashboard_totals(*, rows: list[DashboardRow], at: datetime | None = None) -> DashboardTotals:
    """Sums of the rows' months (already read), and one more query over the public roll-ups for the last 30
    days by day. Nothing enters a client's schema."""
    at = at or timezone.now()
    today = today_in("UTC", at)
    start = today - timedelta(days=SPARK_DAYS - 1)
    days = (
        {
            row["date"]: row
            for row in DailyRollup.objects.filter(
                client_id__in=[r.client.pk for r in rows], date__gte=start, date__lte=today
            )
            .values("date")
            .annotate(
                won=Sum("won_value"),
                missed=Sum("missed_calls"),
                replies=Sum("replies"),
                answered=Sum("answered_by_staff"),
            )
        }
        if rows
        else {}
    )
    series = [days.get(start + timedelta(days=i), {}) for i in range(SPARK_DAYS)]
    return DashboardTotals(
        clients=len(rows),
        recovered=sum((r.month.recovered_revenue for r in rows), Decimal("0.00")),
        missed_calls=sum(r.month.missed_calls for r in rows),
        replies_waiting=sum(max(0, r.month.replies - r.month.answered_by_staff) for r in rows),
        needing_attention=sum(1 for r in rows if r.warnings),
        recovered_by_day=[day.get("won") or 0 for day in series],
        missed_by_day=[day.get("missed") or 0 for day in series],
        waiting_by_day=[max(0, (day.get("replies") or 0) - (day.get("answered") or 0)) for day in series],
    )


def late_sends_notice(user) -> str:
    """For platform operators only: a sentence when text-backs are going out late anywhere on the platform
    (the same measure as /healthz), so the person who can fix the worker or the broker hears of it first."""
    if not (user.is_staff or user.is_superuser):
        return ""
    overdue = send_oldest_overdue()
    if overdue is None or overdue.total_seconds() <= settings.SEND_LATE_SECONDS:
        return ""
    minutes = max(1, round(overdue.total_seconds() / 60))
    return (
        f"Text-backs are late: the oldest one due has waited {minutes} min. /healthz says which part is down."
    )
