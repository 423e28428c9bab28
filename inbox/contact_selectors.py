"""Reads for the contacts pages that need more than crm holds: each contact's last call, and a contact's
timeline of calls, texts and outcomes. (The contact itself, its search and its merge candidates are crm's:
crm.selectors.)"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from crm.models import Contact, Outcome
from messaging.models import Message
from telephony.models import Call


def with_last_call(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The same contacts, each with `last_call_at`, the time of its latest call (a subquery: still one query)."""
    return contacts.annotate(
        last_call_at=Subquery(
            Call.objects.filter(contact=OuterRef("pk")).order_by("-started_at").values("started_at")[:1]
        )
    )


# --- The timeline ------------------------------------------------------------------------------------------


@dataclass
class TimelineEvent:
    at: datetime
    kind: str  # "call", "text_in", "text_out", "outcome"
    title: str
    detail: str = ""
    status: str = ""


TIMELINE_PAGE = 50


def contact_timeline(
    *, contact: Contact, before: datetime | None = None, size: int | None = None
) -> tuple[list[TimelineEvent], datetime | None]:
    """Every call, text and outcome of a contact, newest first: one page of `size` and the time to ask for the
    next (older) page from, or None when there is nothing older. Three queries whatever the page."""
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


def _call_event(call: Call) -> TimelineEvent:
    title = {
        "missed": "Missed call",
        "answered": "Answered call",
        "abandoned": "Hung up early",
        "ringing": "Call ringing",
    }.get(call.outcome, "Call")
    detail = call.get_missed_reason_display() if call.missed_reason else ""
    if call.duration_seconds:
        detail = f"{detail} · {call.duration_seconds} s" if detail else f"{call.duration_seconds} s"
    return TimelineEvent(at=call.started_at, kind="call", title=title, detail=detail, status=call.outcome)


def _text_event(message: Message) -> TimelineEvent:
    if message.direction == message.Direction.INBOUND:
        return TimelineEvent(
            at=message.created_at, kind="text_in", title="Text from the caller", detail=message.body
        )
    title = {
        "textback": "Text-back sent",
        "reply": "Reply sent",
        "keyword_reply": "Automatic reply",
        "auto_reply": "Automatic reply",
        "followup": "Follow-up sent",
        "intake": "Intake form",
    }.get(message.kind, "Text sent")
    return TimelineEvent(
        at=message.created_at,
        kind="text_out",
        title=title,
        detail=message.body,
        status=message.get_status_display(),
    )


def _outcome_event(outcome: Outcome) -> TimelineEvent:
    detail = f"${outcome.value:,.2f}" if outcome.value is not None else ""
    if outcome.lost_reason:
        detail = outcome.lost_reason
    return TimelineEvent(
        at=outcome.created_at,
        kind="outcome",
        title=outcome.get_kind_display(),
        detail=detail,
        status=outcome.kind,
    )
