"""What happens to texts: the events messaging publishes (events.bus), once per event (a repeated webhook or a
retried task publishes nothing the second time), inside the transaction that records it and in the client's
schema. Who hears them is in config/subscribers.py; messaging imports none of those apps."""

from datetime import datetime

from accounts.models import Client
from crm.models import Contact
from events.bus import Event, event

from .models import Conversation, Message, OutboundSend
from .reasons import Reason


@event(name="message.received", public=True, label="A caller texted")
class MessageReceived(Event):
    """A text from a caller, recorded (keywords included). `keyword`: "opt_out", "opt_in", "help" or None.
    `intent`: what it is about (a messaging.intents.Intent value). `filed`: the client's rule filed it away
    (spam, a wrong number): closed, and nobody needs to act."""

    client: Client
    message: Message
    keyword: str | None = None
    intent: str = ""
    filed: bool = False


@event(name="message.sent")
class MessageSent(Event):
    """The provider accepted an outbound text of any kind (message.segments is our own count)."""

    client: Client
    message: Message


@event(name="message.failed")
class MessageFailed(Event):
    """An outbound text failed for good (a provider refusal, or a send-time check stopped a written reply).
    `reason`: why (messaging.reasons)."""

    client: Client
    message: Message
    reason: Reason


@event(name="message.status_changed")
class MessageStatusChanged(Event):
    """A status callback moved a message forward. `params`: the callback's raw form fields (NumSegments, Price,
    PriceUnit, ErrorCode when Twilio sends them)."""

    client: Client
    message: Message
    status: str
    params: dict


@event(name="textback.sent", public=True, label="A text-back went out")
class TextbackSent(Event):
    """A missed call's text-back went out."""

    client: Client
    send: OutboundSend
    message: Message


@event(name="textback.skipped", public=True, label="A text-back was not sent")
class TextbackSkipped(Event):
    """A missed call's text-back will not go out. `reason`: why (messaging.reasons)."""

    client: Client
    send: OutboundSend
    reason: Reason


@event(name="contact.opted_out", public=True, label="A caller opted out")
class ContactOptedOut(Event):
    """A caller opted out (they were opted in until now). `source`: a ConsentEvent.Source value."""

    client: Client
    contact: Contact
    source: str


@event(name="contact.opted_in")
class ContactOptedIn(Event):
    """A caller who had opted out opted back in (START). `source`: a ConsentEvent.Source value."""

    client: Client
    contact: Contact
    source: str


@event(name="lookup.line_type")
class LineTypeLookedUp(Event):
    """A line-type look-up was paid for. `number` in E.164; `line_type` a Contact.LineType value."""

    client: Client
    number: str
    line_type: str


@event(name="staff_text.sent")
class StaffTextSent(Event):
    """The provider accepted a text to one of the business's own people (an alert, a mobile number's
    confirmation code): billed like any text. `source` is unique per text."""

    client: Client
    source: str
    segments: int
    at: datetime


@event(name="conversation.joined")
class ConversationJoined(Event):
    """A contact merge joins `gone` (the duplicate's conversation) into `kept`, before `gone` is deleted: each
    app re-points the rows it keeps for `gone` at `kept`, atomically with the merge."""

    client: Client
    kept: Conversation
    gone: Conversation


class TextbackCheck:
    """The veto hook asked before a text-back is written, after the business's own pause (events.bus.ask): a
    veto answering a reason (billing: "usage_limit") stops it. Not an event: nothing happened yet."""

    __slots__ = ("client", "send")

    def __init__(self, *, client: Client, send: OutboundSend):
        self.client = client
        self.send = send


class StaffTextCheck:
    """The hook asked before an inbound text that is no keyword becomes a caller's (events.bus.ask): a handler
    that takes it answers why (inbox: one of the business's own people answering an alert by text, whose words go
    to the caller of that alert), and it goes no further as a caller's text. Not an event: nothing happened yet."""

    __slots__ = ("client", "sid", "from_number", "body")

    def __init__(self, *, client: Client, sid: str, from_number: str, body: str):
        self.client = client
        self.sid = sid
        self.from_number = from_number
        self.body = body


@event(name="message.keyword_acted")
class KeywordActed(Event):
    """A caller's text was one of the keywords the business set to act (messaging.actions): `action` is an
    Action value ("urgent", "book"). Recorded on the message; a BOOK answer is already queued."""

    client: Client
    message: Message
    action: str
