import functools

from django.db import models, transaction
from django.db.models.expressions import RawSQL

from accounts.models import Client
from config.db import insert_or_read, insert_unless_exists, sql_of
from events.bus import publish

from .events import ContactMerged
from .models import Contact, Outcome, Suppression, suppressed
from .phone import e164_or_none

# Stands for the number in suppressed()'s compiled SQL: no phone number looks like this.
_NUMBER = "<the number>"
_BOOLEAN: models.BooleanField = models.BooleanField()


@functools.cache
def _suppressed_sql() -> tuple[str, tuple]:
    """crm.models.suppressed() compiled once, with _NUMBER among its params: its SQL is the same for every number,
    and building and compiling its subquery each time cost as much CPU as the rest of the INSERT it is in."""
    statement, params = sql_of(Contact, suppressed(_NUMBER))
    return statement, tuple(params)


def _opted_out(number: str) -> RawSQL:
    """A new contact's opted_out, computed by its INSERT: whether the number opted out before."""
    statement, params = _suppressed_sql()
    return RawSQL(  # noqa: S611 - Django compiled this SQL from suppressed(); the number is bound
        statement,
        [number if param == _NUMBER else param for param in params],
        output_field=_BOOLEAN,
    )


def contact_upsert(*, phone_number: str, name: str = "") -> Contact | None:
    """The contact for this number, created on first sight; None when the number is not a real E.164 number
    (anonymous, restricted, garbage). Safe under concurrent webhooks for the same caller."""
    number = e164_or_none(phone_number)
    if number is None:
        return None
    # One statement whether the caller is new or known (the call webhooks' path).
    found, created = insert_or_read(
        Contact(phone_number=number, name=name[:120], opted_out=_opted_out(number)), "phone_number"
    )
    if created:
        return found
    # Known, or created a moment ago by another request (then read again: this statement could not see it).
    contact = found or Contact.objects.get(phone_number=number)
    if name and not contact.name:
        contact.name = name[:120]
        contact.save(update_fields=["name", "updated_at"])
    return contact


def contact_locked(*, number: str) -> Contact:
    """The contact for this E.164 number, created if missing, and locked until the transaction ends (FOR NO
    KEY UPDATE: a STOP being recorded for the caller waits, rows that merely reference the caller do not).
    One statement for a caller we know, two for a new one (a row this transaction inserted is its own). A new
    contact for a number that opted out before (its contact since merged or deleted) starts opted out."""
    contact = Contact.objects.select_for_update(no_key=True).filter(phone_number=number).first()
    if contact is None:
        contact = Contact(phone_number=number, opted_out=_opted_out(number))
        if not insert_unless_exists(contact):  # created a moment ago by another request, now committed
            contact = Contact.objects.select_for_update(no_key=True).get(phone_number=number)
    return contact


# --- Staff edits -------------------------------------------------------------------------------------------


def tags_from_text(text: str) -> list[str]:
    """ "VIP, repeat,vip " → ["vip", "repeat"]: trimmed, lower-cased, de-duplicated, in the order given. Tags are
    lower-case everywhere so that search and the tag filter never miss "VIP" for "vip"."""
    tags: list[str] = []
    for raw in text.split(","):
        tag = " ".join(raw.split()).lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def contact_update(*, contact: Contact, name: str, email: str, tags: list[str], notes: str) -> Contact:
    contact.name = name
    contact.email = email
    contact.tags = tags
    contact.notes = notes
    contact.save(update_fields=["name", "email", "tags", "notes", "updated_at"])
    return contact


def contact_set_blocked(*, contact: Contact, blocked: bool) -> Contact:
    """Blocked contacts never get a text-back (the send path re-checks the flag under its lock)."""
    contact.is_blocked = blocked
    contact.save(update_fields=["is_blocked", "updated_at"])
    return contact


# --- Merging duplicates ------------------------------------------------------------------------------------

# What other apps keep per contact (calls, consent history, the conversation with its messages and notes) is
# theirs to move: contact_merge publishes ContactMerged, and each subscribes atomically (config/subscribers.py),
# so a step that fails rolls the whole merge back. tests/crm/test_merge.py checks that every relation to a
# contact or a conversation has its mover, so a new one cannot be silently cascade-deleted by a merge.


@transaction.atomic
def contact_merge(*, client: Client, into: Contact, other: Contact) -> Contact:
    """Fold `other` (a duplicate, e.g. the same person calling from a second phone) into `into`, and delete it.

    `into` keeps its own number (a contact has exactly one); calls, outcomes, consent history and the
    conversation's messages and notes move over. Blanks in name, email and notes are filled from `other`,
    tags are the union. Opted out or blocked on either means opted out or blocked after: the person asked
    not to be texted, from whichever phone. The other number's opt-out (crm.Suppression) stays: it belongs to
    the number, and that number calling again later must not be texted."""
    if into.pk == other.pk:
        raise ValueError("A contact cannot be merged into itself.")
    # Lock both rows, always in the same order, so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[into.pk, other.pk]).order_by("pk")
    }
    into, other = locked[into.pk], locked[other.pk]

    Outcome.objects.filter(contact=other).update(contact=into)
    publish(ContactMerged(client=client, into=into, other=other))

    into.name = into.name or other.name
    into.email = into.email or other.email
    if other.notes and other.notes != into.notes:
        into.notes = f"{into.notes}\n\n{other.notes}".strip()
    into.tags = into.tags + [tag for tag in other.tags if tag not in into.tags]
    into.opted_out = (
        into.opted_out
        or other.opted_out
        or Suppression.objects.filter(phone_number=other.phone_number).exists()
    )
    if into.opted_out:
        Suppression.objects.bulk_create([Suppression(phone_number=into.phone_number)], ignore_conflicts=True)
    into.is_blocked = into.is_blocked or other.is_blocked
    into.created_at = min(into.created_at, other.created_at)
    other.delete()
    into.save()
    return into
