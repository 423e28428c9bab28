"""Who hears what: the one table of the domain events' subscribers, and of the vetoes.

The core apps (telephony, messaging, crm) declare their events in their `events.py` and publish them; the apps
at the edge (reports, billing, inbox, api) hold the handlers, and a core app holds its own part of work a lower
one publishes (a contact merge); this table, above them all, is the only place they meet. Read it top to bottom
to learn everything a missed call sets off. The policies are explained in events/bus.py:

- ATOMIC: a step of the publisher's own work kept by another app; its failure rolls the publisher's whole
  transaction back (a merge that half-happened would lose what it had not moved yet).
- IN_TRANSACTION: must commit with the event (exact counters, metered usage); a failing handler is rolled back
  alone and logged, and the event stands.
- ON_COMMIT: after the event's transaction commits (queuing alerts); never for a rolled-back event.
- OUTBOX: a worker runs it from the transactional outbox, in batches; nothing of it slows the webhook.

`when` keeps an event the handler does not want from costing anything (no savepoint, no outbox row). An event
declared public (`@event(..., public=True, label=...)`) is offered to outbound webhooks by the last lines, with
nothing to add here or in the API: its payload is made from its fields by the API's serializers
(api/payloads.py); its delivery is asserted in tests/events/test_catalogue.py, and `./run manage
event_catalogue --write` brings the README's table up to date. An event nobody hears yet needs no line: the
catalogue says "none yet".
Loaded at start-up by the events app (settings.EVENT_SUBSCRIBERS); tests/events/test_catalogue.py walks it and
measures every line against its statement budget.
"""

from accounts.events import ClientNumberClaim
from api import receivers as webhooks
from billing import receivers as billing
from crm.events import ContactMerged, OutcomeRecorded
from deliverability import receivers as deliverability
from events.bus import Policy, Subscription, Veto, public_events
from inbox import receivers as inbox
from inbox import staff_texts
from messaging import receivers as messaging
from messaging.events import (
    ContactOptedOut,
    ConversationJoined,
    KeywordActed,
    LineTypeLookedUp,
    MessageFailed,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
    StaffTextCheck,
    StaffTextSent,
    TextbackCheck,
    TextbackSent,
    TextbackSkipped,
)
from reports import receivers as reports
from telephony import receivers as telephony
from telephony.events import CallAnswered, CallCompleted, CallMissed, CallReceived

ATOMIC, IN_TRANSACTION, ON_COMMIT, OUTBOX = (
    Policy.ATOMIC,
    Policy.IN_TRANSACTION,
    Policy.ON_COMMIT,
    Policy.OUTBOX,
)

SUBSCRIPTIONS = [
    # --- Calls ---
    Subscription(CallReceived, billing.on_call_received, IN_TRANSACTION),
    Subscription(CallReceived, reports.on_call_received, IN_TRANSACTION),
    # While it rings, learn a new caller's line type, so a missed call's text-back need not wait for it.
    Subscription(CallReceived, telephony.on_call_received, ON_COMMIT, when=telephony.needs_line_type),
    Subscription(CallMissed, reports.on_call_missed, IN_TRANSACTION),
    Subscription(CallMissed, inbox.on_call_missed, ON_COMMIT),
    Subscription(CallAnswered, reports.on_call_answered, IN_TRANSACTION),
    Subscription(CallCompleted, billing.on_call_completed, IN_TRANSACTION, when=billing.has_duration),
    # --- Texts ---
    Subscription(MessageSent, billing.on_message_sent, IN_TRANSACTION),
    Subscription(MessageSent, reports.on_message_sent, IN_TRANSACTION, when=reports.is_a_staff_reply),
    Subscription(MessageReceived, billing.on_message_received, IN_TRANSACTION),
    Subscription(MessageReceived, reports.on_message_received, IN_TRANSACTION),
    Subscription(MessageReceived, inbox.on_message_received, ON_COMMIT, when=inbox.is_a_reply),
    # A reply that reads as an emergency (messaging.intents) alerts the on-call person at once.
    Subscription(MessageReceived, inbox.on_emergency, ON_COMMIT, when=inbox.is_an_emergency),
    # The AI receptionist (per client, off by default) answers or hands over, in a task.
    Subscription(
        MessageReceived,
        messaging.on_message_for_the_receptionist,
        ON_COMMIT,
        when=messaging.wants_the_receptionist,
    ),
    # Keywords that act (BOOK answers with the booking link, URGENT alerts the on-call person), on top of STOP/HELP.
    Subscription(MessageReceived, messaging.on_message_received, IN_TRANSACTION, when=messaging.may_act),
    Subscription(KeywordActed, inbox.on_keyword_acted, ON_COMMIT, when=inbox.is_urgent),
    Subscription(MessageFailed, reports.on_message_failed, IN_TRANSACTION),
    # What carriers did with the texts, for the 7-day rates the agency is warned by (before carriers act).
    Subscription(MessageSent, deliverability.on_message_sent, IN_TRANSACTION),
    Subscription(MessageFailed, deliverability.on_message_failed, IN_TRANSACTION),
    Subscription(
        MessageStatusChanged,
        deliverability.on_message_status_changed,
        IN_TRANSACTION,
        when=deliverability.is_a_failure,
    ),
    Subscription(
        MessageStatusChanged, billing.on_message_status_changed, IN_TRANSACTION, when=billing.carries_price
    ),
    Subscription(
        MessageStatusChanged, reports.on_message_status_changed, IN_TRANSACTION, when=reports.is_a_failure
    ),
    Subscription(LineTypeLookedUp, billing.on_line_type_looked_up, IN_TRANSACTION),
    Subscription(StaffTextSent, billing.on_staff_text_sent, IN_TRANSACTION),
    # --- Text-backs ---
    Subscription(TextbackSent, reports.on_textback_sent, IN_TRANSACTION),
    # Its one follow-up, owed from now, written to the ledger with it (messaging.followups).
    Subscription(TextbackSent, messaging.on_textback_sent, IN_TRANSACTION, when=messaging.wants_followups),
    Subscription(TextbackSkipped, reports.on_textback_skipped, IN_TRANSACTION),
    # --- Consent and outcomes ---
    Subscription(ContactOptedOut, reports.on_contact_opted_out, IN_TRANSACTION),
    Subscription(
        ContactOptedOut,
        deliverability.on_contact_opted_out,
        IN_TRANSACTION,
        when=deliverability.is_a_carrier_opt_out,
    ),
    Subscription(OutcomeRecorded, reports.on_outcome_recorded, IN_TRANSACTION),
    # A booking after the caller opened a link we texted them: the link counts as clicked → booked.
    Subscription(OutcomeRecorded, messaging.on_outcome_recorded, IN_TRANSACTION, when=messaging.is_a_booking),
    # --- Merging a duplicate contact: each app moves what it keeps, all or nothing ---
    Subscription(ContactMerged, telephony.on_contact_merged, ATOMIC),
    Subscription(ContactMerged, messaging.on_contact_merged, ATOMIC),
    Subscription(ConversationJoined, inbox.on_conversation_joined, ATOMIC),
    # --- Outbound webhooks: every public event, to the endpoints that want it (payloads: api/payloads.py) ---
    *(
        Subscription(public, webhooks.on_public_event, OUTBOX, when=webhooks.has_endpoints)
        for public in public_events()
    ),
]

VETOES = [
    # A new client's number must be its agency's or nobody's yet; telephony records it as the agency's.
    Veto(ClientNumberClaim, telephony.number_claim),
    # Above a client's allowance, when its agency chose to pause rather than bill the overage.
    Veto(TextbackCheck, billing.textback_usage_veto),
    # While the number's A2P 10DLC registration is pending, when the agency chose to hold text-backs until then.
    Veto(TextbackCheck, deliverability.textback_registration_veto),
    # A text from a staff member's confirmed mobile that answers an alert they were texted: to that caller.
    Veto(StaffTextCheck, staff_texts.staff_text_take),
]
