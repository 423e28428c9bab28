"""Billing's test helpers: a plan for northwind, prices for its clients, and events sent the way the core
publishes them (the domain events, from inside the transaction that records the event, in the client's schema)."""

from decimal import Decimal
from itertools import count

import pytest
from django_tenants.utils import schema_context

from billing.models import AgencyBilling, ClientPrice, MonthlyUsage, Plan, Statement, UsageEvent, UsageWarning
from crm.services import contact_upsert
from events.bus import publish
from messaging.events import MessageSent
from messaging.models import Message
from messaging.services import message_queue

_numbers = count(200)
_sids = count(1)


@pytest.fixture(autouse=True)
def _no_usage_from_other_tests(request):
    """Tests against the running stack commit real traffic, and metering counts it in public tables that
    tests/stack.py does not wipe; each billing test starts from none (deleted inside its own transaction)."""
    if "django_db" not in {mark.name for mark in request.node.iter_markers()}:
        return
    request.getfixturevalue("db")
    for model in (UsageWarning, UsageEvent, MonthlyUsage, Statement):
        model.objects.all().delete()


@pytest.fixture
def plan(personas):
    plan = Plan.objects.create(
        name="Growth",
        monthly_price=Decimal("49.00"),
        price_per_active_client=Decimal("10.00"),
        included_segments_per_client=100,
        overage_per_segment=Decimal("0.0125"),
        price_per_voice_minute=Decimal("0.0150"),
        price_per_lookup=Decimal("0.0050"),
    )
    AgencyBilling.objects.create(agency=personas.northwind, plan=plan, time_zone="America/Chicago")
    return plan


def price_for(client, **fields) -> ClientPrice:
    defaults = {
        "monthly_price": Decimal("99.00"),
        "price_per_segment": Decimal("0.0300"),
        "price_per_voice_minute": Decimal("0.0400"),
    }
    price, _ = ClientPrice.objects.update_or_create(client=client, defaults={**defaults, **fields})
    return price


def usage(client, month) -> MonthlyUsage:
    return MonthlyUsage.objects.filter(client=client, month=month).first() or MonthlyUsage(client=client)


def sent_message(client, body: str = "Sorry we missed your call!", *, number: str | None = None) -> Message:
    """An outbound text written by the core's own path (message_queue counts its segments), then reported
    sent by message_sent, as the send path does when the provider accepts it."""
    with schema_context(client.schema_name):
        contact = contact_upsert(phone_number=number or f"+1312555{next(_numbers):04d}")
        message = message_queue(client=client, contact=contact, body=body, kind=Message.Kind.REPLY)
        message.provider_sid = f"SM{next(_sids):032d}"
        message.status = Message.Status.SENT
        message.save(update_fields=["provider_sid", "status"])
        publish(MessageSent(client=client, message=message))
    return message


def republish(client, event_type, **fields) -> None:
    with schema_context(client.schema_name):
        publish(event_type(client=client, **fields))
