"""factory-boy factories for a caller's rows in a client's schema (contacts, conversations, messages, calls,
outcomes) and for the public send ledger (OutboundSend).

A factory writes to the schema the connection is in, like the ORM: make client rows inside
`schema_context(client.schema_name)` (or a fixture that sets it). Each row comes with what it needs, so a test
names only the fields it is about:

    with schema_context(personas.acme.schema_name):
        MessageFactory(body="Sorry we missed you")           # a delivered text-back, in a new caller's thread
        MessageFactory(conversation=thread, inbound=True)    # the caller's answer
        CallFactory(missed_reason=Call.MissedReason.NO_ANSWER, started_at=at)

Agencies and clients are not made here: the personas (tests/personas.py) are built once per test database,
because a new client clones a whole schema. The business's side of a message or call is acme's number unless
`business=` says otherwise.
"""

import factory
from django.utils.timezone import now
from factory.django import DjangoModelFactory

from crm.models import Contact, Outcome
from messaging.models import Conversation, Message, OutboundSend
from telephony.models import Call

ACME_NUMBER = "+13125550100"  # tests/personas.py


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    # 773-555-01xx is set aside for fiction; the personas' own numbers are 555-01xx in other area codes.
    phone_number = factory.Sequence(lambda n: f"+1773555{n % 10000:04d}")


class ConversationFactory(DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)


class MessageFactory(DjangoModelFactory):
    """A delivered text-back by default; `inbound=True`: the caller's text; `reply=True`: a staff member's."""

    class Meta:
        model = Message

    class Params:
        business = ACME_NUMBER
        inbound = factory.Trait(
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.INBOUND,
            status=Message.Status.RECEIVED,
            from_number=factory.SelfAttribute("conversation.contact.phone_number"),
            to_number=factory.SelfAttribute("business"),
            sent_at=None,
        )
        reply = factory.Trait(kind=Message.Kind.REPLY)

    conversation = factory.SubFactory(ConversationFactory)
    direction = Message.Direction.OUTBOUND
    kind = Message.Kind.TEXT_BACK
    status = Message.Status.DELIVERED
    body = "Sorry we missed your call! How can we help?"
    from_number = factory.SelfAttribute("business")
    to_number = factory.SelfAttribute("conversation.contact.phone_number")
    created_at = factory.LazyFunction(now)
    sent_at = factory.SelfAttribute("created_at")


class CallFactory(DjangoModelFactory):
    """A missed call from a new caller, by default."""

    class Meta:
        model = Call

    class Params:
        business = ACME_NUMBER

    call_sid = factory.Sequence(lambda n: f"CAF{n:031d}")
    contact = factory.SubFactory(ContactFactory)
    from_number = factory.LazyAttribute(
        lambda call: call.contact.phone_number if call.contact else "anonymous"
    )
    to_number = factory.SelfAttribute("business")
    outcome = Call.Outcome.MISSED
    started_at = factory.LazyFunction(now)


class OutcomeFactory(DjangoModelFactory):
    """A won job, by default."""

    class Meta:
        model = Outcome

    contact = factory.SubFactory(ContactFactory)
    kind = Outcome.Kind.WON
    created_at = factory.LazyFunction(now)


class OutboundSendFactory(DjangoModelFactory):
    """A call's text-back in the public ledger; `client=` is required (a persona), and `call_sid=` names the
    call (its key follows)."""

    class Meta:
        model = OutboundSend

    kind = OutboundSend.Kind.TEXT_BACK
    call_sid = factory.Sequence(lambda n: f"CAF{n:031d}")
    key = factory.LazyAttribute(lambda send: f"call:{send.call_sid}")
    to_number = "+17735550000"
