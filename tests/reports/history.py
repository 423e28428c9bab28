"""A known history for the report's tests: calls, text-backs, replies, staff answers and outcomes, written as
rows with exact times, across hours and days, in two time zones and over the night US clocks went back
(Sunday 1 November 2026, 02:00 CDT → 01:00 CST: the hour 01:00–02:00 happens twice in Chicago).

Acme Plumbing (America/Chicago; open Mon–Fri 08–12, 13–17, Sat 09–12), local times:

  Fri 30 Oct 23:59 CDT  call 0  answered                      (04:59 UTC on the 31st: outside a 31 Oct–2 Nov report)
  Sat 31 Oct 09:30 CDT  call 1  missed, in hours → text-back 09:31 → reply 09:40 → staff 09:50 (10 min);
                                booked 10:00 (won on the 2nd, so no longer pending)
  Sat 31 Oct 14:00 CDT  call 3  answered
  Sat 31 Oct 23:30 CDT  call 2  missed, after hours → text-back 23:31 → "STOP" 23:35 (an opt-out, not a reply);
                                "STOP" again Sun 08:00 (not a second opt-out); a staff reply Mon 09:00 stopped
                                by the send-time check (failed without an error code: not a delivery failure)
  Sun  1 Nov 01:30 CDT  call 4  missed, after hours → skipped: landline
  Sun  1 Nov 01:30 CST  call 5  missed, after hours (the second 01:30) → text-back 01:31 → reply 01:45 →
                                staff 02:15 (30 min); booked 03:00, still pending
  Sun  1 Nov 23:59 CST  call 6  missed, after hours, anonymous → skipped: anonymous_caller
  Mon  2 Nov 10:00 CST  call 7  missed, in hours → text-back 10:01, undelivered (a delivery failure)
  Mon  2 Nov 10:00 CST          won $450.00 for call 1's caller
  Mon  2 Nov 16:59 CST  call 8  missed, in hours → text-back 17:00 → reply 17:05, again 17:10 → staff 17:15
                                (10 min), again 17:20; won $1,200.50 at 17:30
  Mon  2 Nov 23:30 CST  call 9  missed, after hours → skipped: blocked   (05:30 UTC on the 3rd: inside)
  Tue  3 Nov 00:00 CST  call 10 answered                                  (outside)

Bolt Electric (America/New_York, 24/7): Sun 1 Nov 00:30 EDT call missed → text-back 00:31 → reply 00:40;
won $99.99 at 12:00 EST. Cedar Roofing (another agency) has one missed call and a won $5,000 the same day.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from django_tenants.utils import schema_context

from crm.models import Contact, Outcome
from messaging.models import ConsentEvent, Conversation, IntakeLink, Message, OutboundSend, TrackedLink
from telephony.models import Call

CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
_ids = count(1)


def local(zone: ZoneInfo, y: int, mo: int, d: int, h: int, mi: int = 0, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone, fold=fold)


@dataclass
class Writer:
    """Rows in one client's schema, with the times given."""

    client: object
    calls: list = field(default_factory=list)

    def caller(self, number: str | None = None) -> tuple[Contact, Conversation]:
        number = number or f"+1312555{next(_ids):04d}"
        contact = Contact.objects.create(phone_number=number)
        return contact, Conversation.objects.create(contact=contact)

    def call(
        self,
        at: datetime,
        outcome: str,
        *,
        in_hours: bool | None = None,
        contact=None,
        anonymous: bool = False,
    ) -> Call:
        sid = f"CA{next(_ids):032d}"
        call = Call.objects.create(
            call_sid=sid,
            from_number="anonymous" if anonymous else contact.phone_number if contact else "+1",
            to_number=str(self.client.phone_number),
            contact=contact,
            outcome=outcome,
            missed_reason="no-answer" if outcome == Call.Outcome.MISSED else "",
            in_business_hours=in_hours,
            started_at=at,
            ended_at=at + timedelta(seconds=25),
        )
        self.calls.append(call)
        return call

    def textback(
        self,
        conversation: Conversation,
        call: Call,
        sent_at: datetime,
        *,
        status: str = Message.Status.DELIVERED,
    ) -> Message:
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.TEXT_BACK,
            body="Sorry we missed your call!",
            status=status,
            from_number=str(self.client.phone_number),
            to_number=conversation.contact.phone_number,
            provider_sid=f"SM{next(_ids):032d}",
            call_sid=call.call_sid,
            created_at=sent_at - timedelta(seconds=2),
            sent_at=sent_at,
            error_code=30003 if status == Message.Status.UNDELIVERED else None,
        )
        OutboundSend.objects.create(
            client=self.client,
            kind=OutboundSend.Kind.TEXT_BACK,
            key=f"call:{call.call_sid}",
            to_number=message.to_number,
            call_sid=call.call_sid,
            event_at=call.ended_at,
            due_at=call.ended_at,
            state=OutboundSend.State.SENT,
            message_id=message.pk,
        )
        return message

    def skipped(self, call: Call, reason: str) -> OutboundSend:
        return OutboundSend.objects.create(
            client=self.client,
            kind=OutboundSend.Kind.TEXT_BACK,
            key=f"call:{call.call_sid}",
            to_number=call.from_number,
            call_sid=call.call_sid,
            event_at=call.ended_at,
            due_at=call.ended_at,
            state=OutboundSend.State.SKIPPED,
            reason=reason,
        )

    def inbound(self, conversation: Conversation, at: datetime, body: str = "Yes please") -> Message:
        return Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.INBOUND,
            body=body,
            status=Message.Status.RECEIVED,
            from_number=conversation.contact.phone_number,
            to_number=str(self.client.phone_number),
            provider_sid=f"SM{next(_ids):032d}",
            created_at=at,
        )

    def opt_out(self, conversation: Conversation, at: datetime) -> Message:
        message = self.inbound(conversation, at, body="STOP")
        ConsentEvent.objects.create(
            contact=conversation.contact,
            kind=ConsentEvent.Kind.OPT_OUT,
            source=ConsentEvent.Source.KEYWORD,
            keyword="STOP",
            message_sid=message.provider_sid,
            created_at=at,
        )
        return message

    def staff_reply(self, conversation: Conversation, at: datetime) -> Message:
        return Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.REPLY,
            body="We can come at 3.",
            status=Message.Status.DELIVERED,
            from_number=str(self.client.phone_number),
            to_number=conversation.contact.phone_number,
            provider_sid=f"SM{next(_ids):032d}",
            created_at=at,
            sent_at=at + timedelta(seconds=1),
        )

    def stopped_reply(self, conversation: Conversation, at: datetime) -> Message:
        return Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.REPLY,
            body="Still interested?",
            status=Message.Status.FAILED,
            error_message="The caller has opted out.",
            from_number=str(self.client.phone_number),
            to_number=conversation.contact.phone_number,
            created_at=at,
        )

    def outcome(self, contact: Contact, kind: str, at: datetime, value: str | None = None) -> Outcome:
        return Outcome.objects.create(
            contact=contact,
            kind=kind,
            value=Decimal(value) if value else None,
            created_at=at,
            lost_reason="Too dear" if kind == Outcome.Kind.LOST else "",
        )


def build_acme(acme) -> None:
    z = CHICAGO
    M, A = Call.Outcome.MISSED, Call.Outcome.ANSWERED
    with schema_context(acme.schema_name):
        w = Writer(acme)
        w.call(local(z, 2026, 10, 30, 23, 59), A, in_hours=False)
        c1, v1 = w.caller()
        call1 = w.call(local(z, 2026, 10, 31, 9, 30), M, in_hours=True, contact=c1)
        w.textback(v1, call1, local(z, 2026, 10, 31, 9, 31))
        w.inbound(v1, local(z, 2026, 10, 31, 9, 40))
        w.staff_reply(v1, local(z, 2026, 10, 31, 9, 50))
        w.outcome(c1, Outcome.Kind.BOOKED, local(z, 2026, 10, 31, 10, 0))
        w.call(local(z, 2026, 10, 31, 14, 0), A, in_hours=False)
        c2, v2 = w.caller()
        call2 = w.call(local(z, 2026, 10, 31, 23, 30), M, in_hours=False, contact=c2)
        w.textback(v2, call2, local(z, 2026, 10, 31, 23, 31))
        w.opt_out(v2, local(z, 2026, 10, 31, 23, 35))
        w.opt_out(v2, local(z, 2026, 11, 1, 8, 0))  # already opted out: in the history, not a second opt-out
        w.stopped_reply(v2, local(z, 2026, 11, 2, 9, 0))  # stopped by our own check: not a delivery failure
        c4, _ = w.caller()
        w.skipped(w.call(local(z, 2026, 11, 1, 1, 30, fold=0), M, in_hours=False, contact=c4), "landline")
        c5, v5 = w.caller()
        call5 = w.call(local(z, 2026, 11, 1, 1, 30, fold=1), M, in_hours=False, contact=c5)
        w.textback(v5, call5, local(z, 2026, 11, 1, 1, 31, fold=1))
        w.inbound(v5, local(z, 2026, 11, 1, 1, 45, fold=1))
        w.staff_reply(v5, local(z, 2026, 11, 1, 2, 15))
        w.outcome(c5, Outcome.Kind.BOOKED, local(z, 2026, 11, 1, 3, 0))
        w.skipped(
            w.call(local(z, 2026, 11, 1, 23, 59), M, in_hours=False, anonymous=True), "anonymous_caller"
        )
        c7, v7 = w.caller()
        call7 = w.call(local(z, 2026, 11, 2, 10, 0), M, in_hours=True, contact=c7)
        w.textback(v7, call7, local(z, 2026, 11, 2, 10, 1), status=Message.Status.UNDELIVERED)
        w.outcome(c1, Outcome.Kind.WON, local(z, 2026, 11, 2, 10, 0), "450.00")
        c8, v8 = w.caller()
        call8 = w.call(local(z, 2026, 11, 2, 16, 59), M, in_hours=True, contact=c8)
        w.textback(v8, call8, local(z, 2026, 11, 2, 17, 0))
        w.inbound(v8, local(z, 2026, 11, 2, 17, 5))
        w.inbound(v8, local(z, 2026, 11, 2, 17, 10))
        w.staff_reply(v8, local(z, 2026, 11, 2, 17, 15))
        w.staff_reply(v8, local(z, 2026, 11, 2, 17, 20))
        w.outcome(c8, Outcome.Kind.WON, local(z, 2026, 11, 2, 17, 30), "1200.50")
        c9, _ = w.caller()
        w.skipped(w.call(local(z, 2026, 11, 2, 23, 30), M, in_hours=False, contact=c9), "blocked")
        w.call(local(z, 2026, 11, 3, 0, 0), A, in_hours=False)


def build_bolt(bolt) -> None:
    z = NEW_YORK
    with schema_context(bolt.schema_name):
        w = Writer(bolt)
        contact, conversation = w.caller("+12025550177")
        call = w.call(local(z, 2026, 11, 1, 0, 30), Call.Outcome.MISSED, in_hours=True, contact=contact)
        w.textback(conversation, call, local(z, 2026, 11, 1, 0, 31))
        w.inbound(conversation, local(z, 2026, 11, 1, 0, 40))
        w.outcome(contact, Outcome.Kind.WON, local(z, 2026, 11, 1, 12, 0), "99.99")


def build_cedar(cedar) -> None:
    z = LOS_ANGELES
    with schema_context(cedar.schema_name):
        w = Writer(cedar)
        contact, conversation = w.caller("+14155550177")
        w.call(local(z, 2026, 11, 1, 10, 0), Call.Outcome.MISSED, in_hours=False, contact=contact)
        w.outcome(contact, Outcome.Kind.WON, local(z, 2026, 11, 1, 12, 0), "5000.00")


# What the history comes to, day by day (Acme's days in Chicago).
ACME_DAYS = {
    "2026-10-30": {"calls": 1, "answered_calls": 1, "call_hours": {23: 1}},
    "2026-10-31": {
        "calls": 3,
        "missed_calls": 2,
        "missed_after_hours": 1,
        "answered_calls": 1,
        "textbacks_sent": 2,
        "replies": 1,
        "answered_by_staff": 1,
        "booked": 1,
        "opt_outs": 1,
        "missed_hours": {9: 1, 23: 1},
        "call_hours": {9: 1, 14: 1, 23: 1},
    },
    "2026-11-01": {
        "calls": 3,
        "missed_calls": 3,
        "missed_after_hours": 3,
        "missed_hours": {1: 2, 23: 1},  # both 01:30s of the night the clocks went back
        "call_hours": {1: 2, 23: 1},
        "textbacks_sent": 1,
        "textbacks_skipped": 2,
        "skipped_reasons": {"landline": 1, "anonymous_caller": 1},
        "replies": 1,
        "answered_by_staff": 1,
        "booked": 1,
        "booked_pending": 1,
    },
    "2026-11-02": {
        "calls": 3,
        "missed_calls": 3,
        "missed_after_hours": 1,
        "missed_hours": {10: 1, 16: 1, 23: 1},
        "call_hours": {10: 1, 16: 1, 23: 1},
        "textbacks_sent": 2,
        "textbacks_skipped": 1,
        "skipped_reasons": {"blocked": 1},
        "replies": 1,
        "answered_by_staff": 1,
        "won": 2,
        "won_value": Decimal("1650.50"),
        "delivery_failures": 1,
    },
    "2026-11-03": {"calls": 1, "answered_calls": 1, "call_hours": {0: 1}},
}
BOLT_DAYS = {
    "2026-11-01": {
        "calls": 1,
        "missed_calls": 1,
        "missed_hours": {0: 1},
        "call_hours": {0: 1},
        "textbacks_sent": 1,
        "replies": 1,
        "won": 1,
        "won_value": Decimal("99.99"),
    },
}


def _followup(w: Writer, conversation, at, status=Message.Status.DELIVERED, *, sent: bool = True) -> Message:
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.FOLLOW_UP,
        body="Still need a hand?",
        status=status,
        from_number=str(w.client.phone_number),
        to_number=conversation.contact.phone_number,
        created_at=at,
        sent_at=at if sent else None,
    )


def _link(client, at, *, opened=False, booked=False) -> None:
    TrackedLink.objects.create(
        client=client,
        kind=TrackedLink.Kind.BOOKING,
        to_number="+13125550199",
        created_at=at,
        clicks=1 if opened else 0,
        first_clicked_at=at + timedelta(minutes=3) if opened else None,
        booked_at=at + timedelta(hours=1) if booked else None,
    )


def _form(client, at, *, opened=False, answered=False) -> None:
    IntakeLink.objects.create(
        client=client,
        conversation_id=1,
        to_number="+13125550199",
        created_at=at,
        expires_at=at + timedelta(days=7),
        opens=1 if opened else 0,
        first_opened_at=at + timedelta(minutes=2) if opened else None,
        submissions=1 if answered else 0,
    )


def build_after_textback(acme, bolt) -> None:
    """What callers did after the text-back, on top of the known history. In 31 Oct – 2 Nov on each client's
    clock: acme sent 3 booking links (2 opened, 1 booked after) and 2 intake forms (1 opened and answered), 3
    follow-ups (one answered, one not, one answered with STOP; a fourth stopped before it went), 1 caller left a
    voicemail, and its callers' replies read as booking ×4 (the history's "Yes please") and price ×1; bolt sent 1 booking link (opened) and
    1 follow-up (answered), 1 voicemail, replies about booking ×1 and an emergency ×1. On 3 Nov, outside: one
    more acme link (opened, booked) and a reply about the price."""
    z = CHICAGO
    for at, opened, booked in [
        (local(z, 2026, 10, 31, 9, 31), True, True),
        (local(z, 2026, 11, 1, 10, 0), True, False),
        (local(z, 2026, 11, 2, 17, 0), False, False),
        (local(z, 2026, 11, 3, 0, 30), True, True),  # the day after, on acme's clock
    ]:
        _link(acme, at, opened=opened, booked=booked)
    _form(acme, local(z, 2026, 11, 1, 12, 0), opened=True, answered=True)
    _form(acme, local(z, 2026, 11, 2, 12, 0))
    _link(bolt, local(NEW_YORK, 2026, 11, 1, 0, 31), opened=True)
    with schema_context(acme.schema_name):
        w = Writer(acme)
        _, answered = w.caller()
        _followup(w, answered, local(z, 2026, 11, 1, 9, 0))
        w.inbound(answered, local(z, 2026, 11, 1, 9, 30), body="Yes, Tuesday")
        _, silent = w.caller()
        _followup(w, silent, local(z, 2026, 11, 2, 9, 0))
        # Stopped before it went (the send-time check): never sent, so not counted.
        _followup(w, silent, local(z, 2026, 11, 2, 9, 5), status=Message.Status.FAILED, sent=False)
        _, stopped = w.caller()
        _followup(w, stopped, local(z, 2026, 11, 2, 10, 0))
        w.opt_out(stopped, local(z, 2026, 11, 2, 10, 5))  # STOP is not a reply: not recovered
        voicemail = Call.objects.filter(
            outcome=Call.Outcome.MISSED, started_at__gte=local(z, 2026, 10, 31, 0, 0)
        ).earliest("started_at")
        Call.objects.filter(pk=voicemail.pk).update(recording_sid="RE1")
        Message.objects.filter(direction="in", body="Yes please").update(intent="booking")
        Message.objects.filter(
            pk=w.inbound(answered, local(z, 2026, 11, 2, 8, 0), body="How much?").pk
        ).update(intent="price")
        Message.objects.filter(pk=w.inbound(answered, local(z, 2026, 11, 3, 8, 0), body="Cost?").pk).update(
            intent="price"  # the day after: not counted
        )
    with schema_context(bolt.schema_name):
        w = Writer(bolt)
        _, conversation = w.caller()
        _followup(w, conversation, local(NEW_YORK, 2026, 11, 1, 9, 0))
        w.inbound(conversation, local(NEW_YORK, 2026, 11, 1, 9, 1), body="Sparks everywhere")
        Message.objects.filter(body="Sparks everywhere").update(intent="emergency")
        Message.objects.filter(direction="in", body="Yes please").update(intent="booking")
        Call.objects.update(recording_sid="RE2")
