"""What happens to calls: the events telephony publishes (events.bus), once per event, inside the transaction
that records it and in the client's schema. Who hears them is in config/subscribers.py."""

from accounts.models import Client
from events.bus import Event, event

from .models import Call


@event(name="call.received")
class CallReceived(Event):
    """A CallSid seen for the first time."""

    client: Client
    call: Call


@event(name="call.missed", public=True, label="A call was missed")
class CallMissed(Event):
    """Nobody took it: a text-back is owed. call.missed_reason says why."""

    client: Client
    call: Call


@event(name="call.answered")
class CallAnswered(Event):
    """A person accepted it."""

    client: Client
    call: Call


@event(name="call.abandoned")
class CallAbandoned(Event):
    """The caller hung up before the client's minimum ring time: neither missed nor texted."""

    client: Client
    call: Call


@event(name="call.completed")
class CallCompleted(Event):
    """Twilio's final status callback for the call. `duration` in whole seconds, or None if Twilio sent none."""

    client: Client
    call: Call
    duration: int | None = None
