"""The inbox hears of missed calls and callers' replies (subscribed on commit in config/subscribers.py, so a
rolled-back webhook alerts nobody) and queues the alerts; and keeps its notes when a merge joins conversations."""

import logging

from messaging.actions import Action, is_action_word
from messaging.events import ConversationJoined, KeywordActed, MessageReceived
from messaging.intents import Intent
from telephony.events import CallMissed

from .models import Note
from .notifications import reply_due_at
from .tasks import LONGEST_WAIT, escalate_reply, notify_missed_call, notify_reply, notify_urgent

log = logging.getLogger(__name__)


def _queue(task, *args, **options) -> None:
    try:
        task.apply_async(args, retry=False, **options)
    except Exception as exc:  # a broker that is down costs an alert, never the webhook
        log.warning("could not queue %s: %s", task.name, exc)


def on_call_missed(event: CallMissed) -> None:
    _queue(notify_missed_call, event.client.pk, event.call.pk)


def is_a_reply(event: MessageReceived) -> bool:
    # STOP / START / HELP are answered automatically, spam and wrong numbers filed away: nobody needs to act.
    return event.keyword is None and not event.filed


def is_an_emergency(event: MessageReceived) -> bool:
    """A reply read as an emergency, at a client that wants those alerts; a bare URGENT or EMERGENCY is left to
    the keyword's own switch (on_keyword_acted)."""
    return (
        event.intent == Intent.EMERGENCY
        and event.keyword is None
        and event.client.emergency_alerts
        and not is_action_word(event.message.body)
    )


def on_emergency(event: MessageReceived) -> None:
    """A reply that reads as an emergency: the on-call person is alerted at once, as for URGENT (one alert per
    text, whichever of the two asked first)."""
    _queue(notify_urgent, event.client.pk, event.message.pk)


def on_message_received(event: MessageReceived) -> None:
    client, message = event.client, event.message
    _queue(notify_reply, client.pk, message.pk)
    wait = reply_due_at(client=client, message=message) - message.created_at
    _queue(escalate_reply, client.pk, message.pk, countdown=min(wait, LONGEST_WAIT).total_seconds())


def is_urgent(event: KeywordActed) -> bool:
    return event.action == Action.URGENT


def on_keyword_acted(event: KeywordActed) -> None:
    """URGENT or EMERGENCY: the on-call person is alerted at once, whatever the business hours."""
    _queue(notify_urgent, event.client.pk, event.message.pk)


def on_conversation_joined(event: ConversationJoined) -> None:
    """The duplicate conversation's notes are the surviving one's (atomic with the merge)."""
    Note.objects.filter(conversation=event.gone).update(conversation=event.kept)
