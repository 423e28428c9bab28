"""What happens to contacts' business with the client (see telephony/events.py for the rules)."""

from accounts.models import Client
from events.bus import Event, event

from .models import Contact, Outcome


@event(name="conversation.outcome", public=True, label="An outcome was recorded")
class OutcomeRecorded(Event):
    """An outcome (booked, won with a value, lost with a reason) was recorded. `conversation_id` is the
    conversation it was recorded in, or None when recorded on the contact without one."""

    client: Client
    outcome: Outcome
    conversation_id: int | None = None


@event(name="contact.merged")
class ContactMerged(Event):
    """`other`, a duplicate, is being folded into `into` (crm.services.contact_merge), before `other` is deleted:
    each app re-points the rows it keeps for `other` at `into`, atomically with the merge, so a merge is whole
    or not at all."""

    client: Client
    into: Contact
    other: Contact
