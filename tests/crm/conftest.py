"""Callers' data in the persona clients' schemas, made the way the tests need it."""

import itertools
from datetime import timedelta

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact, Outcome
from messaging.models import Conversation, Message
from telephony.models import Call

_sids = itertools.count(1)


class Maker:
    """Rows in one client's schema: maker.contact("+13125550177", name="Pat")."""

    def __init__(self, client):
        self.client = client

    def contact(self, number: str, **fields) -> Contact:
        with schema_context(self.client.schema_name):
            return Contact.objects.create(phone_number=number, **fields)

    def call(
        self, contact: Contact, *, ago: timedelta = timedelta(0), outcome=Call.Outcome.MISSED, **fields
    ) -> Call:
        with schema_context(self.client.schema_name):
            return Call.objects.create(
                call_sid=f"CA{next(_sids):032d}",
                from_number=contact.phone_number,
                to_number=str(self.client.phone_number),
                contact=contact,
                outcome=outcome,
                started_at=now() - ago,
                **fields,
            )

    def text(
        self, contact: Contact, body: str, *, inbound: bool = False, ago: timedelta = timedelta(0)
    ) -> Message:
        with schema_context(self.client.schema_name):
            conversation, _ = Conversation.objects.get_or_create(contact=contact)
            client_number = str(self.client.phone_number)
            return Message.objects.create(
                conversation=conversation,
                body=body,
                created_at=now() - ago,
                direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
                kind=Message.Kind.INBOUND if inbound else Message.Kind.TEXT_BACK,
                status=Message.Status.RECEIVED if inbound else Message.Status.DELIVERED,
                from_number=contact.phone_number if inbound else client_number,
                to_number=client_number if inbound else contact.phone_number,
            )

    def outcome(
        self, contact: Contact, kind=Outcome.Kind.WON, *, ago: timedelta = timedelta(0), **fields
    ) -> Outcome:
        with schema_context(self.client.schema_name):
            return Outcome.objects.create(contact=contact, kind=kind, created_at=now() - ago, **fields)

    def get(self, contact_id: int) -> Contact | None:
        with schema_context(self.client.schema_name):
            return Contact.objects.filter(pk=contact_id).first()


@pytest.fixture
def acme(personas) -> Maker:
    return Maker(personas.acme)


@pytest.fixture
def bolt(personas) -> Maker:
    return Maker(personas.bolt)
