"""Messaging's part of work another core app publishes (subscribed in config/subscribers.py)."""

import logging

from crm.events import ContactMerged, OutcomeRecorded
from crm.models import Outcome
from events.bus import publish

from .actions import action_take
from .events import ConversationJoined, MessageReceived, TextbackSent
from .followups import followup_schedule
from .links import links_booked
from .models import ConsentEvent, Conversation, Message
from .tasks import receptionist_answer

log = logging.getLogger(__name__)


def on_contact_merged(event: ContactMerged) -> None:
    """The duplicate's consent history moves to the surviving contact, and its conversation too: as it is when
    the survivor has none, joined into the survivor's otherwise (atomic with the merge)."""
    into, other = event.into, event.other
    ConsentEvent.objects.filter(contact=other).update(contact=into)
    conversations = {
        c.contact_id: c
        for c in Conversation.objects.select_for_update().filter(contact__in=[into, other]).order_by("pk")
    }
    kept, gone = conversations.get(into.pk), conversations.get(other.pk)
    if gone is not None and kept is None:
        Conversation.objects.filter(pk=gone.pk).update(contact=into)
    elif gone is not None and kept is not None:
        Message.objects.filter(conversation=gone).update(conversation=kept)
        # What other apps keep per conversation (inbox's notes) moves before the duplicate's is deleted.
        publish(ConversationJoined(client=event.client, kept=kept, gone=gone))
        _conversation_join(kept=kept, gone=gone)
        gone.delete()


def _conversation_join(*, kept: Conversation, gone: Conversation) -> None:
    """The surviving thread takes the other's unread replies, latest activity and, if it had none, assignee."""

    def latest(a, b):
        return max((t for t in (a, b) if t is not None), default=None)

    kept.unread_count += gone.unread_count
    kept.last_activity_at = latest(kept.last_activity_at, gone.last_activity_at)
    kept.last_inbound_at = latest(kept.last_inbound_at, gone.last_inbound_at)
    kept.assigned_to_id = kept.assigned_to_id or gone.assigned_to_id
    if gone.status == kept.Status.OPEN:  # a thread waiting for an answer must stay visible
        kept.status, kept.closed_at = kept.Status.OPEN, None
    kept.save()


def is_a_booking(event: OutcomeRecorded) -> bool:
    return event.outcome.kind in (Outcome.Kind.BOOKED, Outcome.Kind.WON)


def on_outcome_recorded(event: OutcomeRecorded) -> None:
    """A caller marked booked (or won) after opening a link we texted them: the link counts as clicked → booked."""
    links_booked(client=event.client, number=event.outcome.contact.phone_number, at=event.outcome.created_at)


def may_act(event: MessageReceived) -> bool:
    """Worth a look for an action keyword: an ordinary text (not STOP/HELP/START) to a client with a rule on."""
    return event.keyword is None and (event.client.urgent_keywords or event.client.book_keywords)


def on_message_received(event: MessageReceived) -> None:
    """A caller's text that is one of the business's action keywords (BOOK, URGENT …): act on it, in the
    webhook's transaction (a BOOK answer's ledger row commits with the text it answers)."""
    action_take(client=event.client, message=event.message)


def wants_followups(event: TextbackSent) -> bool:
    return event.client.followup_after_hours > 0


def on_textback_sent(event: TextbackSent) -> None:
    """The text-back went out: its one follow-up is owed, due N hours from now (the beat sweep dispatches it)."""
    followup_schedule(client=event.client, send=event.send, message=event.message)


def wants_the_receptionist(event: MessageReceived) -> bool:
    """An ordinary reply (not STOP/HELP/START, not filed away as spam or a wrong number) at a client whose AI
    receptionist is on."""
    return event.client.receptionist_on and event.keyword is None and not event.filed


def on_message_for_the_receptionist(event: MessageReceived) -> None:
    """Queued after the webhook commits: a model's latency never reaches Twilio's webhook."""
    try:
        receptionist_answer.apply_async((event.client.pk, event.message.pk), retry=False)
    except Exception as exc:  # a broker that is down costs the AI answer, never the webhook; a person answers
        log.warning("could not queue the AI receptionist: %s", exc)
