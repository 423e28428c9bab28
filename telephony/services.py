"""Deciding what a call was. Runs in the client's schema (the webhooks set it)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.timezone import now

from accounts.models import Client
from config.db import columns_of, fetch_model, insert_unless_exists
from crm.services import contact_upsert
from events.bus import publish
from messaging.services import textback_schedule

from .events import CallAbandoned, CallAnswered, CallCompleted, CallMissed, CallReceived
from .models import Call

# DialCallStatus values that mean nobody took the call.
UNANSWERED_DIAL_STATUSES = {
    "no-answer": "no-answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "no-answer",
}
# What the hot UPDATEs below return, in the order config.db.model_from_row reads.
_CALL_COLUMNS = ", ".join(columns_of(Call))
FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}


def call_record(
    *,
    client: Client,
    call_sid: str,
    from_number: str,
    to_number: str,
    caller_name: str = "",
    started_at: datetime | None = None,
    expect_new: bool = False,
) -> Call:
    """The Call for this CallSid, recorded on first sight (a repeated webhook finds the same row).
    `expect_new`: the incoming-call webhook, almost always the first word of its call, inserts without looking
    first (a repeat of it conflicts and reads the row then): one statement less on every call."""
    if not expect_new:
        call = Call.objects.filter(call_sid=call_sid).first()
        if call is not None:
            return call
    started = started_at or now()
    call = Call(
        call_sid=call_sid,
        from_number=from_number[:32],
        to_number=to_number[:20],
        caller_name=caller_name[:120],
        contact=contact_upsert(phone_number=from_number, name=caller_name),
        started_at=started,
        in_business_hours=client.is_open_at(started),
    )
    if not insert_unless_exists(call):
        return Call.objects.get(call_sid=call_sid)  # the same webhook, a moment ago
    publish(CallReceived(client=client, call=call))
    return call


def _decide(call: Call, outcome: str, **changes) -> datetime | None:
    """Move a ringing call to its outcome, once: one UPDATE … WHERE outcome = 'ringing'. A webhook deciding the
    same call at the same moment waits for this row's lock and then finds it decided, so repeated or late
    webhooks change nothing. Returns when this call decided it (the instance is then up to date), or None."""
    ended = now()
    if not Call.objects.filter(pk=call.pk, outcome=Call.Outcome.RINGING).update(
        outcome=outcome, ended_at=ended, **changes
    ):
        if (
            "dial_status" in changes
        ):  # decided already (by the status callback, say): still note how the dial ended
            Call.objects.filter(pk=call.pk, dial_status="").update(dial_status=changes["dial_status"])
        call.refresh_from_db()
        return None
    for name, value in changes.items():
        setattr(call, name, value)
    call.outcome, call.ended_at = outcome, ended
    return ended


@transaction.atomic(savepoint=False)
def call_mark_missed(
    *,
    client: Client,
    call: Call,
    reason: str,
    duration: int | None = None,
    dial_status: str = "",
    missed_at: datetime | None = None,
) -> Call:
    """Missed: in one transaction, record it and owe the caller one text-back (queued on commit).
    A call already decided stays as it was. `missed_at`: when it was missed, if not now (a call reported
    later): the text-back's template follows the business hours of that moment."""
    changes: dict[str, str | int | None] = {"missed_reason": reason}
    if duration is not None:
        changes["duration_seconds"] = duration
    if dial_status and not call.dial_status:
        changes["dial_status"] = dial_status[:20]
    if (ended := _decide(call, Call.Outcome.MISSED, **changes)) is not None:
        _owe_textback(client, call, missed_at or ended)
    return call


def _owe_textback(client: Client, call: Call, missed_at: datetime) -> None:
    textback_schedule(client=client, call_sid=call.call_sid, caller=call.from_number, missed_at=missed_at)
    publish(CallMissed(client=client, call=call))


@transaction.atomic(savepoint=False)
def _missed_by_sid(*, client: Client, call_sid: str, reason: str, dial_status: str) -> Call | None:
    """call_mark_missed for a ringing call known by its CallSid, in the one UPDATE … RETURNING that finds and
    decides it: the dial-complete of a missed call, the commonest webhook there is, needs no look-up first.
    None when no ringing call has this CallSid (decided already, or never seen): the caller takes the long way."""
    ended = now()
    call = fetch_model(
        Call,
        f'UPDATE "{Call._meta.db_table}" SET "outcome" = %s, "ended_at" = %s, "missed_reason" = %s, '
        '"dial_status" = CASE WHEN "dial_status" = \'\' THEN %s ELSE "dial_status" END '
        f'WHERE "call_sid" = %s AND "outcome" = %s RETURNING {_CALL_COLUMNS}',
        [Call.Outcome.MISSED, ended, reason, dial_status[:20], call_sid, Call.Outcome.RINGING],
    )
    if call is not None:
        _owe_textback(client, call, ended)
    return call


@transaction.atomic(savepoint=False)
def call_mark_answered(
    *, client: Client, call: Call, duration: int | None = None, dial_status: str = ""
) -> Call:
    changes: dict[str, str | int | None] = {"duration_seconds": duration}
    if dial_status and not call.dial_status:
        changes["dial_status"] = dial_status[:20]
    if _decide(call, Call.Outcome.ANSWERED, **changes) is not None:
        publish(CallAnswered(client=client, call=call))
    return call


def call_accept(*, parent_call_sid: str) -> bool:
    """A person on the business's side pressed 1: the call is theirs. False for a call we do not know."""
    if Call.objects.filter(call_sid=parent_call_sid, accepted_at__isnull=True).update(accepted_at=now()):
        return True
    return Call.objects.filter(call_sid=parent_call_sid).exists()  # accepted already (a repeated webhook)


def call_dial_complete(
    *, client: Client, call_sid: str, dial_status: str, dial_duration: int | None, record: Callable[[], Call]
) -> Call:
    """The <Dial> to the business ended. Answered only when a person accepted it by pressing 1: a completed
    dial without that was a voicemail or a decline picking up. `record()` finds (or records) the call when
    deciding it needs more than one statement."""
    if dial_status in UNANSWERED_DIAL_STATUSES:
        reason = UNANSWERED_DIAL_STATUSES[dial_status]
        decided = _missed_by_sid(client=client, call_sid=call_sid, reason=reason, dial_status=dial_status)
        if decided is not None:
            return decided
        return call_mark_missed(client=client, call=record(), reason=reason, dial_status=dial_status)
    call = record()
    if call.accepted_at is None:
        call.refresh_from_db(
            fields=["accepted_at"]
        )  # the screen-result webhook may have come since it was read
    if dial_status == "completed" and call.accepted_at is not None:
        return call_mark_answered(client=client, call=call, duration=dial_duration, dial_status=dial_status)
    return call_mark_missed(
        client=client, call=call, reason=Call.MissedReason.VOICEMAIL, dial_status=dial_status
    )


def _completed(call_sid: str, duration: int | None, stamp: datetime) -> Call | None:
    """One statement: the duration unless known, the completion the first time, and the row as it is now (a
    final status may be repeated; only the first one completes the call). None for a call not recorded."""
    return fetch_model(
        Call,
        f'UPDATE "{Call._meta.db_table}" SET "duration_seconds" = COALESCE("duration_seconds", %s), '
        f'"completed_at" = COALESCE("completed_at", %s) WHERE "call_sid" = %s RETURNING {_CALL_COLUMNS}',
        [duration, stamp, call_sid],
    )


def call_status(
    *, client: Client, call_sid: str, call_status: str, duration: int | None, record: Callable[[], Call]
) -> Call | None:
    """The call's own status callback: the backstop for a caller who hung up while it rang, when no
    dial-complete came. Shorter than the client's minimum ring time is an early hang-up, not a missed call.
    The call is found by the statement that completes it; `record()` records one we never saw (its first
    webhook lost), which is then completed like any other."""
    if call_status not in FINAL_CALL_STATUSES:
        return None
    stamp = now()
    call = _completed(call_sid, duration, stamp)
    if call is None:
        record()
        call = _completed(call_sid, duration, stamp)
        assert call is not None  # recorded just now, in this transaction or a committed one
    first_final = call.completed_at == stamp
    if call.outcome == Call.Outcome.RINGING:
        if duration is not None and duration < client.min_ring_seconds:
            if Call.objects.filter(pk=call.pk, outcome=Call.Outcome.RINGING).update(
                outcome=Call.Outcome.ABANDONED, ended_at=now()
            ):
                call.refresh_from_db()
                publish(CallAbandoned(client=client, call=call))
        else:
            call = call_mark_missed(
                client=client, call=call, reason=Call.MissedReason.HANGUP, duration=duration
            )
    if first_final:
        publish(CallCompleted(client=client, call=call, duration=duration))
    return call


# A call another phone system reports (POST /api/v1/calls/missed/): its call id, prefixed so it can never meet a
# provider's CallSid in the same unique column.
REPORTED_CALL_PREFIX = "ext:"
REPORTED_CALL_ID_MAX = 64 - len(REPORTED_CALL_PREFIX)
# Older than this, a text-back would puzzle the caller more than help: such a report is refused.
REPORTED_CALL_MAX_AGE = timedelta(hours=24)


class ReportedCallConflict(Exception):
    """The call id was reported before for another caller."""


@transaction.atomic
def call_report_missed(
    *, client: Client, call_id: str, from_number: str, called_at: datetime, caller_name: str = ""
) -> tuple[Call, bool]:
    """A call the business's own phone system (a VoIP PBX, call tracking, a forwarding app) missed: recorded and
    texted back through the same path as a provider's missed call (hours, suppression, consent, line type are
    all checked when the text is sent). Idempotent on the system's call id: returns the call and whether this
    report was the first. The same id for another caller raises ReportedCallConflict."""
    call_sid = f"{REPORTED_CALL_PREFIX}{call_id}"
    existing = Call.objects.filter(call_sid=call_sid).first()
    if existing is None:
        call = call_record(
            client=client,
            call_sid=call_sid,
            from_number=from_number,
            to_number=str(client.phone_number or ""),
            caller_name=caller_name,
            started_at=called_at,
        )
        first = call.started_at == called_at and call.outcome == Call.Outcome.RINGING
    else:
        call, first = existing, False
    if call.from_number != from_number[:32]:
        raise ReportedCallConflict(f"Call id {call_id!r} was reported for another caller.")
    if first:
        call_mark_missed(client=client, call=call, reason=Call.MissedReason.REPORTED, missed_at=called_at)
    return call, first
