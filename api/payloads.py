"""What an outbound webhook carries for each public domain event, built by the API's own serializers, so a
webhook's `call` has the fields of `GET /api/v1/calls/` and so on.

A public event needs nothing written here: its payload is made from its fields (`payload_serializer`). A row it
carries (a Call, a Message, a Contact, an Outcome …) is shown by the API's serializer of that model
(`api.serializers.<Model>Serializer`: the REST resource's fields), any other field as its value; the client is
the envelope's. `OVERRIDES` holds the two payloads written by hand, the text-backs', whose contract shows the
send ledger's row (no REST resource) as its `call_sid` and `to_number`. The same serializers describe the
webhooks in the OpenAPI schema (`webhooks`, below), and the samples Zapier and Make show are made the same way,
from sample rows (`sample_event`)."""

import dataclasses
import enum
import inspect
import types
import typing
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.timezone import now
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from accounts.models import Client
from crm.models import Contact, Outcome
from events.bus import Event, public_events
from messaging.events import TextbackSent, TextbackSkipped
from messaging.models import ConsentEvent, Message, OutboundSend
from messaging.reasons import SkipReason, reason_text
from telephony.models import Call

from . import serializers as rest
from .serializers import MessageSerializer


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


OVERRIDES: dict[type[Event], type[serializers.Serializer]] = {
    TextbackSent: TextbackSentPayload,
    TextbackSkipped: TextbackSkippedPayload,
}

# Any other field is shown as its value, by its type (bool before int: a bool is an int).
VALUE_FIELDS: list[tuple[type, type[serializers.Field]]] = [
    (bool, serializers.BooleanField),
    (int, serializers.IntegerField),
    (str, serializers.CharField),  # StrEnum and TextChoices members too
    (datetime, serializers.DateTimeField),
    (dict, serializers.DictField),
]


def _hint(hint) -> tuple[type, bool]:
    """`X | None` → (X, True); X → (X, False)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def rest_serializer(model: type[models.Model]) -> type[serializers.ModelSerializer]:
    """The REST resource's serializer of a model: api.serializers.<Model>Serializer."""
    found = getattr(rest, f"{model.__name__}Serializer", None)
    if found is None or getattr(getattr(found, "Meta", None), "model", None) is not model:
        raise ImproperlyConfigured(
            f"a public event carries a {model.__name__}, which the API shows with no "
            f"api.serializers.{model.__name__}Serializer: add one (the REST resource's fields)"
        )
    return found


def _payload_field(event_type: type[Event], name: str, hint) -> serializers.Field:
    kind, optional = _hint(hint)
    if isinstance(kind, type) and issubclass(kind, models.Model):
        return rest_serializer(kind)(allow_null=optional)
    for base, field in VALUE_FIELDS:
        if isinstance(kind, type) and issubclass(kind, base):
            return field(allow_null=optional)
    raise ImproperlyConfigured(
        f"{event_type.__name__}.{name}: a webhook cannot show a {kind!r}; give the field a type it can "
        f"({', '.join(base.__name__ for base, _ in VALUE_FIELDS)}, or a model the API has a serializer for)"
    )


@cache
def payload_serializer(event_type: type[Event]) -> type[serializers.Serializer]:
    """The serializer of a public event's webhook payload: its override, or one made from its fields."""
    if event_type in OVERRIDES:
        return OVERRIDES[event_type]
    hints = typing.get_type_hints(event_type)
    fields = {
        field.name: _payload_field(event_type, field.name, hints[field.name])
        for field in dataclasses.fields(event_type)
        if field.name != "client"  # the envelope's
    }
    return type(
        f"{event_type.__name__}Payload",
        (serializers.Serializer,),
        {**fields, "__module__": __name__, "__doc__": inspect.getdoc(event_type)},
    )


def payload_for(event) -> dict:
    return payload_serializer(type(event))(event).data


# --- Samples, for the set-up screens of Zapier and Make, and the test delivery ---------------------------------

SAMPLE_CALLER = "+13125550123"
SAMPLE_CALL_SID = "CA00000000000000000000000000sample"
# A value field named here samples as written; any other by its type (its default, an enum's first member,
# 1 for an id, a blank or a zero).
SAMPLE_VALUES: dict[str, object] = {
    "source": ConsentEvent.Source.KEYWORD,
    "reason": SkipReason.RECENTLY_TEXTED,
}


def sample_client(*, agency) -> Client:
    """Whose event an agency-wide sample shows: the agency's first client, or a made-up one before it has any."""
    return Client.objects.filter(agency=agency).order_by("pk").first() or Client(
        id=0, slug="sample-plumbing", name="Sample Plumbing", agency=agency
    )


def _sample_rows(event_type: type[Event], client: Client) -> dict[type[models.Model], models.Model]:
    """One made-up row of each model an event may carry, never saved. A received message for an event about one
    (`message.received`), a contact opted out for one about that."""
    moment = now()
    business = str(client.phone_number or "+13125550100")
    inbound = "received" in event_type.name
    contact = Contact(
        id=1,
        phone_number=SAMPLE_CALLER,
        name="Jane Sample",
        opted_out="opted_out" in event_type.name,
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
    outcome = Outcome(id=1, contact_id=1, kind=Outcome.Kind.WON, value=Decimal("450.00"), created_at=moment)
    send = OutboundSend(call_sid=SAMPLE_CALL_SID, to_number=SAMPLE_CALLER)
    return {Contact: contact, Call: call, Message: message, Outcome: outcome, OutboundSend: send}


def _sample_value(field: dataclasses.Field, kind: type, optional: bool):
    if field.name in SAMPLE_VALUES:
        return SAMPLE_VALUES[field.name]
    if kind is int and field.name.endswith("_id"):
        return 1
    if field.default is not dataclasses.MISSING:
        return field.default
    if optional:
        return None
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return next(iter(kind))
    if kind is datetime:
        return now()
    return kind()  # "", 0, False, {}


def sample_event(event_type: type[Event], client: Client) -> Event:
    """An event of this type as it would look for this client, made of rows that are never saved: the same
    payload serializers then give a sample with every field a real delivery has."""
    rows = _sample_rows(event_type, client)
    hints = typing.get_type_hints(event_type)
    values: dict[str, object] = {}
    for field in dataclasses.fields(event_type):
        kind, optional = _hint(hints[field.name])
        if field.name == "client":
            values[field.name] = client
        elif isinstance(kind, type) and issubclass(kind, models.Model):
            values[field.name] = rows.get(kind) or kind(pk=1)
        else:
            values[field.name] = _sample_value(field, kind, optional)
    return event_type(**values)


class _Envelope(serializers.Serializer):
    """What every delivery's body is; `data` is the event's payload."""

    id = serializers.UUIDField(help_text="The event's id: the same on a replay.")
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    client = serializers.DictField(help_text="id, slug and name of the business.")


def _envelope(event_type) -> type[serializers.Serializer]:
    return type(
        f"{payload_serializer(event_type).__name__}Webhook",
        (_Envelope,),
        {
            "data": payload_serializer(event_type)(),
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
