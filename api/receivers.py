"""The domain signals, turned into outbound webhook events. Connected in ApiConfig.ready().

Each receiver runs inside the transaction that recorded the event, in the client's schema: it writes the
delivery rows there (so an event that rolls back sends nothing) and the tasks are queued on commit. A failure
here is logged and never breaks what the core was doing: a webhook is a courtesy, the call or text is not."""

import logging

from django.db import transaction

from crm.signals import outcome_recorded
from messaging.signals import contact_opted_out, message_received, textback_sent, textback_skipped
from telephony.signals import call_missed

from .models import WebhookEndpoint
from .services import webhook_endpoints_for, webhook_event_emit

log = logging.getLogger(__name__)
Event = WebhookEndpoint.Event


def _emit(client, event: str, data: dict) -> None:
    try:
        endpoints = webhook_endpoints_for(client=client, event=event)  # one query, the whole cost without any
        if endpoints:
            with transaction.atomic():  # a savepoint: a failure here must not spoil the core's transaction
                webhook_event_emit(client=client, event=event, data=data, endpoints=endpoints)
    except Exception:
        log.exception("could not record webhook event %s for client %s", event, getattr(client, "pk", None))


def _at(moment) -> str | None:
    return moment.isoformat() if moment else None


def on_call_missed(sender, *, client, call, **kwargs):
    _emit(
        client,
        Event.CALL_MISSED,
        {
            "call": {
                "id": call.pk,
                "call_sid": call.call_sid,
                "from_number": call.from_number,
                "to_number": call.to_number,
                "contact_id": call.contact_id,
                "missed_reason": call.missed_reason,
                "in_business_hours": call.in_business_hours,
                "started_at": _at(call.started_at),
            }
        },
    )


def _message(message) -> dict:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "kind": message.kind,
        "body": message.body,
        "status": message.status,
        "from_number": message.from_number,
        "to_number": message.to_number,
        "segments": message.segments,
        "created_at": _at(message.created_at),
    }


def on_textback_sent(sender, *, client, send, message, **kwargs):
    _emit(client, Event.TEXTBACK_SENT, {"call_sid": send.call_sid, "message": _message(message)})


def on_textback_skipped(sender, *, client, send, reason, **kwargs):
    _emit(
        client,
        Event.TEXTBACK_SKIPPED,
        {"call_sid": send.call_sid, "to_number": send.to_number, "reason": reason},
    )


def on_message_received(sender, *, client, message, keyword=None, **kwargs):
    _emit(client, Event.MESSAGE_RECEIVED, {"message": _message(message), "keyword": keyword})


def on_outcome_recorded(sender, *, client, outcome, conversation=None, **kwargs):
    _emit(
        client,
        Event.CONVERSATION_OUTCOME,
        {
            "conversation_id": conversation.pk if conversation is not None else None,
            "outcome": {
                "id": outcome.pk,
                "contact_id": outcome.contact_id,
                "kind": outcome.kind,
                "value": str(outcome.value) if outcome.value is not None else None,
                "lost_reason": outcome.lost_reason,
                "created_at": _at(outcome.created_at),
            },
        },
    )


def on_contact_opted_out(sender, *, client, contact, source, **kwargs):
    _emit(
        client,
        Event.CONTACT_OPTED_OUT,
        {
            "contact": {"id": contact.pk, "phone_number": contact.phone_number, "name": contact.name},
            "source": source,
        },
    )


def connect() -> None:
    call_missed.connect(on_call_missed, dispatch_uid="api.webhooks.call_missed")
    textback_sent.connect(on_textback_sent, dispatch_uid="api.webhooks.textback_sent")
    textback_skipped.connect(on_textback_skipped, dispatch_uid="api.webhooks.textback_skipped")
    message_received.connect(on_message_received, dispatch_uid="api.webhooks.message_received")
    outcome_recorded.connect(on_outcome_recorded, dispatch_uid="api.webhooks.outcome_recorded")
    contact_opted_out.connect(on_contact_opted_out, dispatch_uid="api.webhooks.contact_opted_out")
