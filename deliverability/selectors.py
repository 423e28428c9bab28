"""Reading the last 7 days' rates of clients and agencies, and judging them against the thresholds.

One query for any number of clients (the public day rows, summed per client); nothing enters a client's schema.
Thresholds sit below what carriers act on, so the agency hears first: Twilio and the US carriers start looking at
a sender whose opt-outs pass about 5% and whose filtering passes a few percent; we warn at 2% and 1%."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from accounts.models import Agency, Client

from .models import COUNTERS, DeliverabilityDay, DeliverabilityPolicy, DeliverabilityState

WINDOW_DAYS = 7
# Below this many texts in the window a rate says little (1 opt-out of 3 texts is 33%): nothing is judged.
MIN_ATTEMPTED = 20

Level = DeliverabilityState.Level


@dataclass(frozen=True)
class Threshold:
    counter: str
    label: str  # "Opt-out rate"
    warning: Decimal  # a rate above this warns
    limit: Decimal  # a rate above this is over the hard limit (auto-pause, when the agency chose it)


THRESHOLDS = (
    Threshold("opt_outs", "Opt-out rate", Decimal("0.02"), Decimal("0.05")),
    # Worded for either carrier: Twilio's 30007 and Telnyx's spam codes count alike (messaging.carrier_errors).
    Threshold("filtered", "Filtered by carriers as spam", Decimal("0.01"), Decimal("0.03")),
    # Any unregistered refusal (Twilio's 30034/30032, Telnyx's 40010/40329) means every text may be blocked.
    Threshold("unregistered", "Blocked as unregistered", Decimal("0"), Decimal("0.10")),
    Threshold("undelivered", "Undelivered", Decimal("0.05"), Decimal("0.15")),
    Threshold("failed", "Failed", Decimal("0.05"), Decimal("0.15")),
)


@dataclass(frozen=True)
class Finding:
    threshold: Threshold
    level: int  # Level.WARNING or Level.LIMIT
    count: int
    attempted: int

    @property
    def rate(self) -> Decimal:
        return Decimal(self.count) / self.attempted

    @property
    def text(self) -> str:
        bound = self.threshold.limit if self.level == Level.LIMIT else self.threshold.warning
        above = "the hard limit" if self.level == Level.LIMIT else "the warning level"
        return (
            f"{self.threshold.label} {percent(self.rate)} ({self.count} of {self.attempted} texts in "
            f"{WINDOW_DAYS} days; {above} is {percent(bound)})"
        )


def percent(rate: Decimal | None) -> str:
    if rate is None:
        return "—"
    return f"{(rate * 100).quantize(Decimal('0.1'))}%"


@dataclass
class Rates:
    """One client's (or a sum of clients') last WINDOW_DAYS."""

    attempted: int = 0
    opt_outs: int = 0
    filtered: int = 0
    unregistered: int = 0
    undelivered: int = 0
    failed: int = 0
    findings: list[Finding] = field(default_factory=list)

    def rate(self, counter: str) -> Decimal | None:
        return Decimal(getattr(self, counter)) / self.attempted if self.attempted else None

    def percent(self, counter: str) -> str:
        return percent(self.rate(counter))

    @property
    def percent_opt_outs(self) -> str:  # for templates, which cannot pass an argument
        return self.percent("opt_outs")

    @property
    def percent_filtered(self) -> str:
        return self.percent("filtered")

    @property
    def level(self) -> int:
        return max((finding.level for finding in self.findings), default=Level.OK)

    @property
    def judged(self) -> bool:
        return self.attempted >= MIN_ATTEMPTED

    @classmethod
    def of(cls, counts: dict[str, int]) -> "Rates":
        rates = cls()
        for name in COUNTERS:
            setattr(rates, name, counts.get(name) or 0)
        return rates

    def __add__(self, other: "Rates") -> "Rates":
        return Rates.of({name: getattr(self, name) + getattr(other, name) for name in COUNTERS})

    @property
    def table(self) -> list[tuple[str, str, int]]:
        """(label, rate, count) per threshold, for the pages."""
        return [(t.label, self.percent(t.counter), getattr(self, t.counter)) for t in THRESHOLDS]


def judge(rates: Rates) -> Rates:
    """Fill in the findings: each rate above its warning level (or its hard limit), once there is enough traffic."""
    rates.findings = []
    if not rates.judged:
        return rates
    for threshold in THRESHOLDS:
        count = getattr(rates, threshold.counter)
        rate = Decimal(count) / rates.attempted
        if rate > threshold.limit:
            rates.findings.append(Finding(threshold, Level.LIMIT, count, rates.attempted))
        elif rate > threshold.warning:
            rates.findings.append(Finding(threshold, Level.WARNING, count, rates.attempted))
    return rates


def window(at: datetime | None = None) -> tuple[date, date]:
    """The first and last UTC day of the window ending at `at` (today and the 6 days before it)."""
    today = (at or timezone.now()).astimezone(UTC).date()
    return today - timedelta(days=WINDOW_DAYS - 1), today


def deliverability_by_client(*, client_ids: Iterable[int], at: datetime | None = None) -> dict[int, Rates]:
    """Every client's rates over the window, judged; a client without texts has all zeros. One query."""
    first, last = window(at)
    ids = list(client_ids)
    result = {pk: Rates() for pk in ids}
    rows = (
        DeliverabilityDay.objects.filter(client_id__in=ids, date__gte=first, date__lte=last)
        .values("client_id")
        .annotate(**{name: Sum(name) for name in COUNTERS})
    )
    for row in rows:
        result[row["client_id"]] = Rates.of(row)
    for rates in result.values():
        judge(rates)
    return result


def deliverability_total(rates: Iterable[Rates]) -> Rates:
    """An agency's rates: the sum of its clients', judged by the same thresholds."""
    total = Rates()
    for one in rates:
        total = total + one
    return judge(total)


def auto_pause_on(agency: Agency) -> bool:
    return DeliverabilityPolicy.objects.filter(agency=agency, auto_pause=True).exists()


def holds_until_registered(*, agency_id: int) -> bool:
    return DeliverabilityPolicy.objects.filter(agency_id=agency_id, hold_until_registered=True).exists()


def agencies_holding(*, agency_ids: Iterable[int]) -> set[int]:
    """Which of these agencies hold text-backs until registration is approved (one query)."""
    return set(
        DeliverabilityPolicy.objects.filter(
            agency_id__in=list(agency_ids), hold_until_registered=True
        ).values_list("agency_id", flat=True)
    )


def textbacks_held(client) -> bool:
    """A client's text-backs are held: its registration is pending and its agency chose to hold them. No query
    unless the registration is pending (the send path and every page of a client ask)."""
    return client.messaging_registration == Client.Registration.PENDING and holds_until_registered(
        agency_id=client.agency_id
    )
