"""Reads for the staff inbox: the conversation list and one thread's timeline.

Everything here runs in the client's schema (the host picked it). People live in the public schema and are
reached through the search path; they are fetched once per page, by id, never once per row."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.timezone import localtime, now

from accounts.hours import open_deadline
from accounts.models import Client, ClientMembership, User
from crm.models import Contact, Outcome
from messaging.intake import INTAKE_PATH, intake_links_opened
from messaging.links import LINK_PATH, links_by_message
from messaging.models import UNREAD_FIRST, Conversation, Message, OutboundSend
from messaging.reasons import reason_text
from telephony.models import Call, Callback

from .models import CannedReply, Note, NotificationPreference

PAGE_SIZE = 50


class Filter:
    """The list's tabs. Every tab but "snoozed" hides a snoozed conversation until its time comes, unless the
    caller has written since (a new reply wakes it)."""

    OPEN = "open"
    TO_CHECK = "to_check"
    UNREAD = "unread"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    SNOOZED = "snoozed"
    CLOSED = "closed"
    OPTED_OUT = "opted_out"
    ALL = "all"

    CHOICES = [
        (OPEN, "Open"),
        (TO_CHECK, "To check"),
        (UNREAD, "Unread"),
        (MINE, "Mine"),
        (UNASSIGNED, "Unassigned"),
        (SNOOZED, "Snoozed"),
        (CLOSED, "Closed"),
        (OPTED_OUT, "Opted out"),
        (ALL, "All"),
    ]
    DEFAULT = OPEN


def phone_display(number: str) -> str:
    """+13125550188 → (312) 555-0188 at home, +44 20 7946 0958 abroad; anything unparsable as it came."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    home = phonenumbers.region_code_for_number(parsed) == "US"
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


def contact_label(contact: Contact) -> str:
    return contact.name or phone_display(contact.phone_number)


def relative_time(moment: datetime, *, at: datetime | None = None) -> str:
    """Short, like a phone's message list: "now", "5m", "3h", "Yesterday", "Tue", "Mar 4", "Mar 4, 2024".
    ``moment`` is shown in the active time zone (the client's)."""
    at = at or now()
    seconds = (at - moment).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    local, today = localtime(moment), localtime(at).date()
    if local.date() == today:
        return f"{int(seconds // 3600)}h"
    if local.date() == today - timedelta(days=1):
        return "Yesterday"
    if local.date() > today - timedelta(days=7):
        return local.strftime("%a")
    if local.year == today.year:
        return f"{local:%b} {local.day}"
    return f"{local:%b} {local.day}, {local.year}"


# --- People ------------------------------------------------------------------------------------------------


def client_assignable_users(*, client: Client) -> list[User]:
    """Who a conversation can be given to: the client's own people (not read-only staff, who cannot answer)
    and the staff of its agency."""
    answering = Q(
        client_memberships__client=client,
        client_memberships__role__in=[ClientMembership.Role.OWNER, ClientMembership.Role.STAFF],
    )
    return list(
        User.objects.filter(is_active=True)
        .filter(answering | Q(agency_memberships__agency_id=client.agency_id))
        .distinct()
        .order_by("name", "email")
    )


def user_label(user: User | None) -> str:
    if user is None:
        return ""
    return user.name or user.email.split("@")[0]


def users_by_id(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    return {user.pk: user for user in User.objects.filter(pk__in=ids)} if ids else {}


# --- The list ----------------------------------------------------------------------------------------------


def _hidden_by_snooze(moment: datetime) -> Q:
    return Q(snoozed_until__gt=moment, unread_count=0)


def conversation_list(
    *, user: User, tab: str = Filter.DEFAULT, query: str = "", intent: str = ""
) -> QuerySet[Conversation]:
    """The conversations of one tab, unread first, then newest activity first, each annotated with its last
    message, the contact's latest outcome and the keyword rule last fired (one query for the page, whatever its length)."""
    moment = now()
    conversations = Conversation.objects.select_related("contact")
    if tab == Filter.SNOOZED:
        conversations = conversations.filter(_hidden_by_snooze(moment))
    else:
        conversations = conversations.exclude(_hidden_by_snooze(moment))
    if tab == Filter.OPEN:
        conversations = conversations.filter(status=Conversation.Status.OPEN)
    elif tab == Filter.TO_CHECK:
        conversations = conversations.exclude(flag="")
    elif tab == Filter.UNREAD:
        conversations = conversations.filter(unread_count__gt=0)
    elif tab == Filter.MINE:
        conversations = conversations.filter(status=Conversation.Status.OPEN, assigned_to_id=user.pk)
    elif tab == Filter.UNASSIGNED:
        conversations = conversations.filter(status=Conversation.Status.OPEN, assigned_to_id__isnull=True)
    elif tab == Filter.CLOSED:
        conversations = conversations.filter(status=Conversation.Status.CLOSED)
    elif tab == Filter.OPTED_OUT:
        conversations = conversations.filter(contact__opted_out=True)
    if intent:  # what the caller's latest reply is about (messaging.intents)
        conversations = conversations.filter(intent=intent)
    query = query.strip()
    if query:
        conversations = conversations.filter(_search(query))
    last_message = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    latest_outcome = Outcome.objects.filter(contact=OuterRef("contact_id")).order_by("-created_at", "-id")
    latest_call = Call.objects.filter(contact=OuterRef("contact_id")).order_by("-started_at", "-id")
    # The keyword rule the caller's texts last set off (messaging.actions), for the row as for the thread.
    latest_rule = (
        Message.objects.filter(conversation=OuterRef("pk")).exclude(action="").order_by("-created_at", "-id")
    )
    return conversations.annotate(
        has_unread=UNREAD_FIRST,
        last_body=Subquery(last_message.values("body")[:1]),
        last_direction=Subquery(last_message.values("direction")[:1]),
        last_message_at=Subquery(last_message.values("created_at")[:1]),
        outcome_kind=Subquery(latest_outcome.values("kind")[:1]),
        outcome_value=Subquery(latest_outcome.values("value")[:1]),
        last_call_outcome=Subquery(latest_call.values("outcome")[:1]),
        last_call_at=Subquery(latest_call.values("started_at")[:1]),
        rule_fired=Subquery(latest_rule.values("action")[:1]),
        waiting_since=_waiting_since(),
    ).order_by("-has_unread", "-last_activity_at", "-id")


# Before any message: what "answered at" is for a conversation staff never answered.
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def _waiting_since() -> Subquery:
    """When the caller's oldest text that no staff reply has answered came in (None when none is waiting): the
    response target counts from there, as the escalation does (inbox.notifications.reply_is_answered)."""
    answered_at = (
        Message.objects.filter(conversation=OuterRef(OuterRef("pk")), kind=Message.Kind.REPLY)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    unanswered = Message.objects.filter(
        conversation=OuterRef("pk"),
        direction=Message.Direction.INBOUND,
        created_at__gte=Coalesce(Subquery(answered_at), Value(NEVER)),
    ).order_by("created_at")
    return Subquery(unanswered.values("created_at")[:1])


def tab_counts(*, user: User) -> dict[str, int]:
    """The numbers on the list's tabs (those that are a to-do list: open, to check, unread, mine, unassigned,
    snoozed) and the unread total for the title, in one aggregate query. Each counts what its tab lists
    (conversation_list)."""
    moment = now()
    shown = ~_hidden_by_snooze(moment)
    open_ = Q(status=Conversation.Status.OPEN) & shown
    return Conversation.objects.aggregate(
        open=Count("pk", filter=open_),
        unread=Count("pk", filter=Q(unread_count__gt=0)),  # never hidden by a snooze: a reply wakes it
        to_check=Count("pk", filter=shown & ~Q(flag="")),
        mine=Count("pk", filter=open_ & Q(assigned_to_id=user.pk)),
        unassigned=Count("pk", filter=open_ & Q(assigned_to_id__isnull=True)),
        snoozed=Count("pk", filter=_hidden_by_snooze(moment)),
    )


# What people type when they look for a caller by number: "555 0188", "(312) 555-0188", "+1 312 555 0188".
NUMBER_TYPED = re.compile(r"[\d\s()+.\-]+")


def _search(query: str) -> Q:
    """A number (typed any way, three digits or more) finds the callers whose number has those digits; anything
    else, the callers by name and the conversations by the text of any message. A number is not looked for in
    the texts: that reads every message the client has (0.75 s at a million; bench/inbox_pages.py), to find a
    caller the number itself finds."""
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3 and NUMBER_TYPED.fullmatch(query):
        return Q(contact__phone_number__contains=digits)
    return Q(contact__name__icontains=query) | Q(
        Exists(Message.objects.filter(conversation=OuterRef("pk"), body__icontains=query))
    )


def conversation_rows(
    conversations, *, client: Client, at: datetime | None = None, people: dict[int, User] | None = None
) -> list[Conversation]:
    """Decorate a page of conversation_list with what a row shows (one query for all the assignees, none when
    ``people`` already holds them)."""
    at = at or now()
    conversations = list(conversations)
    known = people or {}
    people = known | users_by_id(c.assigned_to_id for c in conversations if c.assigned_to_id not in known)
    for conversation in conversations:
        conversation.caller = contact_label(conversation.contact)
        conversation.avatar = avatar(conversation.contact)
        conversation.when = relative_time(conversation.last_activity_at, at=at)
        conversation.assignee = user_label(people.get(conversation.assigned_to_id))
        conversation.is_snoozed = bool(conversation.snoozed_until and conversation.snoozed_until > at)
        # The row leads with a missed call when that is the newest thing that happened with this caller.
        conversation.missed_call_last = conversation.last_call_outcome == Call.Outcome.MISSED and (
            conversation.last_message_at is None or conversation.last_call_at >= conversation.last_message_at
        )
        conversation.due = reply_due(client=client, conversation=conversation, at=at)
        rule = getattr(conversation, "rule_fired", None)
        conversation.rule_fired_label = Message.Action(rule).label if rule else ""
    return conversations


@dataclass(frozen=True)
class Due:
    """How long staff have left to answer a caller, against the client's response target."""

    at: datetime
    late: bool
    label: str  # "due in 4 min", "late 12 min", "due Mon 8:15 AM"


def reply_due(*, client: Client, conversation: Conversation, at: datetime | None = None) -> Due | None:
    """The response target's countdown for an open conversation whose caller is waiting (``waiting_since``,
    annotated by conversation_list or conversation_waiting_since), counted in business hours; None otherwise."""
    since = getattr(conversation, "waiting_since", None)
    if since is None or conversation.status != Conversation.Status.OPEN:
        return None
    at = at or now()
    due = open_deadline(
        client.business_hours,
        client.closures,
        ZoneInfo(client.timezone),
        since,
        client.response_target_minutes,
    )
    return Due(at=due, late=due <= at, label=_due_label(due, at))


def _due_label(due: datetime, at: datetime) -> str:
    seconds = (due - at).total_seconds()
    minutes = int(abs(seconds) // 60) + (0 if seconds < 0 else 1)  # a countdown rounds up, lateness down
    if seconds > 0 and minutes > 12 * 60:  # after hours: when it falls due, not how long
        return f"due {localtime(due):%a %-I:%M %p}"
    span = (
        f"{minutes} min"
        if minutes < 60
        else f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    )
    if minutes >= 24 * 60:
        span = f"{minutes // 1440} d"
    return f"due in {span}" if seconds > 0 else f"late {span}"


def waiting_since(messages: list[Message]) -> datetime | None:
    """The same as conversation_list's ``waiting_since``, read off a thread's messages (already loaded)."""
    answered = max((m.created_at for m in messages if m.kind == Message.Kind.REPLY), default=NEVER)
    return min(
        (
            m.created_at
            for m in messages
            if m.direction == Message.Direction.INBOUND and m.created_at >= answered
        ),
        default=None,
    )


AVATAR_TONES = 6


def avatar(contact: Contact) -> dict:
    """Initials ("MG" for Maria Gonzalez; none for a number) and one of six tints, the same for a caller
    every time (picked from their number, not Python's salted hash)."""
    words = [w for w in re.split(r"\s+", contact.name.strip()) if w[:1].isalpha()]
    initials = (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper() if words else ""
    digits = sum(int(d) for d in contact.phone_number if d.isdigit())
    return {"initials": initials, "tone": digits % AVATAR_TONES + 1}


def unread_conversation_count() -> int:
    """What the tab title counts: conversations with something unread (a new reply wakes a snoozed one)."""
    return Conversation.objects.filter(unread_count__gt=0).count()


# --- The thread --------------------------------------------------------------------------------------------


@dataclass
class TimelineItem:
    """One thing in a thread, in the order it happened: a message, a call, a text-back event, a note or an
    outcome. ``kind`` picks its look; ``obj`` is the row behind it."""

    kind: str
    at: datetime
    obj: Any = None
    text: str = ""
    by: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}-{getattr(self.obj, 'pk', '')}-{self.at.timestamp()}"


def conversation_timeline(*, client: Client, conversation: Conversation) -> list[TimelineItem]:
    """Messages, calls (and what became of their text-back), the caller opening the intake form, notes and
    outcomes, oldest first. A fixed
    number of queries, however long the thread."""
    contact = conversation.contact
    messages = list(conversation.messages.prefetch_related("media"))
    calls = list(Call.objects.filter(contact=contact).order_by("started_at", "id"))
    callbacks = list(Callback.objects.filter(contact=contact))
    notes = list(Note.objects.filter(conversation=conversation))
    outcomes = list(Outcome.objects.filter(contact=contact))
    sends = {}
    if calls:
        sends = {
            send.call_sid: send
            for send in OutboundSend.objects.filter(
                client=client,
                kind=OutboundSend.Kind.TEXT_BACK,
                call_sid__in=[call.call_sid for call in calls],
            )
        }
    people = users_by_id(
        [m.sent_by_id for m in messages]
        + [n.author_id for n in notes]
        + [o.recorded_by_id for o in outcomes]
        + [c.placed_by_id for c in callbacks]
    )
    # Whether the caller opened the links we texted them; asked only when some text carries one.
    links = links_by_message(
        client=client,
        message_ids=[
            m.pk for m in messages if m.direction == Message.Direction.OUTBOUND and LINK_PATH in m.body
        ],
    )
    # When the caller opened the intake form we texted them; asked only when some text carries its link.
    intake_opens = (
        intake_links_opened(client=client, conversation_id=conversation.pk)
        if any(m.direction == Message.Direction.OUTBOUND and INTAKE_PATH in m.body for m in messages)
        else []
    )
    items: list[TimelineItem] = []
    for link in intake_opens:
        items.append(TimelineItem("intake_open", link.first_opened_at, link))
    for message in messages:
        link = links.get(message.pk)
        items.append(
            TimelineItem(
                "message",
                message.created_at,
                message,
                by=user_label(people.get(message.sent_by_id)),
                extra={"link": link} if link else {},
            )
        )
    for call in calls:
        items.append(TimelineItem("call", call.started_at, call, text=_call_text(call)))
        send = sends.get(call.call_sid)
        if send is not None:
            event = _textback_event(send, call)
            if event is not None:
                items.append(event)
    for callback in callbacks:
        items.append(
            TimelineItem(
                "callback", callback.started_at, callback, by=user_label(people.get(callback.placed_by_id))
            )
        )
    for note in notes:
        items.append(TimelineItem("note", note.created_at, note, by=user_label(people.get(note.author_id))))
    for outcome in outcomes:
        items.append(
            TimelineItem(
                "outcome", outcome.created_at, outcome, by=user_label(people.get(outcome.recorded_by_id))
            )
        )
    order = {"call": 0, "textback": 1, "message": 2, "intake_open": 3, "callback": 4, "note": 5, "outcome": 6}
    items.sort(key=lambda item: (item.at, order[item.kind], getattr(item.obj, "pk", 0)))
    return items


def _call_text(call: Call) -> str:
    if call.outcome == Call.Outcome.MISSED:
        reason = call.get_missed_reason_display() if call.missed_reason else ""
        return f"Missed call · {reason.lower()}" if reason else "Missed call"
    if call.outcome == Call.Outcome.ANSWERED:
        minutes = (
            f" · {call.duration_seconds // 60}:{call.duration_seconds % 60:02d}"
            if call.duration_seconds
            else ""
        )
        return f"Answered call{minutes}"
    if call.outcome == Call.Outcome.ABANDONED:
        return "Call · hung up before it rang long enough; not texted"
    return "Incoming call · ringing"


def _textback_event(send: OutboundSend, call: Call) -> TimelineItem | None:
    """What the ledger says about this call's text-back. A sent one is in the thread as its message; what was
    not (yet) sent is said here, with why."""
    at = call.started_at  # listed right under its call, whenever the ledger decided
    if send.state == OutboundSend.State.SKIPPED:
        return TimelineItem(
            "textback",
            at,
            send,
            text=f"Text-back not sent: {reason_text(send.reason)}.",
            extra={"tone": "skipped"},
        )
    if send.state == OutboundSend.State.FAILED and not send.message_id:
        return TimelineItem(
            "textback",
            at,
            send,
            text=f"Text-back failed: {reason_text(send.reason)}.",
            extra={"tone": "failed"},
        )
    if send.state == OutboundSend.State.PENDING and not send.message_id:
        due = localtime(send.due_at)
        when = "in a moment" if send.due_at <= now() + timedelta(seconds=60) else f"at {due:%-I:%M %p}"
        return TimelineItem(
            "textback", at, send, text=f"Text-back scheduled {when}.", extra={"tone": "pending"}
        )
    return None


def canned_replies() -> list[CannedReply]:
    return list(CannedReply.objects.all())


def on_call_candidates(*, user_ids: list[int]) -> set[int]:
    """Which of these people have a mobile confirmed at this client (its schema): the ones an URGENT text can
    reach (messaging.keyword_actions, inbox.notifications.notify_urgent)."""
    return {
        pref.user_id
        for pref in NotificationPreference.objects.filter(user_id__in=user_ids).exclude(text_to="")
        if pref.text_to_is_confirmed
    }
