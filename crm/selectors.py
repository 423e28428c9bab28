"""Reads about a client's contacts. Every function runs in the schema of the request's client: a contact id
from another client's schema is simply not there, and answers 404 like any missing one."""

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from .models import Contact, Outcome


def phone_display(number: str) -> str:
    """How staff read a number: national format for the client's own country, international otherwise."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    local = phonenumbers.region_code_for_number(parsed) == settings.PHONENUMBER_DEFAULT_REGION
    return phonenumbers.format_number(
        parsed,
        phonenumbers.PhoneNumberFormat.NATIONAL if local else phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )


def with_phone_display(contacts):
    for contact in contacts:
        contact.phone_display = phone_display(contact.phone_number)
    return contacts


def contact_get(*, contact_id: int) -> Contact:
    """The one way a view fetches a contact someone named in a URL."""
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact")
    contact.phone_display = phone_display(contact.phone_number)
    return contact


class Status:
    BLOCKED = "blocked"
    OPTED_OUT = "opted_out"
    CHOICES = [("", "Everyone"), (BLOCKED, "Blocked"), (OPTED_OUT, "Opted out")]


def contact_list(*, query: str = "", status: str = "", tag: str = "") -> QuerySet[Contact]:
    """Contacts matching a search (name, number, email or tag) and filters, newest first, each with the time of
    its last call. One query however many rows."""
    from telephony.models import Call

    contacts = Contact.objects.annotate(
        last_call_at=Subquery(
            Call.objects.filter(contact=OuterRef("pk")).order_by("-started_at").values("started_at")[:1]
        )
    )
    query = query.strip()
    if query:
        match = Q(name__icontains=query) | Q(email__icontains=query) | Q(tags__contains=[query.lower()])
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3:  # "(312) 555-01" finds +1312555017x
            match |= Q(phone_number__contains=digits)
        contacts = contacts.filter(match)
    if status == Status.BLOCKED:
        contacts = contacts.filter(is_blocked=True)
    elif status == Status.OPTED_OUT:
        contacts = contacts.filter(opted_out=True)
    if tag:
        contacts = contacts.filter(tags__contains=[tag])
    return contacts.order_by("-created_at", "-id")


def tags_in_use() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT unnest(tags) AS tag FROM crm_contact ORDER BY tag LIMIT 200")
        return [row[0] for row in cursor.fetchall()]


def merge_candidates(*, contact: Contact, query: str, limit: int = 20) -> list[Contact]:
    if not query.strip():
        return []
    return with_phone_display(list(contact_list(query=query).exclude(pk=contact.pk)[:limit]))


# --- The timeline ------------------------------------------------------------------------------------------


@dataclass
class Event:
    at: datetime
    kind: str  # "call", "text_in", "text_out", "outcome"
    title: str
    detail: str = ""
    status: str = ""


TIMELINE_PAGE = 50


def contact_timeline(
    *, contact: Contact, before: datetime | None = None, size: int | None = None
) -> tuple[list[Event], datetime | None]:
    """Every call, text and outcome of a contact, newest first: one page of `size` and the time to ask for the
    next (older) page from, or None when there is nothing older. Three queries whatever the page."""
    from messaging.models import Message
    from telephony.models import Call

    size = size or TIMELINE_PAGE
    calls = Call.objects.filter(contact=contact)
    texts = Message.objects.filter(conversation__contact=contact)
    outcomes = Outcome.objects.filter(contact=contact)
    if before is not None:
        calls, texts = calls.filter(started_at__lt=before), texts.filter(created_at__lt=before)
        outcomes = outcomes.filter(created_at__lt=before)
    # The newest `size + 1` of each kind hold the newest `size + 1` overall; the extra one says "there is more".
    events = [_call_event(call) for call in calls.order_by("-started_at")[: size + 1]]
    events += [_text_event(text) for text in texts.order_by("-created_at", "-id")[: size + 1]]
    events += [_outcome_event(outcome) for outcome in outcomes.order_by("-created_at", "-id")[: size + 1]]
    events.sort(key=lambda event: event.at, reverse=True)
    page = events[:size]
    return page, (page[-1].at if len(events) > size else None)


def _call_event(call) -> Event:
    title = {
        "missed": "Missed call",
        "answered": "Answered call",
        "abandoned": "Hung up early",
        "ringing": "Call ringing",
    }.get(call.outcome, "Call")
    detail = call.get_missed_reason_display() if call.missed_reason else ""
    if call.duration_seconds:
        detail = f"{detail} · {call.duration_seconds} s" if detail else f"{call.duration_seconds} s"
    return Event(at=call.started_at, kind="call", title=title, detail=detail, status=call.outcome)


def _text_event(message) -> Event:
    if message.direction == message.Direction.INBOUND:
        return Event(at=message.created_at, kind="text_in", title="Text from the caller", detail=message.body)
    title = {"textback": "Text-back sent", "reply": "Reply sent", "keyword_reply": "Automatic reply"}.get(
        message.kind, "Text sent"
    )
    return Event(
        at=message.created_at,
        kind="text_out",
        title=title,
        detail=message.body,
        status=message.get_status_display(),
    )


def _outcome_event(outcome: Outcome) -> Event:
    detail = f"${outcome.value:,.2f}" if outcome.value is not None else ""
    if outcome.lost_reason:
        detail = outcome.lost_reason
    return Event(
        at=outcome.created_at,
        kind="outcome",
        title=outcome.get_kind_display(),
        detail=detail,
        status=outcome.kind,
    )
