"""Ninety days of made-up history for a demo client, in the words of its trade: calls by hour and weekday,
text-backs, callers' replies, staff answers, booked, won and lost jobs with their values, opt-outs, skipped
text-backs, billing usage and canned replies.

Written as rows (bulk inserts, a few dozen statements per client), not through the services: walking
hundreds of calls through the webhooks' code would take a minute and send every text through the provider.
The roll-ups are then rebuilt from these rows by the same code as the nightly rebuild
(reports.rollups.rollup_rebuild_client), so every report number is what the rows say. Random but repeatable:
one seed per client."""

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from accounts.models import Client
from billing.models import AgencyBilling, ClientPrice, MonthlyUsage, Plan, UsageEvent, UsageKind
from billing.months import month_has_ended
from billing.selectors import agency_time_zone
from billing.services import statements_close
from crm.models import Contact, Outcome, Suppression
from inbox.models import CannedReply
from messaging.intents import intent_of
from messaging.models import ConsentEvent, Conversation, Message, OutboundSend, Template
from messaging.placeholders import render as render_template
from messaging.reasons import SkipReason
from messaging.segments import segment_info
from messaging.services import OPT_OUT_NOTICE, placeholder_context
from reports.rollups import rollup_rebuild_client
from telephony.models import Call

DAYS = 90
# Every seeded call's sid starts so: the mark that a client's history is there already (seed_demo runs again).
SID_PREFIX = "CAseed"


@dataclass(frozen=True)
class Trade:
    """How one kind of business's phone rings, and what its callers and staff write."""

    industry: str
    average_job_value: Decimal
    calls_per_day: tuple[float, ...]  # Monday to Sunday, on average
    hour_weights: dict[int, float]  # local hour → how likely a call is then
    area_codes: tuple[str, ...]  # the callers' numbers (555-01xx: the range kept for fiction)
    first_texts: tuple[str, ...]  # a caller's answer to the text-back
    staff_texts: tuple[str, ...]  # "{name}" is the caller's first name, or "there"
    second_texts: tuple[str, ...]  # the caller again, after staff answered
    jobs: tuple[tuple[int, int], ...]  # won values, as (low, high) dollar ranges
    lost_reasons: tuple[str, ...]
    canned: tuple[tuple[str, str], ...]
    price: dict  # billing.ClientPrice: what the agency charges such a client


PLUMBING = Trade(
    industry=Client.Industry.PLUMBING,
    average_job_value=Decimal("385.00"),
    calls_per_day=(11, 10, 10, 9, 10, 5, 3),
    hour_weights={
        0: 0.3,
        5: 0.5,
        6: 2,
        7: 5,
        8: 7,
        9: 7,
        10: 6,
        11: 5,
        12: 5,
        13: 5,
        14: 5,
        15: 5,
        16: 6,
        17: 7,
        18: 6,
        19: 4,
        20: 3,
        21: 2,
        22: 1,
        23: 0.5,
    },
    area_codes=("773", "872", "708", "630", "847", "224"),
    first_texts=(
        "Hi, my kitchen sink is leaking under the cabinet. Can someone come today?",
        "Water heater stopped working, no hot water since this morning",
        "Toilet keeps running all night. How much to fix that?",
        "Basement floor drain is backing up!! Please call me back",
        "Need a quote to replace the bathroom faucet",
        "Sump pump is making a grinding noise, is that bad?",
        "I think a pipe froze in the garage, water's not coming out",
        "Do you do drain cleaning? Shower drains really slow",
        "Garbage disposal hums but won't spin",
        "Can I get an estimate on a tankless water heater install?",
        "There's water coming through the ceiling under the upstairs bathroom",
        "Low water pressure in the whole house since yesterday",
    ),
    staff_texts=(
        "Hi {name}, sorry we missed you! We can have a tech there between 2 and 4 today. Does that work?",
        "Thanks {name}. A standard drain clean is $149. We have an opening tomorrow at 9am, want it?",
        "We can take a look this afternoon. What's the address?",
        "Hi {name}, that sounds like the fill valve, usually a quick fix. Tomorrow at 10 work for you?",
        "Turn off the water at the main valve if you can. Mike is on his way, about 40 minutes out.",
        "We install Rinnai and Navien tankless units. I can send someone for a free estimate Thursday.",
    ),
    second_texts=(
        "Great, see you then",
        "Perfect, 2-4 works",
        "123 W Elm St, thank you!",
        "Yes please book it",
        "Thanks for getting back so fast",
        "Ok, water's off. Thank you!",
    ),
    jobs=((149, 260), (180, 420), (280, 650), (1400, 2600)),
    lost_reasons=("Went with another plumber", "Too expensive", "Fixed it themselves", "No show"),
    canned=(
        ("On the way", "Our tech is on the way and will be there in about 30 minutes."),
        ("Drain cleaning price", "A standard drain clean is $149, including the first hour."),
        ("Emergency", "If water is leaking, turn off the main valve now. We can be there within the hour."),
        ("Free estimate", "We give free estimates for water heaters and repiping. When suits you?"),
    ),
    price={
        "monthly_price": Decimal("149.00"),
        "included_segments": 600,
        "price_per_segment": Decimal("0.0400"),
    },
)

DENTAL = Trade(
    industry=Client.Industry.DENTAL,
    average_job_value=Decimal("260.00"),
    calls_per_day=(6, 5, 5, 5, 3, 1, 0.3),
    hour_weights={
        7: 4,
        8: 8,
        9: 7,
        10: 6,
        11: 6,
        12: 9,
        13: 7,
        14: 5,
        15: 5,
        16: 6,
        17: 5,
        18: 3,
        19: 1.5,
        20: 1,
    },
    area_codes=("213", "323", "310", "424", "818", "626"),
    first_texts=(
        "Hi, I'd like to book a cleaning for me and my daughter",
        "I have a toothache on the lower left, any chance to be seen today?",
        "Do you take Delta Dental PPO?",
        "I chipped a front tooth, is that an emergency?",
        "I need to reschedule my appointment on Tuesday",
        "How much is teeth whitening?",
        "Are you accepting new patients?",
        "My crown came off while I was eating",
        "Is the Invisalign consultation free?",
        "My son needs a check-up before school starts",
        "My gums bleed when I brush, should I come in?",
    ),
    staff_texts=(
        "Hi {name}, we have a cleaning opening Thursday at 8:30am. Shall I book it?",
        "Yes, we're in network with Delta Dental PPO. Can we see you next week?",
        "Dr. Patel can see you today at 3:15 for that. Please arrive 10 minutes early.",
        "Hi {name}, whitening is $450 in office. Would you like a consultation first?",
        "We are accepting new patients! Our next new-patient visit is Monday at 10am.",
        "Sorry to hear that, {name}. Keep the crown and bring it with you; we can see you tomorrow at 9.",
    ),
    second_texts=(
        "Yes please!",
        "Thursday works, thank you",
        "Great, I'll be there",
        "Perfect, see you Monday",
        "Thanks so much",
        "Can we do 9:30 instead?",
    ),
    jobs=((120, 220), (180, 320), (450, 900), (1100, 1800)),
    lost_reasons=("Insurance not accepted", "Went with another dentist", "Cancelled", "Too far away"),
    canned=(
        (
            "New patients",
            "We're accepting new patients! The first visit includes an exam, X-rays and a cleaning.",
        ),
        ("Insurance", "We're in network with Delta Dental, Cigna, Aetna and MetLife PPO plans."),
        ("Directions", "We're on the 2nd floor, suite 210. Free parking behind the building."),
        ("Emergency", "For a dental emergency we keep same-day slots. Reply with what happened."),
    ),
    price={
        "monthly_price": Decimal("199.00"),
        "included_segments": 400,
        "price_per_segment": Decimal("0.0400"),
    },
)

FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Dan",
    "Priya",
    "Kevin",
    "Sofia",
    "Tom",
    "Grace",
    "Luis",
    "Emily",
    "Marcus",
    "Hannah",
    "Omar",
    "Lily",
    "Carlos",
    "Nina",
    "Ben",
    "Rosa",
    "Jake",
    "Mei",
    "Tyler",
)
LAST_NAMES = (
    "Lopez",
    "Whitfield",
    "Khan",
    "Nguyen",
    "Patel",
    "Brooks",
    "Garcia",
    "Miller",
    "Kim",
    "Rossi",
    "Okafor",
    "Evans",
    "Cohen",
    "Silva",
)


@dataclass
class _Rows:
    contacts: list = field(default_factory=list)
    conversations: dict = field(default_factory=dict)  # contact number → Conversation
    calls: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    sends: list = field(default_factory=list)  # (OutboundSend, its Message or None)
    outcomes: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    suppressions: list = field(default_factory=list)


class _History:
    """Plans one client's history in memory, then writes it in a few bulk inserts."""

    def __init__(self, client: Client, trade: Trade, owner_id: int | None, end: datetime):
        self.client, self.trade, self.owner_id, self.end = client, trade, owner_id, end
        self.zone = ZoneInfo(client.timezone)
        self.random = random.Random(f"textback-demo-{client.slug}")  # noqa: S311 - made-up data, repeatable
        self.rows = _Rows()
        self.numbers = [f"+1{area}555{n:04d}" for area in trade.area_codes for n in range(100, 200)]
        self.random.shuffle(self.numbers)
        self.known: dict[str, Contact] = {}
        self.last_textback: dict[str, datetime] = {}
        self.sid = 0
        self.first_message_at: dict[int, datetime] = {}  # id(Conversation) → its first message's time
        self.first_call_at: dict[str, datetime] = {}  # a caller's number → when they first called
        self.templates = {t.kind: t.body for t in Template.objects.filter(is_active=True)}
        self.number = str(client.phone_number)

    def _next_sid(self, prefix: str) -> str:
        self.sid += 1
        return f"{prefix}{self.client.pk:04d}{self.sid:026d}"

    # --- the plan -------------------------------------------------------------------------------------------

    def plan(self) -> None:
        start_day = (self.end.astimezone(self.zone) - timedelta(days=DAYS - 1)).date()
        hours, weights = zip(*self.trade.hour_weights.items(), strict=True)
        for offset in range(DAYS):
            day = start_day + timedelta(days=offset)
            expected = self.trade.calls_per_day[day.weekday()]
            # A busy week now and then, so the charts are not flat.
            expected *= 1.35 if (day.isocalendar().week % 5 == 0) else 1
            for _ in range(self._poisson(expected)):
                hour = self.random.choices(hours, weights)[0]
                at = datetime(
                    day.year,
                    day.month,
                    day.day,
                    hour,
                    self.random.randrange(60),
                    self.random.randrange(60),
                    tzinfo=self.zone,
                )
                if at < self.end:
                    self._call(at)

    def _poisson(self, mean: float) -> int:
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.random.random()
            if p <= limit:
                return k
            k += 1

    def _caller(self) -> Contact | None:
        """A returning caller one time in eight; a hidden number one time in thirty."""
        if self.random.random() < 1 / 30:
            return None
        if self.known and self.random.random() < 1 / 8:
            return self.random.choice(list(self.known.values()))
        number = self.numbers.pop() if self.numbers else None
        if number is None:
            return self.random.choice(list(self.known.values()))
        contact = Contact(phone_number=number)
        if self.random.random() < 0.07:
            contact.line_type, contact.line_type_checked_at = Contact.LineType.LANDLINE, self.end
        self.known[number] = contact
        self.rows.contacts.append(contact)
        return contact

    def _call(self, at: datetime) -> None:
        r = self.random
        contact = self._caller()
        in_hours = self.client.is_open_at(at)
        carrier = self.client.call_mode == Client.CallMode.CARRIER
        # Forwarded by the business's carrier, every call that reaches us is one it did not answer.
        answered = not carrier and in_hours and r.random() < 0.62
        ring = self.client.ring_timeout_seconds
        call = Call(
            call_sid=self._next_sid(SID_PREFIX),
            from_number=contact.phone_number if contact else "anonymous",
            to_number=self.number,
            contact=contact,
            outcome=Call.Outcome.ANSWERED if answered else Call.Outcome.MISSED,
            missed_reason=""
            if answered
            else (Call.MissedReason.CARRIER if carrier else Call.MissedReason.NO_ANSWER),
            dial_status="completed" if answered else ("" if carrier else "no-answer"),
            accepted_at=at + timedelta(seconds=8) if answered else None,
            duration_seconds=r.randrange(60, 420) if answered else ring,
            in_business_hours=in_hours,
            started_at=at,
            ended_at=at + timedelta(seconds=ring),
            completed_at=at + timedelta(seconds=ring + 1),
        )
        if contact and not contact.name and r.random() < 0.55:
            contact.name = f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}"
        self.rows.calls.append(call)
        if contact:
            self.first_call_at.setdefault(contact.phone_number, at)
        if not answered:
            self._textback(call, contact, in_hours)

    def _skip(self, call: Call, reason: str) -> None:
        assert call.ended_at is not None  # every call _call makes has ended
        send = OutboundSend(
            client=self.client,
            kind=OutboundSend.Kind.TEXT_BACK,
            key=f"call:{call.call_sid}",
            to_number=call.from_number,
            call_sid=call.call_sid,
            event_at=call.ended_at,
            due_at=call.ended_at,
            state=OutboundSend.State.SKIPPED,
            reason=reason,
            attempts=1,
            created_at=call.ended_at,
        )
        self.rows.sends.append((send, None))

    def _textback(self, call: Call, contact: Contact | None, in_hours: bool) -> None:
        assert call.ended_at is not None  # every call _call makes has ended
        if contact is None:
            return self._skip(call, SkipReason.ANONYMOUS)
        if contact.opted_out:
            return self._skip(call, SkipReason.OPTED_OUT)
        if contact.line_type == Contact.LineType.LANDLINE:
            return self._skip(call, SkipReason.LANDLINE)
        number = contact.phone_number
        last = self.last_textback.get(number)
        if last and call.started_at - last < timedelta(hours=self.client.suppress_hours):
            return self._skip(call, SkipReason.RECENTLY_TEXTED)
        kind = (
            Template.Kind.RETURNING_CALLER
            if last
            else Template.Kind.BUSINESS_HOURS
            if in_hours
            else Template.Kind.AFTER_HOURS
        )
        body = self.templates.get(kind) or self.templates.get(Template.Kind.BUSINESS_HOURS)
        if not body:
            return self._skip(call, SkipReason.NO_TEMPLATE)
        first_name = contact.name.split(" ")[0] if contact.name else ""
        text = render_template(body, context=placeholder_context(client=self.client, caller_name=first_name))
        if not last and "STOP" not in text.upper():
            text = f"{text} {OPT_OUT_NOTICE}"
        sent_at = call.ended_at + timedelta(seconds=self.client.text_delay_seconds + 1)
        undelivered = self.random.random() < 0.02
        message = self._message(
            contact,
            Message.Direction.OUTBOUND,
            Message.Kind.TEXT_BACK,
            text,
            sent_at,
            status=Message.Status.UNDELIVERED if undelivered else Message.Status.DELIVERED,
            call_sid=call.call_sid,
            template_kind=kind,
        )
        send = OutboundSend(
            client=self.client,
            kind=OutboundSend.Kind.TEXT_BACK,
            key=f"call:{call.call_sid}",
            to_number=number,
            call_sid=call.call_sid,
            event_at=call.ended_at,
            due_at=sent_at,
            state=OutboundSend.State.SENT,
            attempts=1,
            created_at=call.ended_at,
            dispatched_at=sent_at,
        )
        self.rows.sends.append((send, message))
        self.last_textback[number] = sent_at
        if not undelivered:
            self._conversation(contact, sent_at, in_hours)

    def _conversation(self, contact: Contact, sent_at: datetime, in_hours: bool) -> None:
        """What follows a text-back: maybe a reply, a staff answer, a booking, a job won or lost."""
        r, trade = self.random, self.trade
        if r.random() < 0.025:
            return self._opt_out(contact, sent_at + timedelta(minutes=r.randrange(1, 30)))
        if r.random() > 0.52:
            return
        replied = sent_at + timedelta(minutes=r.randrange(1, 40))
        if replied >= self.end:
            return
        self._message(
            contact, Message.Direction.INBOUND, Message.Kind.INBOUND, r.choice(trade.first_texts), replied
        )
        if in_hours or r.random() < 0.3:
            answer = replied + timedelta(minutes=r.randrange(2, 28))
        else:  # after hours most answers wait for the morning
            morning = (replied.astimezone(self.zone) + timedelta(days=1)).replace(
                hour=8, minute=r.randrange(5, 55)
            )
            answer = morning
        if answer >= self.end or r.random() < 0.08:
            return  # waiting for an answer: what the inbox shows as unread
        first_name = contact.name.split(" ")[0] if contact.name else "there"
        self._message(
            contact,
            Message.Direction.OUTBOUND,
            Message.Kind.REPLY,
            r.choice(trade.staff_texts).format(name=first_name),
            answer,
        )
        again = answer + timedelta(minutes=r.randrange(2, 45))
        if again < self.end and r.random() < 0.7:
            self._message(
                contact, Message.Direction.INBOUND, Message.Kind.INBOUND, r.choice(trade.second_texts), again
            )
        if r.random() > 0.62:
            return
        booked = answer + timedelta(minutes=r.randrange(10, 90))
        if booked >= self.end:
            return
        self._outcome(contact, Outcome.Kind.BOOKED, booked)
        decided = booked + timedelta(days=r.randrange(0, 6), hours=r.randrange(1, 8))
        if decided >= self.end:
            return  # still pending: the report's estimate counts it
        roll = r.random()
        if roll < 0.74:
            low, high = r.choice(trade.jobs)
            self._outcome(
                contact, Outcome.Kind.WON, decided, Decimal(r.randrange(low, high)) + Decimal("0.00")
            )
        elif roll < 0.88:
            self._outcome(contact, Outcome.Kind.LOST, decided, reason=r.choice(trade.lost_reasons))

    def _opt_out(self, contact: Contact, at: datetime) -> None:
        if at >= self.end:
            return
        message = self._message(contact, Message.Direction.INBOUND, Message.Kind.INBOUND, "STOP", at)
        contact.opted_out = True
        self.rows.consents.append(
            ConsentEvent(
                contact=contact,
                phone_number=contact.phone_number,
                kind=ConsentEvent.Kind.OPT_OUT,
                source=ConsentEvent.Source.KEYWORD,
                keyword="STOP",
                message_sid=message.provider_sid,
                created_at=at,
            )
        )
        self.rows.suppressions.append(Suppression(phone_number=contact.phone_number, created_at=at))

    def _message(self, contact, direction, kind, body, at, *, status=None, call_sid="", template_kind=""):
        info = segment_info(body)
        outbound = direction == Message.Direction.OUTBOUND
        message = Message(
            # A caller's thread begins with the first text either way (a caller only ever skipped has none).
            conversation=self.rows.conversations.setdefault(
                contact.phone_number,
                Conversation(contact=contact, status=Conversation.Status.CLOSED, last_activity_at=at),
            ),
            direction=direction,
            kind=kind,
            body=body,
            status=status or (Message.Status.DELIVERED if outbound else Message.Status.RECEIVED),
            from_number=self.number if outbound else contact.phone_number,
            to_number=contact.phone_number if outbound else self.number,
            provider_sid=self._next_sid("SMseed"),
            encoding=info.encoding,
            segments=info.segments,
            error_code=30003 if status == Message.Status.UNDELIVERED else None,
            error_message="Unknown destination handset" if status == Message.Status.UNDELIVERED else "",
            call_sid=call_sid,
            template_kind=template_kind,
            sent_by_id=self.owner_id if kind == Message.Kind.REPLY else None,
            created_at=at - timedelta(seconds=1) if outbound else at,
            sent_at=at if outbound else None,
            status_changed_at=at + timedelta(seconds=4 if outbound else 0),
        )
        if not outbound:  # read as a live reply is (messaging.intents)
            reading = intent_of(body)
            message.intent, message.intent_words = reading.intent, reading.words
            message.intent_confidence = round(reading.confidence * 100)
            message.conversation.intent = reading.intent
        conversation = message.conversation
        self.first_message_at.setdefault(id(conversation), message.created_at)
        conversation.last_activity_at = at
        if not outbound:
            conversation.last_inbound_at = at
            conversation.unread_count += 1
        elif kind == Message.Kind.REPLY:
            conversation.unread_count = 0  # staff answered: they read it
        self.rows.messages.append(message)
        return message

    def _outcome(self, contact, kind, at, value=None, reason="") -> None:
        self.rows.outcomes.append(
            Outcome(
                contact=contact,
                kind=kind,
                value=value,
                lost_reason=reason,
                recorded_by_id=self.owner_id,
                created_at=at,
            )
        )

    # --- writing it -----------------------------------------------------------------------------------------

    def write(self) -> None:
        rows = self.rows
        recent = self.end - timedelta(days=3)
        for conversation in rows.conversations.values():
            # The last days' threads are still open in the inbox; older ones were closed when dealt with.
            if conversation.last_activity_at >= recent:
                conversation.status = Conversation.Status.OPEN
            else:
                conversation.closed_at = conversation.last_activity_at + timedelta(hours=2)
                conversation.unread_count = 0
            conversation.created_at = self.first_message_at[id(conversation)]
        for contact in rows.contacts:
            contact.created_at = self.first_call_at[contact.phone_number]
        Contact.objects.bulk_create(rows.contacts, batch_size=500)
        Conversation.objects.bulk_create(rows.conversations.values(), batch_size=500)
        for call in rows.calls:
            call.contact_id = call.contact.pk if call.contact else None
        Call.objects.bulk_create(rows.calls, batch_size=500)
        Message.objects.bulk_create(rows.messages, batch_size=500)
        Outcome.objects.bulk_create(rows.outcomes, batch_size=500)
        ConsentEvent.objects.bulk_create(rows.consents)
        Suppression.objects.bulk_create(rows.suppressions, ignore_conflicts=True)
        for send, message in rows.sends:
            send.message_id = message.pk if message else None
        OutboundSend.objects.bulk_create([send for send, _ in rows.sends], batch_size=500)
        CannedReply.objects.bulk_create(
            [
                CannedReply(title=title, body=body)
                for title, body in self.trade.canned
                if not CannedReply.objects.filter(title=title).exists()
            ]
        )

    def usage(self) -> None:
        """What billing would have metered for these rows: one event per call, per text and per voice minute,
        and each month's counters as their sums."""
        zone = ZoneInfo(agency_time_zone(agency=self.client.agency))
        events = []

        def add(kind, source, quantity, at):
            local = at.astimezone(zone)
            events.append(
                UsageEvent(
                    client=self.client,
                    kind=kind,
                    source=source,
                    quantity=quantity,
                    month=local.date().replace(day=1),
                    occurred_at=at,
                )
            )

        for call in self.rows.calls:
            add(UsageKind.CALLS, f"call:{call.call_sid}", 1, call.started_at)
            add(
                UsageKind.VOICE_MINUTES,
                f"call:{call.call_sid}",
                math.ceil(call.duration_seconds / 60),
                call.started_at,
            )
        for message in self.rows.messages:
            if message.direction == Message.Direction.OUTBOUND:
                add(UsageKind.SEGMENTS_OUT, f"message:{message.pk}", message.segments, message.sent_at)
            else:
                add(UsageKind.SEGMENTS_IN, f"message:{message.pk}", message.segments, message.created_at)
        UsageEvent.objects.bulk_create(events, batch_size=1000, ignore_conflicts=True)
        months: dict = {}
        for event in events:
            counters = months.setdefault(event.month, dict.fromkeys(UsageKind.values, 0))
            counters[event.kind] += event.quantity
        for month, counters in months.items():
            # Added to what metering counted already this month (a simulated call before the seeding, say).
            MonthlyUsage.objects.get_or_create(client=self.client, month=month, defaults={"numbers_held": 1})
            MonthlyUsage.objects.filter(client=self.client, month=month).update(
                **{kind: F(kind) + quantity for kind, quantity in counters.items()}
            )


def history_add(*, client: Client, trade: Trade, owner_id: int | None) -> bool:
    """Seed the client's last DAYS days once; False when it has them already."""
    with tenant_context(client):
        if Call.objects.filter(call_sid__startswith=SID_PREFIX).exists():
            return False
        with transaction.atomic():
            Client.objects.filter(pk=client.pk).update(
                industry=trade.industry, average_job_value=trade.average_job_value
            )
            history = _History(client, trade, owner_id, end=now())
            history.plan()
            history.write()
            history.usage()
    rollup_rebuild_client(client=Client.objects.get(pk=client.pk))
    return True


DEMO_PLAN = {
    "name": "Demo agency plan",
    "monthly_price": Decimal("99.00"),
    "price_per_active_client": Decimal("29.00"),
    "included_segments_per_client": 500,
    "overage_per_segment": Decimal("0.0150"),
    "price_per_voice_minute": Decimal("0.0200"),
    "price_per_lookup": Decimal("0.0100"),
}


def billing_add(*, agency, prices: dict[Client, dict]) -> None:
    """The platform's plan for the agency, and what the agency charges each client (owners may read their
    statement). Before the history, whose usage is counted in the agency's months."""
    plan, _ = Plan.objects.get_or_create(name=DEMO_PLAN["name"], defaults=DEMO_PLAN)
    AgencyBilling.objects.get_or_create(
        agency=agency, defaults={"plan": plan, "time_zone": "America/Chicago"}
    )
    for client, price in prices.items():
        ClientPrice.objects.get_or_create(client=client, defaults={"owner_sees_statement": True, **price})


def statements_add(*, agency) -> int:
    """Close every month of the history that is over, as the agency would at each month's end (closing a month
    again returns what is stored). Returns how many months are closed."""
    time_zone = agency_time_zone(agency=agency)
    months = sorted(set(MonthlyUsage.objects.filter(client__agency=agency).values_list("month", flat=True)))
    closed = [month for month in months if month_has_ended(month, time_zone)]
    for month in closed:
        statements_close(agency=agency, month=month)
    return len(closed)
