"""Reads for the API and its pages. Data selectors run in the schema of the request's client; key and
webhook reads are in public, always narrowed to their owner (a client or an agency)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.models import Agency, Client
from reports.selectors import AfterTextback, Funnel, Period, after_textback_for_client, funnel_for_client

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
    funnel: Funnel
    after: AfterTextback


def report_numbers(*, client: Client, start: date, end: date) -> ReportNumbers:
    """The numbers /reports/ shows for local days start..end, defined once in reports: the funnel (read from its
    roll-ups) and what callers did after the text-back (the link tables and three counts of the client's own
    tables, reports.selectors.after_textback)."""
    period = Period(start=start, end=end, tz=client.timezone)
    return ReportNumbers(
        start=start,
        end=end,
        timezone=client.timezone,
        funnel=funnel_for_client(client=client, period=period),
        after=after_textback_for_client(client=client, period=period),
    )
