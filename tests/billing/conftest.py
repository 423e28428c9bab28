"""Billing's test helpers: a plan for northwind, prices for its clients, and events sent the way the core
publishes them (the domain events, from inside the transaction that records the event, in the client's schema)."""

from decimal import Decimal
from itertools import count

import pytest
from django_tenants.utils import schema_context

from billing.models import (
    AgencyBilling,
    ClientInvoice,
    ClientPrice,
    MonthlyUsage,
    Plan,
    Statement,
    UsageEvent,
    UsageWarning,
)
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
    for model in (ClientInvoice, UsageWarning, UsageEvent, MonthlyUsage, Statement):
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


def stripe_account(fake, *, name: str = "Northwind Payments") -> str:
    """An account on the fake Stripe, as one an agency admin approved on Stripe's authorize page."""
    fake.next_account(name=name, email=f"{name.split()[0].lower()}@pay.test")
    code = fake.approve()
    return fake.codes[code]


def connect_agency(agency, fake, *, invoice_clients: bool = True, pause: bool = False, name: str = ""):
    """The agency's Stripe account connected (as the Payments page leaves it), invoicing statements closed from
    1 December 2026 on."""
    from datetime import UTC, datetime

    from billing.models import StripeConnection

    account = stripe_account(fake, name=name or f"{agency.name} Payments")
    return StripeConnection.objects.create(
        agency=agency,
        account_id=account,
        account_name=name or f"{agency.name} Payments",
        invoice_clients=invoice_clients,
        invoicing_since=datetime(2026, 12, 1, tzinfo=UTC) if invoice_clients else None,
        pause_on_failed_payment=pause,
    )
