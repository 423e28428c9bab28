"""Telephony's part of work other apps publish or ask (a contact merge, a new client's number), and what it
sets off in messaging while a call rings (subscribed in config/subscribers.py). Telephony builds on messaging, so
the line-type check's subscriber lives here rather than make messaging name a telephony event."""

import logging

from accounts.events import ClientNumberClaim
from crm.events import ContactMerged
from messaging.services import line_type_known
from messaging.tasks import line_type_check

from .events import CallReceived
from .models import Call, Callback
from .numbers import NumberHeld, number_holder_check, number_holder_record

log = logging.getLogger(__name__)


def on_contact_merged(event: ContactMerged) -> None:
    """The duplicate's calls, and the calls back placed to it from the inbox, are the surviving contact's (atomic
    with the merge)."""
    Call.objects.filter(contact=event.other).update(contact=event.into)
    Callback.objects.filter(contact=event.other).update(contact=event.into)


def needs_line_type(event: CallReceived) -> bool:
    """The call rings at the business before it can be missed (forward mode), so there is time to learn the
    caller's line type, and nobody knows it yet for a caller who may be texted. In carrier-forwarding mode the
    call arrives missed, and the text-back looks it up itself. Answered calls cost a lookup too: the price of
    not making a missed one wait for it (see README, "Speed")."""
    contact = event.call.contact
    if event.client.call_mode != event.client.CallMode.FORWARD or contact is None:
        return False
    if contact.opted_out or contact.is_blocked or contact.unreachable:
        return False
    return not line_type_known(contact)


def on_call_received(event: CallReceived) -> None:
    """Ask for the caller's line type now, on the sender (it waits on Twilio), while the call rings."""
    contact = event.call.contact
    if contact is None:  # needs_line_type passes only calls with a contact
        return
    try:
        line_type_check.apply_async((event.client.pk, contact.phone_number), retry=False)
    except Exception as exc:  # a broker that is down costs the head start, never the webhook
        log.warning("could not queue the line-type check for call %s: %s", event.call.call_sid, exc)


def number_claim(claim: ClientNumberClaim) -> str | None:
    """The veto of accounts.events.ClientNumberClaim (config/subscribers.py): why the new client may not have
    this number, or None, having recorded it as held by the client's agency."""
    client = claim.client
    try:
        number_holder_check(phone_number=claim.phone_number, agency=client.agency)
        number_holder_record(phone_number=claim.phone_number, agency=client.agency, client=client)
    except NumberHeld as exc:
        return str(exc)
    return None
