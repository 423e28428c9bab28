"""Merging a duplicate contact (the same person calling from a second phone) into another."""

from datetime import timedelta

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from config import subscribers
from crm import services
from crm.events import ContactMerged
from crm.models import Contact, Outcome
from events.bus import Policy
from inbox.models import Note
from messaging import receivers as messaging_receivers
from messaging.events import ConversationJoined
from messaging.models import ConsentEvent, Conversation, Message
from telephony.models import Call, Callback

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


@pytest.fixture
def pair(acme):
    keep = acme.contact(
        "+13125550177",
        name="Pat Caller",
        tags=["vip"],
        notes="Gate code 1234",
        created_at=now() - timedelta(days=3),
    )
    dupe = acme.contact(
        "+17735550188",
        email="pat@example.com",
        tags=["repeat", "vip"],
        notes="Has a dog",
        created_at=now() - timedelta(days=10),
    )
    return keep, dupe


def test_every_relation_to_a_contact_or_a_conversation_has_its_mover():
    """A merge deletes the duplicate contact and its conversation: a new foreign key to either must be moved,
    by crm itself (outcomes) or by the app that keeps it, subscribed atomically to ContactMerged or
    ConversationJoined, or a merge would cascade-delete its rows. Add the new relation here with its mover, and
    to the test below."""
    movers = {(s.event, s.handler.__module__) for s in subscribers.SUBSCRIPTIONS if s.policy is Policy.ATOMIC}
    moved_by = {
        (Contact, "outcomes"): (ContactMerged, "crm.services"),  # crm's own rows: contact_merge moves them
        (Contact, "calls"): (ContactMerged, "telephony.receivers"),
        (Contact, "callbacks"): (ContactMerged, "telephony.receivers"),
        (Contact, "consent_events"): (ContactMerged, "messaging.receivers"),
        (Contact, "conversation"): (ContactMerged, "messaging.receivers"),
        (Conversation, "messages"): (ContactMerged, "messaging.receivers"),
        (Conversation, "notes"): (ConversationJoined, "inbox.receivers"),
    }
    relations = {
        (model, rel.get_accessor_name())
        for model in (Contact, Conversation)
        for rel in model._meta.related_objects
    }
    assert relations == set(moved_by)
    assert {mover for mover in moved_by.values() if mover[1] != "crm.services"} == movers


def test_it_moves_calls_outcomes_consent_and_the_whole_conversation(web, personas, acme, pair):
    keep, dupe = pair
    acme.call(keep, ago=timedelta(hours=5))
    acme.call(dupe, ago=timedelta(hours=3))
    acme.text(keep, "Sorry we missed you", ago=timedelta(hours=5))
    acme.text(dupe, "Sorry we missed you", ago=timedelta(hours=3))
    acme.text(dupe, "It's Pat again, from my work phone", inbound=True, ago=timedelta(hours=2))
    acme.outcome(dupe, Outcome.Kind.BOOKED)
    with schema_context(personas.acme.schema_name):
        Conversation.objects.filter(contact=dupe).update(
            unread_count=1, assigned_to_id=personas.bob.pk, last_inbound_at=now() - timedelta(hours=2)
        )
        Conversation.objects.filter(contact=keep).update(status=Conversation.Status.CLOSED, closed_at=now())
        Note.objects.create(
            conversation=Conversation.objects.get(contact=dupe),
            author_id=personas.bob.pk,
            body="Same person as +13125550177",
        )
        ConsentEvent.objects.create(
            contact=dupe, kind=ConsentEvent.Kind.OPT_OUT, source=ConsentEvent.Source.STAFF
        )
        ConsentEvent.objects.create(
            contact=dupe, kind=ConsentEvent.Kind.OPT_IN, source=ConsentEvent.Source.STAFF
        )
        kept_conversation = Conversation.objects.get(contact=keep).pk
        called_back = Callback.objects.create(
            contact=dupe,
            to_number=str(dupe.phone_number),
            staff_number="+13125550199",
            placed_by_id=personas.bob.pk,
        )

    response = web(HOST, personas.alice).post(f"/contacts/{keep.pk}/merge/{dupe.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/contacts/{keep.pk}/"

    with schema_context(personas.acme.schema_name):
        assert not Contact.objects.filter(pk=dupe.pk).exists()
        assert (
            Callback.objects.get(pk=called_back.pk).contact_id == keep.pk
        )  # the call back stays in the thread
        merged = Contact.objects.get(pk=keep.pk)
        assert merged.phone_number == "+13125550177"
        assert merged.name == "Pat Caller" and merged.email == "pat@example.com"
        assert merged.tags == ["vip", "repeat"]
        assert merged.notes == "Gate code 1234\n\nHas a dog"
        assert merged.created_at == dupe.created_at  # first seen: the earlier of the two
        assert Call.objects.filter(contact=merged).count() == 2
        assert Outcome.objects.filter(contact=merged).count() == 1
        assert ConsentEvent.objects.filter(contact=merged).count() == 2
        conversation = Conversation.objects.get(contact=merged)
        assert conversation.pk == kept_conversation and Conversation.objects.count() == 1
        assert [m.body for m in conversation.messages.all()] == [
            "Sorry we missed you",
            "Sorry we missed you",
            "It's Pat again, from my work phone",
        ]
        assert conversation.notes.get().body == "Same person as +13125550177"
        assert conversation.unread_count == 1 and conversation.assigned_to_id == personas.bob.pk
        # The duplicate's thread was open (waiting for an answer), so the joined one is too.
        assert conversation.status == Conversation.Status.OPEN and conversation.closed_at is None
        assert conversation.last_inbound_at is not None


def test_an_open_thread_stays_open_and_a_lone_conversation_simply_moves(personas, acme, pair):
    keep, dupe = pair
    acme.text(dupe, "Hello?", inbound=True)
    with schema_context(personas.acme.schema_name):
        moved = Conversation.objects.get(contact=dupe).pk
        services.contact_merge(client=personas.acme, into=keep, other=dupe)
        assert Conversation.objects.get(contact=keep).pk == moved
        assert Message.objects.get().conversation_id == moved


def test_opted_out_or_blocked_on_either_number_stays_so(personas, acme):
    keep = acme.contact("+13125550177")
    dupe = acme.contact("+17735550188", opted_out=True, is_blocked=True)
    with schema_context(personas.acme.schema_name):
        merged = services.contact_merge(client=personas.acme, into=keep, other=dupe)
        merged.refresh_from_db()
    assert merged.opted_out and merged.is_blocked


def test_it_is_all_or_nothing(personas, acme, pair, monkeypatch):
    keep, dupe = pair
    acme.call(dupe)
    # The last step of the merge, in another app (messaging), fails: nothing of the merge is left.
    monkeypatch.setattr(messaging_receivers, "_conversation_join", lambda **kw: 1 / 0)
    acme.text(keep, "a")
    acme.text(dupe, "b")
    with schema_context(personas.acme.schema_name), pytest.raises(ZeroDivisionError):
        services.contact_merge(client=personas.acme, into=keep, other=dupe)
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.filter(pk=dupe.pk).exists()
        assert Call.objects.get().contact_id == dupe.pk
        assert Message.objects.get(body="b").conversation.contact_id == dupe.pk


def test_a_contact_cannot_be_merged_into_itself(web, personas, acme, pair):
    keep, _ = pair
    assert web(HOST, personas.alice).post(f"/contacts/{keep.pk}/merge/{keep.pk}/").status_code == 404
    with schema_context(personas.acme.schema_name), pytest.raises(ValueError):
        services.contact_merge(client=personas.acme, into=keep, other=keep)


def test_the_pages_find_a_duplicate_and_say_what_will_move(web, personas, acme, pair):
    keep, dupe = pair
    acme.call(dupe)
    dupe.opted_out = True
    with schema_context(personas.acme.schema_name):
        dupe.save()
    client = web(HOST, personas.alice)
    picked = client.get(f"/contacts/{keep.pk}/merge/", {"q": "773"})
    assert list(picked.context["candidates"]) == [dupe]
    assert f"/contacts/{keep.pk}/merge/{dupe.pk}/" in picked.content.decode()
    assert list(client.get(f"/contacts/{keep.pk}/merge/", {"q": "Pat Caller"}).context["candidates"]) == []
    html = client.get(f"/contacts/{keep.pk}/merge/{dupe.pk}/").content.decode()
    assert "<li>1 call</li>" in html
    assert "so the merged contact will be opted out too" in html
    assert acme.get(dupe.pk) is not None  # looking changes nothing
