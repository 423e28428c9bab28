"""Reads for the API and its pages. Data selectors run in the schema of the request's client; key and
webhook reads are in public, always narrowed to their owner (a client or an agency)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from accounts.models import Agency, Client
from crm.models import Outcome
from messaging.models import Message, OutboundSend
from telephony.models import Call

from .models import ApiKey, WebhookDelivery, WebhookEndpoint

# --- Who owns what -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """A client (on its host) or an agency (on its host): whose keys and endpoints a page shows."""

    client: Client | None = None
    agency: Agency | None = None

    def filter(self) -> Q:
        return (
            Q(client=self.client) if self.client is not None else Q(agency=self.agency, client__isnull=True)
        )

    @property
    def name(self) -> str:
        return self.client.name if self.client is not None else self.agency.display_name


def apikey_list(*, owner: Owner) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(owner.filter()).select_related("created_by")


def apikey_get(*, owner: Owner, key_id: int) -> ApiKey:
    key = apikey_list(owner=owner).filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key")
    return key


def webhook_endpoint_list(*, owner: Owner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner.filter()).annotate(
        failing=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.FAILED))
    )


def webhook_endpoint_get(*, owner: Owner, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(owner.filter(), pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such endpoint")
    return endpoint


def webhook_delivery_get(*, owner: Owner, delivery_id: int) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id)
        .filter(**{f"endpoint__{k}": v for k, v in _owner_kwargs(owner).items()})
        .first()
    )
    if delivery is None:
        raise Http404("No such delivery")
    return delivery


def _owner_kwargs(owner: Owner) -> dict:
    if owner.client is not None:
        return {"client": owner.client}
    return {"agency": owner.agency, "client__isnull": True}


# --- Report numbers ----------------------------------------------------------------------------------------


@dataclass
class ReportNumbers:
    start: date
    end: date
    timezone: str
    calls: int
    missed_calls: int
    answered_calls: int
    textbacks_sent: int
    textbacks_skipped: int
    replies: int
    conversations: int
    booked: int
    won: int
    lost: int
    won_value: Decimal


def period_bounds(*, client: Client, start: date, end: date) -> tuple[datetime, datetime]:
    """From midnight of `start` to midnight after `end`, in the client's time zone (DST-safe)."""
    zone = ZoneInfo(client.timezone)
    return (
        datetime.combine(start, time(0), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone),
    )


def report_numbers(*, client: Client, start: date, end: date) -> ReportNumbers:
    """Counts for a period straight from the client's own tables (five queries, whatever the period)."""
    since, until = period_bounds(client=client, start=start, end=end)
    calls = Call.objects.filter(started_at__gte=since, started_at__lt=until).aggregate(
        calls=Count("id"),
        missed=Count("id", filter=Q(outcome=Call.Outcome.MISSED)),
        answered=Count("id", filter=Q(outcome=Call.Outcome.ANSWERED)),
    )
    texts = Message.objects.filter(created_at__gte=since, created_at__lt=until).aggregate(
        sent=Count(
            "id",
            filter=Q(kind=Message.Kind.TEXT_BACK, status__in=[Message.Status.SENT, Message.Status.DELIVERED]),
        ),
        replies=Count("id", filter=Q(direction=Message.Direction.INBOUND)),
        conversations=Count("conversation", distinct=True, filter=Q(direction=Message.Direction.INBOUND)),
    )
    skipped = OutboundSend.objects.filter(
        client=client,
        kind=OutboundSend.Kind.TEXT_BACK,
        state=OutboundSend.State.SKIPPED,
        event_at__gte=since,
        event_at__lt=until,
    ).count()
    outcomes = Outcome.objects.filter(created_at__gte=since, created_at__lt=until).aggregate(
        booked=Count("id", filter=Q(kind=Outcome.Kind.BOOKED)),
        won=Count("id", filter=Q(kind=Outcome.Kind.WON)),
        lost=Count("id", filter=Q(kind=Outcome.Kind.LOST)),
        won_value=Sum("value", filter=Q(kind=Outcome.Kind.WON)),
    )
    return ReportNumbers(
        start=start,
        end=end,
        timezone=client.timezone,
        calls=calls["calls"],
        missed_calls=calls["missed"],
        answered_calls=calls["answered"],
        textbacks_sent=texts["sent"],
        textbacks_skipped=skipped,
        replies=texts["replies"],
        conversations=texts["conversations"],
        booked=outcomes["booked"],
        won=outcomes["won"],
        lost=outcomes["lost"],
        won_value=outcomes["won_value"] or Decimal("0.00"),
    )
