"""Sending and receiving texts. Every outbound text takes one path:

    a ledger row (OutboundSend, public) ─▶ send_deliver in a worker ─▶ a Message row ─▶ the provider

The ledger row is written in the same transaction as whatever asked for the text (a missed call, a staff
reply), and the Celery task is enqueued only after that commits. The worker claims the row with a lock,
re-checks everything at send time, and records "sending" *before* calling the provider, so a worker that dies
mid-send leaves a row that says "outcome unknown": it is reconciled against the provider's own list of sent
messages before anything is sent again. That is how a caller never gets the same text twice.

Row locks are FOR NO KEY UPDATE (select_for_update(no_key=True)): they serialise a send-time check against a
STOP being recorded (an UPDATE of the same row) exactly as FOR UPDATE would, but do not block the key-share
locks PostgreSQL takes on a contact whenever a call, conversation or message referencing it is written, which
is how a worker holding a caller's row and a webhook recording their call used to deadlock.
"""

import functools
import logging
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils.timezone import now

from accounts.models import Agency, Client
from accounts.schemas import in_schema_of
from accounts.selectors import client_for_task
from config.db import columns_of, fetch_model, insert_unless_exists, model_from_row
from crm.models import Contact, Suppression, suppressed
from crm.phone import e164_or_none, is_anonymous
from crm.services import contact_locked, contact_upsert
from events.bus import Event, ask, publish

from . import events
from .carrier_errors import error_meaning
from .carriers import provider_for, status_callback_for
from .followups import followup_held_until, followup_prepare
from .intake import SAMPLE_INTAKE_CODE, intake_link_for, intake_url
from .intents import Intent, Reading, intent_of, says_wrong_number
from .keywords import Keyword, classify, revocation
from .links import SAMPLE_CODE, booking_link_attach, booking_link_new, link_url
from .media import media_public_urls
from .models import STATUS_RANK, ConsentEvent, Conversation, Message, OutboundSend, Template
from .placeholders import placeholders_in, render
from .providers import ProviderError
from .reasons import Reason, SkipReason, reason_text
from .segments import segment_info

log = logging.getLogger(__name__)

OPT_OUT_NOTICE = "Reply STOP to opt out."
# Attempts before a transient failure is final. With the backoff in _retry_later (2, 4, 8, 16, then 20 s) the
# 20th attempt comes about 5.5 minutes after the first: a provider outage of a few minutes loses no text, and
# a text waits at most RETRY_DELAY_MAX past the provider's recovery (issue 15's soak: within 30 s of a fault).
MAX_ATTEMPTS = 20
RETRY_DELAY_MAX = 20
# A row "sending" for longer than this lost its worker; the sweep reconciles it. Longer than the provider's
# timeout, so a live attempt is never mistaken for a dead one.
SENDING_STALE_AFTER = timedelta(seconds=settings.SENDING_STALE_SECONDS)
# A pending row handed to the broker this long ago, and due this long ago, and still pending was lost by it (or
# by a sender that died holding it prefetched, which the broker would give back only after its visibility
# timeout); the sweep re-dispatches. Claiming under the row lock makes a second dispatch harmless.
DISPATCH_STALE_AFTER = timedelta(seconds=10)
LINE_TYPE_TTL = timedelta(days=90)


# --- Scheduling --------------------------------------------------------------------------------------------


# After the broker fails, skip it for a while: a webhook must answer quickly, and the sweep catches up.
BROKER_BACKOFF = timedelta(seconds=5)
_broker_down_until = None


def outbound_dispatch(*, send: OutboundSend, stamped: bool = False) -> None:
    """Hand a ledger row to the broker, to run when it is due. A broker that is down is logged, not raised:
    the row is safe in the database and the beat sweep dispatches it once the broker is back.

    The row is stamped dispatched before publishing (a worker fast enough to pick the task up at once must not
    find it locked by this very update and answer "busy", leaving the text to the sweep); `stamped` says the
    row was written with the stamp already."""
    global _broker_down_until
    from .tasks import deliver_send

    if _broker_down_until is not None and now() < _broker_down_until:
        if stamped:
            _unstamp(send)
        return
    countdown = max(0.0, (send.due_at - now()).total_seconds())
    if not stamped:
        OutboundSend.objects.filter(pk=send.pk).update(dispatched_at=now())
    try:
        deliver_send.apply_async((send.pk,), countdown=countdown, retry=False)
    except Exception as exc:  # kombu raises many kinds; any of them means "not queued"
        _broker_down_until = now() + BROKER_BACKOFF
        _unstamp(send)
        log.warning("could not queue send %s (%s); the sweep will", send.pk, exc)
        return
    _broker_down_until = None


def _unstamp(send: OutboundSend) -> None:
    """Not on the broker after all: leave the row to the sweep."""
    OutboundSend.objects.filter(pk=send.pk).update(dispatched_at=None)


def textback_schedule(*, client: Client, call_sid: str, caller: str, missed_at: datetime) -> OutboundSend:
    """Record that this missed call is owed a text-back, once, however often the webhooks say so. Call inside
    the transaction that records the missed call; the task is queued when it commits."""
    send = OutboundSend(
        client=client,
        key=f"call:{call_sid}",
        kind=OutboundSend.Kind.TEXT_BACK,
        to_number=caller[:32],
        call_sid=call_sid,
        event_at=missed_at,
        due_at=missed_at + timedelta(seconds=client.text_delay_seconds),
        dispatched_at=now(),  # published when this commits (outbound_dispatch), so stamped in the same write
    )
    if insert_unless_exists(send):
        transaction.on_commit(lambda: outbound_dispatch(send=send, stamped=True))
        return send
    return OutboundSend.objects.get(client=client, key=send.key)


def message_queue(
    *, client: Client, contact: Contact, body: str, kind: str, sent_by_id: int | None = None
) -> Message:
    """Write an outbound Message (staff reply, keyword reply) and its ledger row; it goes out when the
    transaction commits. Call in the client's schema."""
    conversation = conversation_for(contact=contact)
    info = segment_info(body)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        body=body,
        status=Message.Status.QUEUED,
        from_number=client.texts_from,
        to_number=contact.phone_number,
        encoding=info.encoding,
        segments=info.segments,
        sent_by_id=sent_by_id,
    )
    send = OutboundSend.objects.create(
        client=client,
        kind=OutboundSend.Kind.MESSAGE,
        key=f"message:{message.pk}",
        to_number=contact.phone_number,
        message_id=message.pk,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=message.created_at)
    transaction.on_commit(lambda: outbound_dispatch(send=send))
    return message


def conversation_for(*, contact: Contact) -> Conversation:
    return Conversation.objects.filter(contact=contact).first() or _conversation_start(contact)


def _conversation_start(contact: Contact) -> Conversation:
    """The caller's first conversation (or the one another request started a moment ago)."""
    conversation = Conversation(contact=contact)
    if not insert_unless_exists(conversation):
        conversation = Conversation.objects.get(contact=contact)
    return conversation


# --- Delivering --------------------------------------------------------------------------------------------


@dataclass
class _Claim:
    send: OutboundSend
    client: Client
    message: Message
    reconcile: bool = False


# The fence: an attempt holds a session advisory lock on its send from its claim until it has recorded the
# provider's answer. A later attempt that finds the row "sending" and stale reconciles only if it can take the
# lock, i.e. only if the earlier attempt's database session is gone (its worker died: PostgreSQL releases a dead
# session's locks) or finished. A live attempt that is merely slow (a busy machine, a slow Twilio) is never
# reconciled and resent under its feet, whatever SENDING_STALE_SECONDS says. Keys: (FENCE_BASE + send id), a
# one-key lock; the two-key locks of reports.rollups live in a space of their own.
FENCE_BASE = 7262 << 40


def _fence_take(send_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [FENCE_BASE + send_id])
        return cursor.fetchone()[0]


def _fence_release(send_id: int) -> None:
    if connection.connection is None:
        return  # the session is gone, and its locks with it
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [FENCE_BASE + send_id])
    except DatabaseError:
        # A dead connection held nothing; a live one that cannot run a statement is closed so that it does
        # not keep the lock (and the send "in flight") for as long as the process lives.
        connection.close()


def send_deliver(*, send_id: int) -> str:
    """Work one ledger row: the body of the deliver_send task and of the sweep. Returns what happened."""
    claim = _claim(send_id)
    if isinstance(claim, str):
        return claim
    with in_schema_of(claim.client):
        try:
            return _deliver_claimed(claim)
        finally:
            _fence_release(claim.send.pk)  # in the client's schema still: no statement to switch back first


def _deliver_claimed(claim: _Claim) -> str:
    """Send what was claimed, in the client's schema; a claim to reconcile asks the provider first."""
    if claim.reconcile:
        outcome = _reconcile(claim)
        if outcome is not None:
            return outcome
        # Not at the provider: it is about to be sent again, so the caller's consent is checked again.
        with transaction.atomic():
            checked = _recheck_written(claim.send)
            if isinstance(checked, str):
                _finish(claim.send, OutboundSend.State.SKIPPED, reason=checked)
                _announce_not_sent(claim.client, claim.send, claim.message, checked)
                return f"skipped: {checked}"
    return _hand_to_provider(claim)


def _claim(send_id: int) -> _Claim | str:
    """Lock the row, check it is this attempt's to work, and take the fence (see FENCE_BASE): a _Claim, or
    what the row is doing instead. A claim holds the fence; send_deliver lets go of it."""
    fenced: list[int] = []
    try:
        claim = _claim_locked(send_id, fenced)
    except BaseException:
        if fenced:  # after the rollback: a session lock outlives its transaction
            _fence_release(send_id)
        raise
    if fenced and isinstance(claim, str):
        _fence_release(send_id)
    return claim


@functools.cache
def _claim_sql() -> str:
    """The ledger row with its client and agency, locked unless another worker holds it (written out once: the
    ORM took a millisecond of CPU to compile this join of three wide tables on every send)."""
    columns = [*columns_of(OutboundSend, "s"), *columns_of(Client, "c"), *columns_of(Agency, "a")]
    return (
        f"SELECT {', '.join(columns)} FROM {OutboundSend._meta.db_table} s "
        f"JOIN {Client._meta.db_table} c ON c.id = s.client_id "
        f"JOIN {Agency._meta.db_table} a ON a.id = c.agency_id "
        "WHERE s.id = %s FOR UPDATE OF s SKIP LOCKED"
    )


def _send_locked(send_id: int) -> OutboundSend | None:
    """The ledger row, locked (None when another worker holds it, or there is none), its client and agency read."""
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [send_id])
        row = cursor.fetchone()
    if row is None:
        return None
    sends, clients = len(OutboundSend._meta.concrete_fields), len(Client._meta.concrete_fields)
    send = model_from_row(OutboundSend, row[:sends])
    client = model_from_row(Client, row[sends : sends + clients])
    client.agency = model_from_row(Agency, row[sends + clients :])
    send.client = client
    return send


def _claim_locked(send_id: int, fenced: list[int]) -> _Claim | str:
    with transaction.atomic():
        send = _send_locked(send_id)
        if send is None:
            return "busy"  # another worker holds it and will finish it (or it does not exist)
        if send.state == OutboundSend.State.SENDING:
            if send.updated_at > now() - SENDING_STALE_AFTER or not _fence_take(send.pk):
                return "in flight"  # recently, or its attempt still holds the fence: it is alive
            fenced.append(send.pk)
            assert send.message_id is not None  # a row is marked sending with its message, in one save
            with in_schema_of(send.client):
                message = Message.objects.get(pk=send.message_id)
            claim = _Claim(send=send, client=send.client, message=message, reconcile=True)
            send.attempts += 1
            send.save(update_fields=["attempts", "updated_at"])  # fresh again: this worker has it now
            return claim
        if send.state != OutboundSend.State.PENDING:
            return send.state
        if send.due_at > now() + timedelta(seconds=1):
            transaction.on_commit(lambda: outbound_dispatch(send=send))
            return "not due"
        if not _fence_take(send.pk):
            return "in flight"  # the last attempt has not let go yet; the sweep comes back to it
        fenced.append(send.pk)
        with in_schema_of(send.client):
            return _claim_in_client(send)


def _claim_in_client(send: OutboundSend) -> _Claim | str:
    """The part of claiming that reads and writes the client's schema (the caller has switched to it)."""
    client = send.client
    if send.message_id is not None:
        # A message already written: a staff or keyword reply, or a text-back whose last attempt failed
        # transiently. The same message goes out, once the caller's consent is checked again.
        outcome = _recheck_written(send)
    elif send.kind == OutboundSend.Kind.FOLLOW_UP:
        held = followup_held_until(send=send, client=client)
        if held is not None:  # outside the caller's allowed hours: the sweep comes back to it then
            OutboundSend.objects.filter(pk=send.pk).update(due_at=held, dispatched_at=None)
            return "held"
        outcome = followup_prepare(send=send, client=client)
    else:
        outcome = _prepare_text_back(send, client)
    if isinstance(outcome, str):
        _finish(send, OutboundSend.State.SKIPPED, reason=outcome)
        # A written message (a staff reply, a retried text-back) stopped now has failed; listeners hear of it.
        written = Message.objects.filter(pk=send.message_id).first() if send.message_id else None
        _announce_not_sent(client, send, written, outcome)
        log.info("send %s skipped: %s", send.pk, outcome)
        return f"skipped: {outcome}"
    if outcome.status != Message.Status.SENDING:  # a written message; a new text-back is written as sending
        outcome.status = Message.Status.SENDING
        outcome.status_changed_at = now()
        outcome.save(update_fields=["status", "status_changed_at"])
    send.state = OutboundSend.State.SENDING
    send.message_id = outcome.pk
    send.attempts += 1
    send.updated_at = now()
    with connection.cursor() as cursor:  # written out: nothing listens to a ledger row's save
        cursor.execute(
            f"UPDATE {OutboundSend._meta.db_table} SET state = %s, message_id = %s, attempts = %s, "
            "updated_at = %s WHERE id = %s",
            [send.state, send.message_id, send.attempts, send.updated_at, send.pk],
        )
    return _Claim(send=send, client=client, message=outcome)


def _recheck_written(send: OutboundSend) -> Message | str:
    """Lock a written message and its caller and check, again, that it may go: the message, or the reason it
    may not (the message is then marked failed with that reason)."""
    assert send.message_id is not None  # a written message: the callers checked
    message = Message.objects.select_for_update(no_key=True).get(pk=send.message_id)
    # The number's opt-out is read in the same statement: it holds even when the contact row was merged away
    # or deleted since the message was written (then there is no row to lock, only the number).
    locked = (
        Contact.objects.select_for_update(no_key=True)
        .annotate(suppressed=suppressed(message.to_number))
        .filter(phone_number=message.to_number)
        .first()
    )
    if locked is None:
        contact = Contact(
            phone_number=message.to_number,
            opted_out=Suppression.objects.filter(phone_number=message.to_number).exists(),
        )
        number_suppressed = contact.opted_out
    else:
        contact, number_suppressed = locked, locked.suppressed
    reason = None
    if message.kind == Message.Kind.KEYWORD_REPLY:
        pass  # STOP/START/HELP answers are the one thing an opted-out caller receives
    elif message.kind == Message.Kind.TEXT_BACK:
        reason = (
            SkipReason.CLIENT_PAUSED
            if send.client.status == Client.Status.PAUSED
            else _barred(contact, suppressed=number_suppressed)
        )
    elif contact.opted_out or number_suppressed:
        reason = SkipReason.OPTED_OUT  # a person may still answer a blocked or unreachable caller by hand
    if reason is None:
        return message
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.FAILED,
        error_message=reason_text(reason).capitalize() + ".",
        status_changed_at=now(),
    )
    return reason


def _barred(contact: Contact, *, suppressed: bool) -> str | None:
    """Why this caller must not get a text-back whatever else is true, or None. `suppressed`: the number has
    an opt-out on record (crm.Suppression), whatever its contact row says."""
    if contact.is_blocked:
        return SkipReason.BLOCKED
    if contact.opted_out or suppressed:
        return SkipReason.OPTED_OUT
    if contact.unreachable:
        return SkipReason.UNREACHABLE
    return None


# Outbound messages that never reached the caller do not count as having texted them.
_REACHED_CALLER = ~Q(
    direction=Message.Direction.OUTBOUND, status__in=[Message.Status.FAILED, Message.Status.UNDELIVERED]
)


@dataclass
class _History:
    """What the text-back's checks need to know about the caller besides their contact row."""

    conversation_id: int | None
    conversation_open: bool
    recently_texted: bool  # a text-back reached them since the suppression window began
    recent_activity: bool  # anything reached them, or came from them, since then
    texted_before: bool  # any text ever reached them
    returning: bool  # an earlier call, or any message
    suppressed: bool  # the number opted out (crm.Suppression), whatever became of earlier contact rows


@functools.cache
def _history_sql() -> tuple[str, int]:
    """The one statement behind _caller_with_history (built once: it is on every text-back's path, and the
    ORM took several milliseconds of CPU to compile its four EXISTS), and how many contact columns lead it."""
    contact = Contact._meta
    columns = [field.column for field in contact.concrete_fields]
    # telephony builds on messaging. A reverse relation's model is a class, never "self" as the types allow.
    calls = Contact._meta.get_field("calls").related_model._meta.db_table  # type: ignore[union-attr]
    messages, conversations = Message._meta.db_table, Conversation._meta.db_table
    reached = (
        f"FROM {messages} m WHERE m.conversation_id = v.id AND NOT (m.direction = '{Message.Direction.OUTBOUND}'"
        f" AND m.status IN ('{Message.Status.FAILED}', '{Message.Status.UNDELIVERED}'))"
    )
    outbound = f"m.direction = '{Message.Direction.OUTBOUND}'"
    sql = (
        f"SELECT {', '.join(f'c.{column}' for column in columns)}, v.id, v.status = '{Conversation.Status.OPEN}', "
        f"EXISTS (SELECT 1 {reached} AND {outbound} AND m.kind = '{Message.Kind.TEXT_BACK}' "
        "AND m.created_at >= %(window)s), "
        f"EXISTS (SELECT 1 {reached} AND m.created_at >= %(window)s), "
        f"EXISTS (SELECT 1 {reached} AND {outbound}), "
        f"EXISTS (SELECT 1 {reached}) OR EXISTS (SELECT 1 FROM {calls} k WHERE k.contact_id = c.id "
        "AND k.call_sid <> %(call_sid)s), "
        f"EXISTS (SELECT 1 FROM {Suppression._meta.db_table} s WHERE s.phone_number = %(number)s) "
        f"FROM {contact.db_table} c LEFT JOIN {conversations} v ON v.contact_id = c.id "
        "WHERE c.phone_number = %(number)s FOR NO KEY UPDATE OF c"
    )
    return sql, len(columns)


def _caller_with_history(number: str, send: OutboundSend, window_start: datetime) -> tuple[Contact, _History]:
    """The caller's contact, locked (see crm.services.contact_locked), and its history, in one statement."""
    sql, width = _history_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, {"number": number, "window": window_start, "call_sid": send.call_sid or ""})
        row = cursor.fetchone()
    if row is None:  # a caller the call webhooks did not record (a text-back queued by hand, say)
        contact = contact_locked(number=number)  # a new row starts opted out when the number is suppressed
        return contact, _History(None, False, False, False, False, False, contact.opted_out)
    return model_from_row(Contact, row[:width]), _History(*row[width:])


def _prepare_text_back(send: OutboundSend, client: Client) -> Message | str:
    """Every check a text-back must pass at send time, in the client's schema, with the contact locked (so a
    STOP being recorded right now either lands before this check or waits for it). Returns the Message to
    send (already marked sending), or the reason not to."""
    if client.status == Client.Status.PAUSED:
        return SkipReason.CLIENT_PAUSED
    # On an audit nobody is texted either way; every caller is counted as one it would have texted (below).
    if not client.textback_allowed_to(send.to_number) and not client.in_call_audit:
        return SkipReason.NOT_LIVE
    # Other apps may stop a text-back (billing: the month's allowance is used up); the first reason given wins.
    veto = ask(events.TextbackCheck(client=client, send=send))
    if veto:
        return veto
    if is_anonymous(send.to_number):
        return SkipReason.ANONYMOUS
    number = e164_or_none(send.to_number)
    if number is None:
        return SkipReason.INVALID_NUMBER
    contact, history = _caller_with_history(number, send, now() - timedelta(hours=client.suppress_hours))
    barred = _barred(contact, suppressed=history.suppressed)
    if barred:
        return barred
    if history.recently_texted:
        return SkipReason.RECENTLY_TEXTED
    if history.conversation_open and history.recent_activity:
        return SkipReason.ACTIVE_CONVERSATION
    if _line_type(client, contact) == Contact.LineType.LANDLINE:
        return SkipReason.LANDLINE

    template = _pick_template(client=client, returning=history.returning, send=send)
    if template is None:
        return SkipReason.NO_TEMPLATE
    if client.in_call_audit:
        # Last, after every other check: what is skipped for this reason is exactly what would have gone out.
        return SkipReason.CALL_AUDIT
    context = placeholder_context(client=client, caller_name=contact.name.split()[0] if contact.name else "")
    variant, wording = template_wording(template=template, send_key=send.key)
    wanted = placeholders_in(wording)
    link = None
    if "booking_url" in wanted:
        link = booking_link_new(
            client=client, to_number=contact.phone_number, message_kind=Message.Kind.TEXT_BACK
        )
        context["booking_url"] = link_url(link.code) if link else ""
    conversation_id = history.conversation_id or _conversation_start(contact).pk
    if "intake_url" in wanted:
        intake = intake_link_for(
            client=client, conversation_id=conversation_id, to_number=contact.phone_number
        )
        context["intake_url"] = intake_url(intake.code)
    body = render(wording, context=context)
    if not history.texted_before and "STOP" not in body.upper():
        body = f"{body} {OPT_OUT_NOTICE}"
    info = segment_info(body)
    message = Message(
        conversation_id=conversation_id,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.TEXT_BACK,
        body=body,
        status=Message.Status.SENDING,
        status_changed_at=now(),
        from_number=client.texts_from,
        to_number=contact.phone_number,
        encoding=info.encoding,
        segments=info.segments,
        call_sid=send.call_sid,
        template_kind=template.kind,
        template_variant=variant,
    )
    # The INSERT compiled once (config.db), not the ORM's compiled on every text-back. Nothing can conflict: a
    # new message's only unique value, its provider_sid, is NULL until the provider answers.
    inserted = insert_unless_exists(message)
    assert inserted
    booking_link_attach(link=link, message=message)
    return message


def line_type_known(contact: Contact) -> bool:
    """A landline stays a landline (numbers are rarely ported from fixed to mobile); any other answer is asked
    again after LINE_TYPE_TTL."""
    fresh = contact.line_type_checked_at and contact.line_type_checked_at > now() - LINE_TYPE_TTL
    return bool(fresh) or contact.line_type == Contact.LineType.LANDLINE


def _line_type(client: Client, contact: Contact) -> str:
    """The contact's line type, looked up when not known ("" when nobody can tell). A lookup that fails is not
    remembered, so the next text-back asks again."""
    if line_type_known(contact):
        return contact.line_type
    kind = provider_for(client).line_type(contact.phone_number)
    if kind is not None:
        _line_type_record(client, contact, kind)
    return contact.line_type


def _line_type_record(client: Client, contact: Contact, kind: str) -> None:
    # The contact first, then the subscribers (billing's metering rows): the order a text-back takes its locks
    # in (it holds the caller's row from its claim), so that a check made while the call rang and a text-back
    # for the same caller cannot deadlock. Written out: nothing listens to a contact's save, and compiling the
    # ORM's UPDATE cost more CPU than the statement.
    contact.line_type = kind
    contact.line_type_checked_at = contact.updated_at = now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Contact._meta.db_table} SET line_type = %s, line_type_checked_at = %s, updated_at = %s "
            "WHERE id = %s",
            [kind, contact.line_type_checked_at, contact.updated_at, contact.pk],
        )
    publish(events.LineTypeLookedUp(client=client, number=contact.phone_number, line_type=kind))


# What the line-type check reads of a caller (the rest of the row stays deferred: it is never used).
_LINE_TYPE_FIELDS = ("id", "phone_number", "line_type", "line_type_checked_at")


def line_type_prefetch(*, client_id: int, number: str) -> str:
    """Look a caller's line type up while their call rings (the line_type_check task, queued when a call comes
    in to a client in forward mode), so that when the call is missed the text-back does not wait for Twilio's
    lookup: 100-300 ms of a new caller's path otherwise. Idempotent: a line type already known is not asked
    again. Returns what it did."""
    try:
        client = client_for_task(client_id)  # with its agency: the task found both (config.celery_app)
    except Client.DoesNotExist:
        return "no such client"
    with in_schema_of(client):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(_LINE_TYPE_FIELDS)} FROM {Contact._meta.db_table} WHERE phone_number = %s",
                [number],
            )
            row = cursor.fetchone()
        if row is None:
            return "no such caller"
        contact = Contact.from_db(connection.alias, _LINE_TYPE_FIELDS, row)
        if line_type_known(contact):
            return "known"
        # Outside any transaction: nothing is held while the carrier answers.
        kind = provider_for(client).line_type(number)
        if kind is None:
            return "unknown"
        with transaction.atomic():
            _line_type_record(client, contact, kind)
        return kind


def template_wording(*, template: Template, send_key: str) -> tuple[str, str]:
    """(variant, wording): ("", body) without a second wording; with one, "a" or "b" by a hash of the send's key
    (its call), so the two are tried on callers alike, half each, and a retried send keeps its wording. Not by
    the send's id: other rows of the ledger (a follow-up after each text-back) would keep every text-back's id
    on one parity."""
    if not template.body_b.strip():
        return "", template.body
    return ("b", template.body_b) if zlib.crc32(send_key.encode()) % 2 else ("a", template.body)


@functools.cache
def _active_templates_sql() -> str:
    """The client's active templates (written out once: compiling the ORM's query cost more than running it)."""
    return f"SELECT {', '.join(columns_of(Template))} FROM {Template._meta.db_table} WHERE is_active"


def _pick_template(*, client: Client, returning: bool, send: OutboundSend) -> Template | None:
    with connection.cursor() as cursor:
        cursor.execute(_active_templates_sql())
        rows = cursor.fetchall()
    templates = {t.kind: t for t in (model_from_row(Template, row) for row in rows)}
    if returning and Template.Kind.RETURNING_CALLER in templates:
        return templates[Template.Kind.RETURNING_CALLER]
    kind = Template.Kind.BUSINESS_HOURS if client.is_open_at(send.event_at) else Template.Kind.AFTER_HOURS
    return templates.get(kind) or templates.get(Template.Kind.BUSINESS_HOURS)


def placeholder_context(*, client: Client, caller_name: str) -> dict[str, str]:
    """What a template's placeholders become for this client and caller (the settings page previews with it)."""
    phone = client.forward_to or client.phone_number
    return {
        "business_name": client.name,
        "caller_name": caller_name,
        "business_phone": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.NATIONAL)
        if phone
        else "",
        # The settings page's preview: a real text-back gets a link of its own (messaging.links).
        "booking_url": link_url(SAMPLE_CODE) if client.booking_url else "",
        "intake_url": intake_url(SAMPLE_INTAKE_CODE),
        "agency_name": client.agency.display_name,
        "sender_name": client.sender_name or client.name,
    }


def _reconcile(claim: _Claim) -> str | None:
    """The last attempt's outcome is unknown. If the provider has the message, record it; None means it
    does not, and the message is to be sent."""
    message = claim.message
    try:
        found = provider_for(claim.client).find_sent(
            from_number=message.from_number,
            to_number=message.to_number,
            body=message.body,
            since=message.created_at,
        )
    except ProviderError as exc:
        log.warning("could not reconcile send %s: %s; will try again", claim.send.pk, exc)
        _retry_later(claim, exc, keep_sending=True)
        return "retrying"
    if found is None:
        return None
    _record_sent(claim, sid=found.sid, status=found.status, segments=None)
    return "sent (reconciled)"


def _hand_to_provider(claim: _Claim) -> str:
    message = claim.message
    # A staff reply's photo (messaging.media): only then is the keyword passed, so providers without MMS still fit.
    photos = {"media_urls": urls} if (urls := media_public_urls(client=claim.client, message=message)) else {}
    try:
        result = provider_for(claim.client).send(
            from_number=message.from_number,
            to_number=message.to_number,
            body=message.body,
            status_callback=status_callback_for(claim.client),
            key=f"textback-send-{claim.send.pk}",  # the same for every attempt at this ledger row
            **photos,
        )
    except ProviderError as exc:
        return _record_failure(claim, exc)
    _record_sent(claim, sid=result.sid, status=result.status, segments=result.segments)
    return "sent"


@functools.cache
def _sent_sql() -> str:
    """The message sent and its ledger row finished, in one statement (two tables: the message in the client's
    schema, the ledger in public, both on the search_path)."""
    return (
        f"WITH m AS (UPDATE {Message._meta.db_table} SET provider_sid = %(sid)s, status = %(status)s, "
        "sent_at = %(at)s, status_changed_at = %(at)s, segments = COALESCE(%(segments)s, segments) "
        f"WHERE id = %(message)s) UPDATE {OutboundSend._meta.db_table} SET state = %(state)s, reason = '', "
        "detail = '', updated_at = %(at)s WHERE id = %(send)s"
    )


def _record_sent(claim: _Claim, *, sid: str, status: str, segments: int | None) -> None:
    message, send = claim.message, claim.send
    message.provider_sid = sid
    message.status = Message.Status.SENT
    message.sent_at = message.status_changed_at = send.updated_at = now()
    if segments:
        message.segments = segments
    send.state, send.reason, send.detail = OutboundSend.State.SENT, "", ""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _sent_sql(),
                {
                    "sid": sid,
                    "status": message.status,
                    "at": message.sent_at,
                    "segments": segments or None,
                    "message": message.pk,
                    "state": send.state,
                    "send": send.pk,
                },
            )
        sent: list[Event] = [events.MessageSent(client=claim.client, message=message)]
        if claim.send.kind == OutboundSend.Kind.TEXT_BACK:
            sent.append(events.TextbackSent(client=claim.client, send=claim.send, message=message))
        publish(*sent)  # one savepoint for both events' counters
    # A status callback that raced ahead of this write was parked in the cache; apply it now.
    early = cache.get(_early_status_key(sid))
    if early:
        message_status_update(
            client=claim.client,
            sid=sid,
            status=early["status"],
            error_code=early.get("error_code"),
            params=early.get("params"),
        )


def _record_failure(claim: _Claim, exc: ProviderError) -> str:
    message = claim.message
    if exc.permanent or claim.send.attempts >= MAX_ATTEMPTS:
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(
                status=Message.Status.FAILED,
                error_code=exc.code,
                error_message=str(exc)[:255],
                status_changed_at=now(),
            )
            reason = (
                _mark_contact_after_error(claim.client, message.to_number, exc.code)
                or SkipReason.PROVIDER_ERROR
            )
            _finish(claim.send, OutboundSend.State.FAILED, reason=reason, detail=str(exc))
            _announce_not_sent(claim.client, claim.send, message, reason)
        log.warning("send %s failed for good: %s", claim.send.pk, exc)
        return f"failed: {reason}"
    _retry_later(claim, exc, keep_sending=exc.ambiguous)
    return "retrying"


def _retry_later(claim: _Claim, exc: ProviderError, *, keep_sending: bool) -> None:
    """Transient failure: back off and try again. An ambiguous one stays "sending", so the next attempt
    reconciles before it resends; a clean one (the provider answered with an error) goes back to pending."""
    send = claim.send
    delay = timedelta(seconds=min(RETRY_DELAY_MAX, 2**send.attempts))
    state = OutboundSend.State.SENDING if keep_sending else OutboundSend.State.PENDING
    with transaction.atomic():
        if not keep_sending:
            Message.objects.filter(pk=claim.message.pk).update(
                status=Message.Status.QUEUED, status_changed_at=now()
            )
        # A "sending" row is dated as already stale, so the retry (or the sweep) reconciles it at once
        # instead of taking it for an attempt still in flight.
        OutboundSend.objects.filter(pk=send.pk).update(
            state=state,
            due_at=now() + delay,
            detail=str(exc)[:255],
            updated_at=now() - (SENDING_STALE_AFTER if keep_sending else timedelta(0)),
        )
    send.refresh_from_db()
    log.info("send %s: %s; retrying in %ss", send.pk, exc, delay.total_seconds())
    outbound_dispatch(send=send)


def _announce_not_sent(client: Client, send: OutboundSend, message: Message | None, why: str) -> None:
    """Tell the listeners that a ledger row ended without reaching the caller: a written message failed, and a
    text-back (written or not) was skipped."""
    reason = Reason(why)
    if message is not None:
        publish(events.MessageFailed(client=client, message=message, reason=reason))
    if send.kind == OutboundSend.Kind.TEXT_BACK:
        publish(events.TextbackSkipped(client=client, send=send, reason=reason))


def _finish(send: OutboundSend, state: str, *, reason: str = "", detail: str = "") -> None:
    send.state = state
    send.reason = reason
    send.detail = detail[:255]
    send.save(update_fields=["state", "reason", "detail", "updated_at"])


def _mark_contact_after_error(client: Client, number: str, code: int | None) -> str | None:
    """What a permanent provider error says about the caller, recorded on the contact. Returns the reason."""
    provider = provider_for(client)
    if provider.opted_out(code):
        contact = contact_upsert(phone_number=number)
        if contact is not None:
            contact_opt_out(
                client=client, contact=contact, source=ConsentEvent.Source.PROVIDER, keyword=str(code)
            )
        return SkipReason.OPTED_OUT
    if provider.unreachable(code):
        fields: dict[str, object] = {"unreachable": True}
        if provider.landline(code):
            fields.update(line_type=Contact.LineType.LANDLINE, line_type_checked_at=now())
        Contact.objects.filter(phone_number=number).update(**fields)
        return SkipReason.LANDLINE if provider.landline(code) else SkipReason.UNREACHABLE
    return None


def sweep_due_sends(*, limit: int = 500) -> int:
    """The beat task's body: dispatch what the broker lost. Pending rows that are due and were never (or long
    ago) handed to the broker, and "sending" rows whose worker died, are queued again. Returns how many."""
    cutoff = now()
    stale_dispatch = cutoff - DISPATCH_STALE_AFTER
    pending = OutboundSend.objects.filter(state=OutboundSend.State.PENDING, due_at__lte=cutoff).filter(
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale_dispatch, due_at__lte=stale_dispatch)
    )
    stuck = OutboundSend.objects.filter(
        state=OutboundSend.State.SENDING, updated_at__lt=cutoff - SENDING_STALE_AFTER, due_at__lte=cutoff
    )
    rows = list(pending.order_by("due_at")[:limit]) + list(stuck.order_by("due_at")[:limit])
    for send in rows:
        outbound_dispatch(send=send)
    if rows:
        log.info("sweep re-dispatched %d sends", len(rows))
    return len(rows)


# --- Texts to the business's own people --------------------------------------------------------------------


def staff_number_problem(*, number: str) -> str | None:
    """Why this number must never get a staff text (an alert, a confirmation code), or None. Run in the client's
    schema. A caller's number, or one that opted out, is not a staff member's mobile, whatever a settings page
    says: alerts carry other callers' words, and an opted-out number gets nothing from us."""
    if Suppression.objects.filter(phone_number=number).exists():
        return "that number opted out of this business's texts"
    if Contact.objects.filter(phone_number=number).exists():
        return "that number is one of this business's callers"
    return None


def staff_text_send(*, client: Client, to_number: str, body: str, source: str) -> bool:
    """Text one of the business's own people from its number. Straight to the provider, not through the send
    ledger (that is the callers' consent and "never twice" machinery; alerts are claimed once by their sender),
    but metered like any text (billing hears staff_text_sent). Returns False, sending nothing, for a number
    staff_number_problem refuses; ProviderError when the provider fails."""
    problem = staff_number_problem(number=to_number)
    if problem:
        log.warning("staff text %s to %s not sent: %s", source, to_number, problem)
        return False
    result = provider_for(client).send(
        from_number=str(client.phone_number), to_number=to_number, body=body, status_callback=""
    )
    with transaction.atomic():
        publish(
            events.StaffTextSent(
                client=client,
                source=source,
                segments=result.segments or segment_info(body).segments,
                at=now(),
            )
        )
    return True


# --- Receiving ---------------------------------------------------------------------------------------------


@transaction.atomic
def contact_opt_out(
    *, client: Client, contact: Contact, source: str, keyword: str = "", message_sid: str = ""
) -> bool:
    """Record an opt-out (in the client's schema): the number's suppression, which every send checks and which
    outlives the contact row, and the contact's mirror of it. Every STOP is kept in the history; listeners
    hear of it only when the caller was opted in until now. Returns whether they were (a confirmation is owed
    once, not for every STOP). An opt-out settles a conversation flagged as a maybe-opt-out."""
    changed = Contact.objects.filter(pk=contact.pk, opted_out=False).update(opted_out=True, updated_at=now())
    contact.opted_out = True
    Suppression.objects.bulk_create([Suppression(phone_number=contact.phone_number)], ignore_conflicts=True)
    Conversation.objects.filter(contact=contact, flag=Conversation.Flag.MAYBE_OPT_OUT).update(
        flag="", flag_words="", flag_message=None
    )
    ConsentEvent.objects.create(
        contact=contact,
        phone_number=contact.phone_number,
        kind=ConsentEvent.Kind.OPT_OUT,
        source=source,
        keyword=keyword,
        message_sid=message_sid,
    )
    if changed:
        publish(events.ContactOptedOut(client=client, contact=contact, source=source))
    return bool(changed)


@transaction.atomic
def contact_opt_in(
    *, client: Client, contact: Contact, source: str, keyword: str = "", message_sid: str = ""
) -> None:
    changed = Contact.objects.filter(pk=contact.pk, opted_out=True).update(opted_out=False, updated_at=now())
    contact.opted_out = False
    Suppression.objects.filter(phone_number=contact.phone_number).delete()
    ConsentEvent.objects.create(
        contact=contact,
        phone_number=contact.phone_number,
        kind=ConsentEvent.Kind.OPT_IN,
        source=source,
        keyword=keyword,
        message_sid=message_sid,
    )
    if changed:
        publish(events.ContactOptedIn(client=client, contact=contact, source=source))


def keyword_reply_text(*, client: Client, keyword: Keyword) -> str:
    phone = client.forward_to or client.phone_number
    phone_text = phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.NATIONAL) if phone else ""
    if keyword == Keyword.OPT_OUT:
        return f"{client.name}: you're unsubscribed and will get no more texts from us. Reply START to resubscribe."
    if keyword == Keyword.OPT_IN:
        return f"{client.name}: you're subscribed again. Reply STOP to opt out, HELP for help."
    return f"{client.name}: for help, call us at {phone_text}. Reply STOP to opt out."


PROVIDER_OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


@transaction.atomic
def inbound_receive(
    *, client: Client, sid: str, from_number: str, body: str, opt_out_type: str = ""
) -> Message | None:
    """An inbound text, in the client's schema: keywords first (the law), then the conversation.
    Idempotent on the provider's MessageSid. Returns the Message, or None for a repeat or an unusable sender."""
    if Message.objects.filter(provider_sid=sid).exists():
        return None
    # One of the business's people answering an alert by text is not a caller (inbox takes it); a keyword from
    # them is still the law's and goes the usual way.
    staff = events.StaffTextCheck(client=client, sid=sid, from_number=from_number, body=body)
    if not opt_out_type and classify(body) is None and ask(staff):
        return None
    contact = contact_upsert(phone_number=from_number)
    if contact is None:
        log.info("inbound text %s from an unusable number %r ignored", sid, from_number)
        return None
    contact = Contact.objects.select_for_update(no_key=True).get(pk=contact.pk)
    conversation = conversation_for(contact=contact)
    info = segment_info(body)
    reading = intent_of(body)  # what it is about (rules, no network): kept on the message for the inbox
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.INBOUND,
                kind=Message.Kind.INBOUND,
                body=body,
                status=Message.Status.RECEIVED,
                from_number=contact.phone_number,
                to_number=str(client.phone_number),
                provider_sid=sid,
                encoding=info.encoding,
                segments=info.segments,
                intent=reading.intent,
                intent_confidence=round(reading.confidence * 100),
                intent_words=reading.words,
            )
    except IntegrityError:  # the same webhook, a moment ago
        return None
    # Twilio's Advanced Opt-Out names the keyword it acted on (its own custom words included) and has already
    # answered the caller: follow it, and don't answer twice.
    keyword = PROVIDER_OPT_OUT_TYPES.get(opt_out_type.strip().upper()) or classify(body)
    answered_by_provider = bool(opt_out_type)
    if keyword == Keyword.OPT_IN and not contact.opted_out:
        keyword = None  # "Yes" from someone who never opted out is an answer to a question, not a keyword
    # Not a keyword, but the law also hears "please stop texting me": consent revoked in the caller's words.
    revoked = revocation(body) if keyword is None else None
    source, said = ConsentEvent.Source.KEYWORD, body.strip()[:40]
    if revoked is not None and revoked.certain:
        keyword, source, said = Keyword.OPT_OUT, ConsentEvent.Source.REPLY, revoked.words[:40]
    confirm = keyword is not None and not answered_by_provider
    if keyword == Keyword.OPT_OUT:
        changed = contact_opt_out(
            client=client, contact=contact, source=source, keyword=said, message_sid=sid
        )
        confirm = confirm and changed  # one confirmation: a second STOP is recorded, not answered again
    elif keyword == Keyword.OPT_IN:
        contact_opt_in(
            client=client,
            contact=contact,
            source=ConsentEvent.Source.KEYWORD,
            keyword=said,
            message_sid=sid,
        )
    if confirm:
        assert keyword is not None
        message_queue(
            client=client,
            contact=contact,
            body=keyword_reply_text(client=client, keyword=keyword),
            kind=Message.Kind.KEYWORD_REPLY,
        )
    changes: dict[str, object] = {
        "last_activity_at": message.created_at,
        "last_inbound_at": message.created_at,
        "intent": reading.intent,
    }
    filed = _reply_filed(client=client, contact=contact, message=message, reading=reading, keyword=keyword)
    if filed:
        # Spam, or a wrong number: nobody needs to answer it, so it is closed without an unread count.
        changes.update(status=Conversation.Status.CLOSED, closed_at=message.created_at, snoozed_until=None)
    elif keyword is None:
        changes.update(unread_count=F("unread_count") + 1, status=Conversation.Status.OPEN)
    if revoked is not None and not revoked.certain and not contact.opted_out:
        # Unsure: a person reads it and decides (inbox), instead of a guess either way.
        changes.update(
            flag=Conversation.Flag.MAYBE_OPT_OUT, flag_words=revoked.words[:100], flag_message=message
        )
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    publish(
        events.MessageReceived(
            client=client,
            message=message,
            keyword=str(keyword) if keyword else None,
            intent=str(reading.intent),
            filed=filed,
        )
    )
    return message


WRONG_NUMBER_TAG = "wrong number"


# How sure a reading must be before a rule acts on it: below this a person reads the reply like any other.
FILING_CONFIDENCE = 0.8


def _reply_filed(
    *, client: Client, contact: Contact, message: Message, reading: Reading, keyword: Keyword | None
) -> bool:
    """The client's rule for a reply of this intent files it away (spam hidden; a wrong number closed and its
    contact tagged): True if so. Filing closes a reply nobody is alerted to, so it acts only on a sure reading,
    and never in a conversation already under way (the caller wrote before, or a person replied): there a
    "who is this?" or a link is far likelier a real caller than spam. A keyword (STOP) is never filed: the law's
    path has it; but "Wrong number, stop" still tags the contact as a wrong number."""
    if keyword is not None:
        if keyword == Keyword.OPT_OUT and client.wrong_number_closes and says_wrong_number(message.body):
            _tag_wrong_number(contact)
        return False
    if reading.intent not in (Intent.SPAM, Intent.WRONG_NUMBER) or reading.confidence < FILING_CONFIDENCE:
        return False
    under_way = (
        Message.objects.filter(conversation_id=message.conversation_id)
        .filter(
            Q(direction=Message.Direction.INBOUND, created_at__lt=message.created_at)
            | Q(kind=Message.Kind.REPLY)
        )
        .exclude(pk=message.pk)
        .exists()
    )
    if under_way:
        return False
    if reading.intent == Intent.SPAM and client.spam_hidden:
        return True
    if reading.intent == Intent.WRONG_NUMBER and client.wrong_number_closes:
        _tag_wrong_number(contact)
        return True
    return False


def _tag_wrong_number(contact: Contact) -> None:
    if WRONG_NUMBER_TAG not in contact.tags:
        contact.tags = [*contact.tags, WRONG_NUMBER_TAG]
        Contact.objects.filter(pk=contact.pk).update(tags=contact.tags, updated_at=now())


def _early_status_key(sid: str) -> str:
    return f"early-status:{sid}"


def _status_forward(sid: str, status: str) -> Message | None:
    """The message with this sid moved to `status` if that is forward of where it is (STATUS_RANK): one
    UPDATE … RETURNING, None when there is no such message or it is there or past already."""
    at_or_past = [stored for stored, rank in STATUS_RANK.items() if rank >= STATUS_RANK[status]]
    return fetch_model(
        Message,
        f'UPDATE "{Message._meta.db_table}" SET "status" = %s, "status_changed_at" = %s '
        f'WHERE "provider_sid" = %s AND NOT ("status" = ANY(%s)) RETURNING {", ".join(columns_of(Message))}',
        [status, now(), sid, at_or_past],
    )


def message_status_update(
    *, client: Client, sid: str, status: str, error_code: int | None = None, params: dict | None = None
) -> Message | None:
    """A status callback: move the message forward (never back); permanent errors mark the contact.
    For a sid not recorded yet (the callback raced the send's own write) the status is parked briefly."""
    mapped = {
        "accepted": Message.Status.SENDING,
        "queued": Message.Status.SENDING,
        "sending": Message.Status.SENDING,
        "sent": Message.Status.SENT,
        "delivered": Message.Status.DELIVERED,
        "undelivered": Message.Status.UNDELIVERED,
        "failed": Message.Status.FAILED,
    }.get(status)
    if mapped is None:
        return None
    # savepoint=False: in a webhook this is already inside the webhook's transaction, which a failure rolls back
    # whole; a savepoint would only add two statements to every delivery report.
    with transaction.atomic(savepoint=False):
        if not error_code:  # the common report (sent, delivered): moved forward in one statement
            message = _status_forward(sid, mapped)
            if message is not None:
                publish(
                    events.MessageStatusChanged(
                        client=client, message=message, status=mapped, params=params or {}
                    )
                )
                return message
        # Unknown yet, not forward, or an error to record with its meaning and consequences.
        message = Message.objects.select_for_update(no_key=True).filter(provider_sid=sid).first()
        if message is None:
            cache.set(
                _early_status_key(sid), {"status": status, "error_code": error_code, "params": params}, 600
            )
            return None
        if STATUS_RANK.get(mapped, 0) <= STATUS_RANK.get(message.status, 0):
            return message
        message.status = mapped
        message.status_changed_at = now()
        fields = ["status", "status_changed_at"]
        if error_code:
            message.error_code = error_code
            fields.append("error_code")
            if not message.error_message and error_meaning(error_code):
                # The callback carries the code only; staff read what it means (30034: not registered …).
                message.error_message = error_meaning(error_code)
                fields.append("error_message")
        message.save(update_fields=fields)
        if error_code:
            _mark_contact_after_error(client, message.to_number, error_code)
        publish(
            events.MessageStatusChanged(client=client, message=message, status=mapped, params=params or {})
        )
    return message
