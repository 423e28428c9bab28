"""Callers and their conversations in a persona client's schema, for the inbox's tests."""

from datetime import timedelta
from itertools import count

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from config.celery_app import app as celery_app
from inbox import tasks
from messaging.models import Conversation
from tests.factories import ConversationFactory, MessageFactory

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
    at = now() - timedelta(minutes=minutes_ago)
    with schema_context(client.schema_name):
        conversation = ConversationFactory(
            contact__phone_number=number,
            contact__name=name,
            last_activity_at=at,
            unread_count=unread,
            **fields,
        )
        for i, body in enumerate(texts):
            MessageFactory(
                conversation=conversation,
                inbound=True,
                body=body,
                business=str(client.phone_number),
                created_at=at - timedelta(seconds=len(texts) - i),
            )
        return conversation


@pytest.fixture
def acme_schema(personas):
    with schema_context(personas.acme.schema_name):
        yield personas.acme


@pytest.fixture
def eager_tasks(monkeypatch):
    """Run queued alert tasks at once, in this process, so a webhook's alerts can be seen in the test's outbox.
    Escalations are only recorded as queued (run eagerly, a not-yet-due one would queue itself forever); the
    tests below run them at chosen times. Returns the escalations queued, as (args, countdown)."""
    escalations = []
    monkeypatch.setattr(
        tasks.escalate_reply,
        "apply_async",
        lambda args, countdown=None, **kw: escalations.append((args, countdown)),
    )
    celery_app.conf.task_always_eager = True
    yield escalations
    celery_app.conf.task_always_eager = False
