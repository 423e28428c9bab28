"""What an outbound webhook carries for each public domain event, built by the API's own serializers, so a
webhook's `call` has the fields of `GET /api/v1/calls/` and so on. One serializer per public event, reading the
event's fields; the same serializers describe the webhooks in the OpenAPI schema (`webhooks`, below) and the
README's table is made from the catalogue (`manage.py event_catalogue`). A public event without a payload here
fails tests/events/test_catalogue.py."""

from datetime import timedelta
from decimal import Decimal

from django.utils.timezone import now
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from accounts.models import Client
from crm.events import OutcomeRecorded
from crm.models import Contact, Outcome
from events.bus import Event, public_events
from messaging.events import ContactOptedOut, MessageReceived, TextbackSent, TextbackSkipped
from messaging.models import ConsentEvent, Message, OutboundSend
from messaging.reasons import SkipReason, reason_text
from telephony.events import CallMissed
from telephony.models import Call

from .serializers import CallSerializer, ContactSerializer, MessageSerializer, OutcomeSerializer


class CallMissedPayload(serializers.Serializer):
    call = CallSerializer()


class TextbackSentPayload(serializers.Serializer):
    call_sid = serializers.CharField(source="send.call_sid")
    message = MessageSerializer()


class TextbackSkippedPayload(serializers.Serializer):
    call_sid = serializers.CharField(source="send.call_sid")
    to_number = serializers.CharField(source="send.to_number")
    reason = serializers.CharField(help_text="Why, as a code (messaging.reasons).")
    reason_text = serializers.SerializerMethodField(help_text="Why, in the words the inbox uses.")

    def get_reason_text(self, event) -> str:
        return reason_text(event.reason)


class MessageReceivedPayload(serializers.Serializer):
    message = MessageSerializer()
    keyword = serializers.CharField(
        allow_null=True,
        help_text='"opt_out" (a keyword, or asked to stop in other words), "opt_in", "help", or null for a reply.',
    )


class ContactOptedOutPayload(serializers.Serializer):
    contact = ContactSerializer()
    source = serializers.CharField(
        help_text="How: keyword, reply (asked to stop in their own words), staff, provider, import."
    )


class OutcomeRecordedPayload(serializers.Serializer):
    conversation_id = serializers.IntegerField(allow_null=True)
    outcome = OutcomeSerializer()


PAYLOADS: dict[type, type[serializers.Serializer]] = {
    CallMissed: CallMissedPayload,
    TextbackSent: TextbackSentPayload,
    TextbackSkipped: TextbackSkippedPayload,
    MessageReceived: MessageReceivedPayload,
    ContactOptedOut: ContactOptedOutPayload,
    OutcomeRecorded: OutcomeRecordedPayload,
}


def payload_for(event) -> dict:
    return PAYLOADS[type(event)](event).data


# --- Samples, for the set-up screens of Zapier and Make, and the test delivery ---------------------------------

SAMPLE_CALLER = "+13125550123"
SAMPLE_CALL_SID = "CA00000000000000000000000000sample"


def sample_client(*, agency) -> Client:
    """Whose event an agency-wide sample shows: the agency's first client, or a made-up one before it has any."""
    return Client.objects.filter(agency=agency).order_by("pk").first() or Client(
        id=0, slug="sample-plumbing", name="Sample Plumbing", agency=agency
    )


def sample_event(event_type: type[Event], client: Client) -> Event:
    """An event of this type as it would look for this client, made of rows that are never saved: the same
    payload serializers then give a sample with every field a real delivery has."""
    moment = now()
    business = str(client.phone_number or "+13125550100")
    contact = Contact(
        id=1,
        phone_number=SAMPLE_CALLER,
        name="Jane Sample",
        opted_out=event_type is ContactOptedOut,
        created_at=moment,
        updated_at=moment,
    )
    call = Call(
        id=1,
        call_sid=SAMPLE_CALL_SID,
        from_number=SAMPLE_CALLER,
        to_number=business,
        caller_name="Jane Sample",
        contact_id=1,
        outcome=Call.Outcome.MISSED,
        missed_reason=Call.MissedReason.NO_ANSWER,
        in_business_hours=True,
        started_at=moment - timedelta(seconds=30),
        ended_at=moment,
    )
    send = OutboundSend(call_sid=SAMPLE_CALL_SID, to_number=SAMPLE_CALLER)
    inbound = event_type is MessageReceived
    message = Message(
        id=1,
        conversation_id=1,
        direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
        kind=Message.Kind.INBOUND if inbound else Message.Kind.TEXT_BACK,
        body="Hi, can you come out tomorrow morning?"
        if inbound
        else f"Hi Jane, sorry we missed your call at {client.name}! Reply STOP to opt out.",
        status=Message.Status.RECEIVED if inbound else Message.Status.SENT,
        from_number=SAMPLE_CALLER if inbound else business,
        to_number=business if inbound else SAMPLE_CALLER,
        segments=1,
        created_at=moment,
        sent_at=None if inbound else moment,
    )
    samples: dict[type, Event] = {
        CallMissed: CallMissed(client=client, call=call),
        TextbackSent: TextbackSent(client=client, send=send, message=message),
        TextbackSkipped: TextbackSkipped(client=client, send=send, reason=SkipReason.RECENTLY_TEXTED),
        MessageReceived: MessageReceived(client=client, message=message, keyword=None),
        ContactOptedOut: ContactOptedOut(client=client, contact=contact, source=ConsentEvent.Source.KEYWORD),
        OutcomeRecorded: OutcomeRecorded(
            client=client,
            outcome=Outcome(
                id=1, contact_id=1, kind=Outcome.Kind.WON, value=Decimal("450.00"), created_at=moment
            ),
            conversation_id=1,
        ),
    }
    return samples[event_type]


class _Envelope(serializers.Serializer):
    """What every delivery's body is; `data` is the event's payload."""

    id = serializers.UUIDField(help_text="The event's id: the same on a replay.")
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    client = serializers.DictField(help_text="id, slug and name of the business.")


def _envelope(event_type) -> type[serializers.Serializer]:
    return type(
        f"{PAYLOADS[event_type].__name__}Webhook",
        (_Envelope,),
        {
            "data": PAYLOADS[event_type](),
            "__doc__": f"{event_type.label}: the `{event_type.name}` webhook.",
            "__module__": __name__,
        },
    )


def _openapi_webhook(event_type) -> OpenApiWebhook:
    return OpenApiWebhook(
        name=event_type.name,
        decorator=extend_schema(
            summary=event_type.label,
            description="POSTed as JSON, signed with `Webhook-Timestamp` and `Webhook-Signature`; answer 2xx.",
            request=_envelope(event_type),
            responses={200: OpenApiResponse(description="Received.")},
        ),
    )


def openapi_webhooks() -> list[str]:
    """The `webhooks` section of the OpenAPI schema, one per public event. drf-spectacular takes them as import
    paths, so each is made a name of this module."""
    paths = []
    for event_type in public_events():
        name = "webhook_" + event_type.name.replace(".", "_")
        globals()[name] = _openapi_webhook(event_type)
        paths.append(f"{__name__}.{name}")
    return paths
