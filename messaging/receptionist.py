"""The AI receptionist: per client, off by default. When a caller texts, a language model (messaging.llm) may answer
at once, inside limits the client sets, and a person takes over for anything else.

It answers only when every one of these holds, and hands over to a person otherwise (the conversation is flagged
for them, with the reason, and they are alerted like for any reply):
- the client switched it on (Client.receptionist_on) and a model is configured and answers in time;
- the caller has not opted out (checked here, and again by the send path when the text goes out);
- no person is in the conversation already (no staff reply in it), and this is the caller's latest text;
- the text is not an emergency, and does not ask for a person ("can I talk to someone", "call me");
- it is a question the client's facts cover: booking only with a booking link to offer, prices only when the
  client allows them (Client.receptionist_prices) and shared some, anything else only if the model finds the
  answer in the facts (it answers HANDOVER otherwise);
- fewer than Client.receptionist_max_replies AI texts went to this conversation;
- it is inside the caller's own allowed hours (messaging.quiet_hours, the follow-up's window);
- the draft keeps the rules: no price unless allowed, and never an appointment, a time or a booking it cannot
  make (it offers the booking link instead).
Every AI text is its own kind (Message.Kind.AI_REPLY, labelled in the inbox) and keeps what the model was given
(Message.ai_inputs: the facts, the thread, the intent, the model's answer)."""

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now

from accounts.hours import format_hours
from accounts.models import Client
from crm.models import Contact, Suppression

from .intents import Intent, intent_of
from .llm import ChatMessage, chat
from .models import Conversation, Message
from .quiet_hours import next_allowed
from .services import message_queue

log = logging.getLogger(__name__)

HISTORY = 12
# Words asking for a person: the receptionist steps aside at once.
HANDOVER_WORDS = re.compile(
    r"\b(?:real|actual|live) (?:person|human)\b|\b(?:a|an|the) (?:person|human|agent|representative|manager|owner)"
    r"\b|\b(?:talk|speak) (?:to|with)\b|\b(?:call|phone|ring) me\b|\bcall (?:me )?back\b|\bbot\b|\brobot\b"
    r"|\bis this (?:automated|an? ai|a machine)\b|\bhuman\b"
)
# What a draft must not say when prices are not the receptionist's to give.
PRICE_TALK = re.compile(r"\$\s?\d|\b\d+(?:\.\d\d)?\s?(?:dollars|usd|bucks)\b", re.IGNORECASE)
# What would promise an appointment it cannot make: a confirmation, or a clock time.
APPOINTMENT_TALK = re.compile(
    r"\b(?:you(?:'re| are) (?:booked|scheduled|confirmed)|(?:i|we)(?:'ve| have)? (?:booked|scheduled|reserved)"
    r"|appointment (?:is|has been) (?:set|booked|confirmed|scheduled)|see you (?:at|on|tomorrow|today|tonight)"
    r"|confirmed for)\b|\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b",
    re.IGNORECASE,
)
HANDOVER = "HANDOVER"
# Reasons not to answer that need no person either: nothing is flagged.
OPTED_OUT = "the caller opted out"
NOT_FOR_ANSWERING = "spam, a wrong number or an opt-out: not answered"


@dataclass(frozen=True)
class Outcome:
    answered: bool
    reason: str  # why it handed over (for the inbox), or "" when it answered


def _facts(client: Client) -> dict[str, str]:
    facts = {
        "business": client.sender_name or client.name,
        "services": client.facts_services.strip(),
        "area": client.facts_area.strip(),
        "hours": format_hours(client.business_hours) if client.business_hours else "",
        "booking link": client.booking_url,
    }
    if client.receptionist_prices:
        facts["prices"] = client.facts_prices.strip()
    return {name: value for name, value in facts.items() if value}


def _prompt(facts: dict[str, str], history: list[Message]) -> list[ChatMessage]:
    known = "\n".join(f"- {name}: {value}" for name, value in facts.items())
    system = (
        f"You are the text-message receptionist of {facts['business']}. Answer the caller's latest text in one "
        "short, friendly SMS (under 300 characters), using only these facts:\n"
        f"{known}\n"
        "Rules: never make up anything the facts do not say. "
        + ("" if "prices" in facts else "Never mention a price, a cost or an estimate. ")
        + "Never book, confirm or promise an appointment, a visit or a time: offer the booking link if there is "
        "one. If the facts do not answer the question, or the caller wants a person, answer exactly "
        f"{HANDOVER} and nothing else."
    )
    thread = "\n".join(
        f"{'Caller' if m.direction == Message.Direction.INBOUND else 'Business'}: {m.body}" for m in history
    )
    return [ChatMessage("system", system), ChatMessage("user", thread)]


def _before_asking(client: Client, message: Message, history: list[Message]) -> str:
    """Why the receptionist must not answer this text (a reason for the inbox), or ""."""
    contact = message.conversation.contact
    if contact.opted_out or Suppression.objects.filter(phone_number=contact.phone_number).exists():
        return OPTED_OUT
    if any(m.kind == Message.Kind.REPLY for m in history):
        return "a person is already answering this conversation"
    if message.intent == Intent.EMERGENCY:
        return "it reads as an emergency: call them"
    if HANDOVER_WORDS.search(message.body.casefold()):
        return "they asked for a person"
    if message.intent in (Intent.WRONG_NUMBER, Intent.SPAM, Intent.OPT_OUT):
        return NOT_FOR_ANSWERING
    if message.intent == Intent.EXISTING_JOB:
        return "it is about a job already under way"
    if message.intent == Intent.BOOKING and not client.booking_url:
        return "they want to book, and there is no booking link to offer"
    if message.intent == Intent.PRICE and not (client.receptionist_prices and client.facts_prices.strip()):
        return "a price question, and prices are not the AI's to give"
    sent = Message.objects.filter(conversation_id=message.conversation_id, kind=Message.Kind.AI_REPLY).count()
    if sent >= client.receptionist_max_replies:
        return f"it has sent its {client.receptionist_max_replies} AI replies in this conversation"
    at = now()
    if next_allowed(client=client, number=contact.phone_number, at=at) != at:
        return "outside the caller's allowed hours"
    return ""


def _draft_problem(client: Client, draft: str) -> str:
    if draft.strip().strip(".").upper() == HANDOVER:
        return "the facts don't answer it"
    if not client.receptionist_prices and PRICE_TALK.search(draft):
        return "the AI's draft named a price"
    if APPOINTMENT_TALK.search(draft):
        return "the AI's draft promised an appointment or a time"
    return ""


def receptionist_answer(*, client: Client, message_id: int) -> Outcome | None:
    """Answer a caller's text, or hand it over (in the client's schema). None: nothing to do (off, gone, or no
    longer the caller's latest text)."""
    if not client.receptionist_on:
        return None
    message = Message.objects.select_related("conversation__contact").filter(pk=message_id).first()
    if message is None or message.direction != Message.Direction.INBOUND:
        return None
    conversation = message.conversation
    history = list(reversed(conversation.messages.order_by("-created_at", "-id")[:HISTORY]))
    if (
        history
        and history[-1].pk != message.pk
        and any(
            m.direction == Message.Direction.INBOUND and m.created_at > message.created_at for m in history
        )
    ):
        return None  # the caller wrote again: that text's own task answers
    if conversation.messages.filter(kind=Message.Kind.AI_REPLY, created_at__gt=message.created_at).exists():
        return None  # answered already (a repeated task)
    reason = _before_asking(client, message, history)
    facts = _facts(client)
    draft = None
    if not reason:
        if not settings.LLM_BASE_URL:
            reason = "no AI model is configured"
        else:
            draft = chat(_prompt(facts, history), max_tokens=200)
            reason = "the AI model did not answer" if draft is None else _draft_problem(client, draft)
    if reason:
        if reason not in (OPTED_OUT, NOT_FOR_ANSWERING):
            _hand_over(conversation, message, reason)
        return Outcome(False, reason)
    assert draft is not None
    body = _signed(draft, facts)
    inputs = {
        "model": settings.LLM_MODEL,
        "facts": facts,
        "thread": [{"direction": m.direction, "body": m.body} for m in history],
        "intent": message.intent,
        "answering": message.pk,
        "draft": draft,
    }
    with transaction.atomic():
        contact = Contact.objects.select_for_update(no_key=True).get(pk=conversation.contact_id)
        if contact.opted_out:  # a STOP that arrived while the model was thinking
            return Outcome(False, OPTED_OUT)
        reply = message_queue(client=client, contact=contact, body=body, kind=Message.Kind.AI_REPLY)
        Message.objects.filter(pk=reply.pk).update(ai_inputs=inputs)
    return Outcome(True, "")


@dataclass(frozen=True)
class Preview:
    intent: str
    answer: str  # the text the caller would get, or "" when it hands over
    reason: str  # why it hands over, or ""


PREVIEW_CALLER = "+13125550100"


def receptionist_preview(*, client: Client, body: str, caller: str = PREVIEW_CALLER) -> Preview:
    """What the receptionist would do, now, with `body` as a new caller's first text: the settings page's test
    conversation. Nothing is saved or sent (the model is asked, if one is configured)."""
    reading = intent_of(body)
    conversation = Conversation(contact=Contact(phone_number=caller))
    message = Message(
        conversation=conversation, direction=Message.Direction.INBOUND, body=body, intent=reading.intent
    )
    reason = _before_asking(client, message, [message])
    if reason:
        return Preview(reading.intent, "", reason)
    if not settings.LLM_BASE_URL:
        return Preview(reading.intent, "", "no AI model is configured")
    facts = _facts(client)
    draft = chat(_prompt(facts, [message]), max_tokens=200)
    problem = "the AI model did not answer" if draft is None else _draft_problem(client, draft)
    if problem:
        return Preview(reading.intent, "", problem)
    assert draft is not None
    return Preview(reading.intent, _signed(draft, facts), "")


def _signed(draft: str, facts: dict[str, str]) -> str:
    return f"{draft.strip().strip(chr(34))[:400]}\n– {facts['business']}'s automated assistant"


def _hand_over(conversation: Conversation, message: Message, reason: str) -> None:
    """A person takes it from here: the conversation is flagged with the reason (unless a maybe-opt-out flag,
    the law's question, is waiting already)."""
    Conversation.objects.filter(pk=conversation.pk).exclude(flag=Conversation.Flag.MAYBE_OPT_OUT).update(
        flag=Conversation.Flag.HANDOVER, flag_words=reason[:100], flag_message=message
    )
    log.info("AI receptionist handed conversation %s over: %s", conversation.pk, reason)
