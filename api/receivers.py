"""The domain events, turned into outbound webhook events. Subscribed through the outbox (config/subscribers.py):
the delivery rows are written by a worker draining it, not in the webhook that recorded the event, and an event
that rolls back never reaches the outbox. `has_endpoints` keeps a client without any endpoint from writing an
outbox row at all (the platform cache knows, without a query)."""

from crm.events import OutcomeRecorded
from messaging.events import ContactOptedOut, MessageReceived, TextbackSent, TextbackSkipped
from telephony.events import CallMissed

from .models import WebhookEndpoint
from .services import client_has_webhook_endpoints, webhook_endpoints_for, webhook_event_emit

Event = WebhookEndpoint.Event


def has_endpoints(event) -> bool:
    return client_has_webhook_endpoints(client=event.client)


def _emit(client, event: str, data: dict) -> None:
    endpoints = webhook_endpoints_for(client=client, event=event)
    if endpoints:
        webhook_event_emit(client=client, event=event, data=data, endpoints=endpoints)


def _at(moment) -> str | None:
    return moment.isoformat() if moment else None


def on_call_missed(event: CallMissed) -> None:
    call = event.call
    _emit(
        event.client,
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


def on_textback_sent(event: TextbackSent) -> None:
    _emit(event.client, Event.TEXTBACK_SENT, {"call_sid": event.send.call_sid, "message": _message(event.message)})


def on_textback_skipped(event: TextbackSkipped) -> None:
    send = event.send
    _emit(
        event.client,
        Event.TEXTBACK_SKIPPED,
        {"call_sid": send.call_sid, "to_number": send.to_number, "reason": event.reason},
    )


def on_message_received(event: MessageReceived) -> None:
    _emit(event.client, Event.MESSAGE_RECEIVED, {"message": _message(event.message), "keyword": event.keyword})


def on_outcome_recorded(event: OutcomeRecorded) -> None:
    outcome = event.outcome
    _emit(
        event.client,
        Event.CONVERSATION_OUTCOME,
        {
            "conversation_id": event.conversation_id,
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


def on_contact_opted_out(event: ContactOptedOut) -> None:
    contact = event.contact
    _emit(
        event.client,
        Event.CONTACT_OPTED_OUT,
        {
            "contact": {"id": contact.pk, "phone_number": contact.phone_number, "name": contact.name},
            "source": event.source,
        },
    )
