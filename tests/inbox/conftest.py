"""Callers and their conversations in a persona client's schema, for the inbox's tests."""

from datetime import timedelta
from itertools import count

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact
from messaging.models import Conversation, Message

_numbers = count(100)


def add_conversation(
    client,
    *,
    name: str = "",
    number: str | None = None,
    texts=("Hi, can you come today?",),
    minutes_ago: int = 5,
    unread: int = 0,
    **fields,
) -> Conversation:
    """A caller who texted `texts` (inbound) `minutes_ago`, in `client`'s schema."""
    number = number or f"+1312555{next(_numbers):04d}"
    with schema_context(client.schema_name):
        contact = Contact.objects.create(phone_number=number, name=name)
        at = now() - timedelta(minutes=minutes_ago)
        conversation = Conversation.objects.create(
            contact=contact, last_activity_at=at, unread_count=unread, **fields
        )
        for i, body in enumerate(texts):
            Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.INBOUND,
                kind=Message.Kind.INBOUND,
                body=body,
                status=Message.Status.RECEIVED,
                from_number=number,
                to_number=str(client.phone_number),
                created_at=at - timedelta(seconds=len(texts) - i),
            )
        return conversation


@pytest.fixture
def acme_schema(personas):
    with schema_context(personas.acme.schema_name):
        yield personas.acme
