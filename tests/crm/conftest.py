"""Callers' data in the persona clients' schemas, made the way the tests need it."""

from datetime import timedelta

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact, Outcome
from messaging.models import Conversation, Message
from telephony.models import Call
from tests.factories import CallFactory, ContactFactory, MessageFactory, OutcomeFactory


class Maker:
    """Rows in one client's schema: maker.contact("+13125550177", name="Pat")."""

    def __init__(self, client):
        self.client = client
        self.number = str(client.phone_number)

    def contact(self, number: str, **fields) -> Contact:
        with schema_context(self.client.schema_name):
            return ContactFactory(phone_number=number, **fields)

    def call(
        self, contact: Contact, *, ago: timedelta = timedelta(0), outcome=Call.Outcome.MISSED, **fields
    ) -> Call:
        with schema_context(self.client.schema_name):
            return CallFactory(
                contact=contact, business=self.number, outcome=outcome, started_at=now() - ago, **fields
            )

    def text(
        self, contact: Contact, body: str, *, inbound: bool = False, ago: timedelta = timedelta(0)
    ) -> Message:
        with schema_context(self.client.schema_name):
            conversation, _ = Conversation.objects.get_or_create(contact=contact)
            return MessageFactory(
                conversation=conversation,
                body=body,
                inbound=inbound,
                business=self.number,
                created_at=now() - ago,
            )

    def outcome(
        self, contact: Contact, kind=Outcome.Kind.WON, *, ago: timedelta = timedelta(0), **fields
    ) -> Outcome:
        with schema_context(self.client.schema_name):
            return OutcomeFactory(contact=contact, kind=kind, created_at=now() - ago, **fields)

    def get(self, contact_id: int) -> Contact | None:
        with schema_context(self.client.schema_name):
            return Contact.objects.filter(pk=contact_id).first()


@pytest.fixture
def acme(personas) -> Maker:
    return Maker(personas.acme)


@pytest.fixture
def bolt(personas) -> Maker:
    return Maker(personas.bolt)
