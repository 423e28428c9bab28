"""The AI receptionist: per client, off by default. When a caller texts, a language model (messaging.llm) may answer
at once, inside limits the client sets, and a person takes over for anything else.

It answers only when every one of these holds, and hands over to a person otherwise (the conversation is flagged
for them, with the reason, and they are alerted like for any reply):
- the client switched it on (Client.receptionist_on) and a model is configured and answers in time;
- the caller has not opted out (checked here, and again by the send path when the text goes out);
- no person is in the conversation already: no staff reply in it, however long ago, and no flag waiting for a
  person (a maybe-opt-out, or an earlier hand-over: once handed over, a conversation is a person's until a person
  clears the flag); and this is the caller's latest text;
- the text is not an emergency, and does not ask for a person ("can I talk to someone", "have someone call");
- it is a question the client's facts cover: booking only with a booking link to offer, prices only when the
  client allows them (Client.receptionist_prices) and shared some, anything else only if the model finds the
  answer in the facts (it answers HANDOVER otherwise);
- fewer than Client.receptionist_max_replies AI texts went to this conversation;
- it is inside the caller's own allowed hours (messaging.quiet_hours, the follow-up's window);
- the draft keeps the rules: no price unless allowed (no amount in figures or in words), and no commitment to
  an appointment, a day, a time or a visit it cannot make (it offers the booking link instead); a draft refused
  is kept on the caller's text, and the inbox shows the person who takes over what the AI would have said.
The booking link it offers is the short one that counts clicks and bookings (messaging.links), one per text.
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
from .links import SAMPLE_CODE, booking_link_attach, booking_link_new, link_url
from .llm import ChatMessage, chat
from .models import Conversation, Message
from .quiet_hours import next_allowed
from .services import message_queue

log = logging.getLogger(__name__)

HISTORY = 12
# Words asking for a person: the receptionist steps aside at once.
HANDOVER_WORDS = re.compile(
    r"\b(?:real|actual|live) (?:person|human)\b|\b(?:a|an|the) (?:person|human|agent|representative|manager|owner)"
    r"\b|\b(?:talk|speak) (?:to|with)\b|\b(?:call|phone|ring|text) me\b|\bcall (?:me )?back\b|\bbot\b|\brobot\b"
    r"|\bis this (?:automated|an? ai|a machine)\b|\bhuman\b"
    r"|\b(?:have|get|ask|need) (?:someone|somebody|a person|him|her|them|the \w+|a \w+) (?:to )?(?:call|ring|phone)\b"
    r"|\bsomeone (?:to |should |please )?call\b|\btransfer me\b|\bput me through\b|\bconnect me\b"
)

# --- What a draft must not say -------------------------------------------------------------------------------
# The guards read what a caller would read, sentence by sentence: a price when prices are not the receptionist's to
# give, or any commitment to a day, a time or a visit (it cannot book; it offers the booking link). The hours from
# the facts ("we're open Monday to Friday, 8am to 5pm") are not a promise, so ranges of days and times, and times
# after "open"/"close", are taken out before looking.
_NUMBER_WORDS = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    r"|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|a)"
)
PRICE_TALK = re.compile(
    r"[$€£¢]\s?\d|\d\s?[$€£]|\b\d[\d,]*(?:\.\d+)?\s?(?:k\b|dollars?|usd|bucks|cents|grand|euros?|pounds)"
    rf"|\b(?:{_NUMBER_WORDS}[ -]?(?:and )?)+(?:dollars?|bucks|cents|grand|usd)\b"
    r"|\b\d+\.\d\d\b"
    r"|\b(?:costs?|price[sd]?|pricing|fees?|charges?|charged|rates?|total|estimates?|quotes?|starts? at|starting at)"
    r"\b\W{0,3}(?:\w+\W+){0,3}?\d[\d,]*(?:\.\d+)?(?![\d:]|\s?(?:am|pm|a\.m|p\.m|st|nd|rd|th|%|hours?|days?))",
    re.IGNORECASE,
)
_DAY = (
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?s?|today|tomorrow|tonight|weekend"
    r"|(?:this|next|tomorrow|that) (?:morning|afternoon|evening|week)|(?:the )?\d{1,2}(?:st|nd|rd|th)\b"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]* \d{1,2}\b"
)
_CLOCK = r"\b\d{1,2}(?::\d\d)?\s?(?:am|pm|a\.m\.|p\.m\.|o'?clock)|\b\d{1,2}:\d\d\b|\bnoon\b|\bmidnight\b"
_RANGES = re.compile(
    rf"\b(?:{_DAY})\s?(?:-|–|—|to|through|thru|until|till)\s?(?:{_DAY})\b"
    rf"|(?:{_CLOCK}|\b\d{{1,2}})\s?(?:-|–|—|to|until|till)\s?(?:{_CLOCK}|\d{{1,2}}\b)",
    re.IGNORECASE,
)
_HOURS = re.compile(rf"\b(?:open|opens|close|closes|closed)\b[^.!?]{{0,30}}?(?:{_CLOCK})", re.IGNORECASE)
# A booking said to be made: "you're booked", "booked you in", "we have you down for", "your appointment is".
_BOOKED = (
    r"\b(?:you(?:'re| are)|it(?:'s| is)|that(?:'s| is)) (?:all )?(?:booked|scheduled|confirmed|set|reserved|locked in)"
    r"|\b(?:booked|scheduled|reserved|pencil(?:l)?ed|put|penciled|slotted|fit|squeezed|got) (?:you|it|that|your \w+)"
    r" (?:in|down|for|on|at|up)\b"
    r"|\b(?:i|we)(?:'ve| have)? (?:booked|scheduled|reserved|confirmed)\b"
    r"|\bhave you (?:down|in|booked|scheduled|set|on the)\b"
    r"|\b(?:your|the) (?:appointment|appt|visit|booking|slot|time) (?:is|has been|will be|was|for|on|at)\b"
    r"|\b(?:see|meet) you (?:at|on|then|soon|there|tomorrow|today|tonight|this|next)\b|\bconfirmed for\b"
    r"|\byou(?:'re| are) (?:all )?set for\b"
)
# Someone coming: "we will be there", "a tech will come by", "we can send someone".
_VISIT = (
    r"\b(?:i|we|someone|somebody|a tech|our tech|the tech|a technician|our technician|one of our \w+|a plumber"
    r"|our plumber|an electrician|our electrician|the crew|our crew|a crew|he|she|they"
    r"|(?!(?:you|it|this|that|which|what|there)\b)\w+)"  # "you can send us a photo" promises nothing
    r"(?:'ll|'d| will| can| could| would| is going to| are going to| is gonna| are gonna|'s going to|'re going to"
    r"|'s coming| is coming| are coming|'re coming| shall)"
    r"(?: \w+)? (?:come|be (?:there|over|out|by|at|round|around|with you)|stop (?:by|in|over)|swing (?:by|over|past)"
    r"|drop (?:by|in)|head (?:over|out|your way)|arrive|send (?:someone|somebody|a \w+|out|over)|see you|visit"
    r"|get (?:there|out|to you)|fit you|squeeze you|pop (?:by|over|in|round))\b"
    r"|\b(?:on (?:our|my|the|his|her|their) way)\b|\bsend(?:ing)? (?:someone|somebody|a tech|a technician|a crew"
    r"|out)\b|\b(?:happy|glad|able|free|ready) to (?:come|stop|swing|send|visit|drop)\b"
)
_WHEN = re.compile(rf"\b(?:{_DAY})\b|{_CLOCK}", re.IGNORECASE)
_COMMITMENT = re.compile(_BOOKED + "|" + _VISIT, re.IGNORECASE)
# A day or a time beside a word of visiting or booking is a promise too ("Thursday at 2 works", "an opening at 3").
_VISIT_WORDS = re.compile(
    r"\b(?:come|coming|visit|out|there|arrive|appointment|appt|slot|opening|booked|scheduled|available|works|"
    r"free|window|see you|how about|what about|suit|suits|good for you)\b",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


def _names_a_price(draft: str) -> bool:
    return bool(PRICE_TALK.search(draft))


def _promises_a_visit(draft: str) -> bool:
    """Whether the draft commits to an appointment, a visit, a day or a time (it can make none of them)."""
    for sentence in _SENTENCES.split(draft):
        if _COMMITMENT.search(sentence):
            return True
        rest = _HOURS.sub(" ", _RANGES.sub(" ", sentence))
        if re.search(_CLOCK, rest, re.IGNORECASE):
            return True
        if _WHEN.search(rest) and _VISIT_WORDS.search(rest):
            return True
    return False


HANDOVER = "HANDOVER"
# Reasons not to answer that need no person either: nothing is flagged.
OPTED_OUT = "the caller opted out"
# A person is in the conversation: however long ago they replied, it is theirs (nothing to flag again).
PERSON_ANSWERING = "a person is already answering this conversation"
NOT_FOR_ANSWERING = "spam, a wrong number or an opt-out: not answered"
MAYBE_OPT_OUT = "they may be asking to stop texts: a person decides"
QUIET_REASONS = (OPTED_OUT, NOT_FOR_ANSWERING, PERSON_ANSWERING, MAYBE_OPT_OUT)
# Already a person's: the conversation keeps the flag and the reason it was handed over with.
HANDED_OVER = "it was handed to a person"


@dataclass(frozen=True)
class Outcome:
    answered: bool
    reason: str  # why it handed over (for the inbox), or "" when it answered


def _facts(client: Client, booking_link: str) -> dict[str, str]:
    """What the model may say about the business. `booking_link`: the short link to the booking page for this
    one text (messaging.links), never the page itself, so an AI text's clicks and bookings count like any."""
    facts = {
        "business": client.sender_name or client.name,
        "services": client.facts_services.strip(),
        "area": client.facts_area.strip(),
        "hours": format_hours(client.business_hours) if client.business_hours else "",
        "booking link": booking_link,
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


def _before_asking(client: Client, message: Message) -> str:
    """Why the receptionist must not answer this text (a reason for the inbox), or ""."""
    contact = message.conversation.contact
    if contact.opted_out or Suppression.objects.filter(phone_number=contact.phone_number).exists():
        return OPTED_OUT
    conversation = message.conversation
    if conversation.flag == Conversation.Flag.MAYBE_OPT_OUT:
        return MAYBE_OPT_OUT
    if conversation.flag == Conversation.Flag.HANDOVER:
        return f"{HANDED_OVER} ({conversation.flag_words}): they answer until they clear it"
    if conversation.pk is not None and conversation.messages.filter(kind=Message.Kind.REPLY).exists():
        return PERSON_ANSWERING
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
    if not client.receptionist_prices and _names_a_price(draft):
        return "the AI's draft named a price"
    if _promises_a_visit(draft):
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
    reason = _before_asking(client, message)
    # The booking page only as the short link that counts its clicks, one per text sent (messaging.links).
    link = booking_link_new(
        client=client, to_number=conversation.contact.phone_number, message_kind=Message.Kind.AI_REPLY
    )
    facts = _facts(client, link_url(link.code) if link is not None else "")
    draft = None
    if not reason:
        if not settings.LLM_BASE_URL:
            reason = "no AI model is configured"
        else:
            draft = chat(_prompt(facts, history), max_tokens=200)
            reason = "the AI model did not answer" if draft is None else _draft_problem(client, draft)
    if reason:
        if reason not in QUIET_REASONS and not reason.startswith(HANDED_OVER):
            _hand_over(conversation, message, reason, draft)
        return Outcome(False, reason)
    assert draft is not None
    body = _signed(draft, facts)
    if link is not None and client.booking_url:  # the page itself, if the model wrote it, counts as the link
        body = body.replace(client.booking_url, facts["booking link"])
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
        if link is not None and link_url(link.code) in body:
            booking_link_attach(link=link, message=reply)
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
    reason = _before_asking(client, message)
    if reason:
        return Preview(reading.intent, "", reason)
    if not settings.LLM_BASE_URL:
        return Preview(reading.intent, "", "no AI model is configured")
    facts = _facts(client, link_url(SAMPLE_CODE) if client.booking_url else "")
    draft = chat(_prompt(facts, [message]), max_tokens=200)
    problem = "the AI model did not answer" if draft is None else _draft_problem(client, draft)
    if problem:
        return Preview(reading.intent, "", problem)
    assert draft is not None
    return Preview(reading.intent, _signed(draft, facts), "")


def _signed(draft: str, facts: dict[str, str]) -> str:
    return f"{draft.strip().strip(chr(34))[:400]}\n– {facts['business']}'s automated assistant"


def _hand_over(conversation: Conversation, message: Message, reason: str, draft: str | None) -> None:
    """A person takes it from here: the conversation is flagged with the reason (unless it is flagged already: a
    maybe-opt-out, the law's question, or an earlier hand-over keeps its own reason). A draft the rules refused is
    kept on the caller's text, so the person sees what the AI would have said."""
    Conversation.objects.filter(pk=conversation.pk, flag="").update(
        flag=Conversation.Flag.HANDOVER, flag_words=reason[:100], flag_message=message
    )
    if draft is not None:
        Message.objects.filter(pk=message.pk).update(
            ai_inputs={"model": settings.LLM_MODEL, "refused_draft": draft, "refused_because": reason}
        )
    log.info("AI receptionist handed conversation %s over: %s", conversation.pk, reason)
