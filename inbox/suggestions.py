"""A suggested reply in the thread: a draft from the client's facts (services, area, hours, the prices it chose
to share, its booking link) and the conversation, which a person edits and sends through the one send path
(services.conversation_reply). Nothing here sends anything.

With a language model configured (messaging.llm) the draft is the model's, told the facts and the last texts and
told what it must not do (make up prices, appointments or anything the facts do not say); without one, or when it
is slow, down or answers nothing, the draft is the rules': a sentence per intent of the caller's latest reply
(messaging.intents), filled from the same facts. Never silence, never an error page."""

from dataclasses import dataclass

from accounts.hours import format_hours
from accounts.models import Client
from messaging.intents import Intent, intent_of
from messaging.links import SAMPLE_CODE, link_url
from messaging.llm import ChatMessage, chat
from messaging.models import Conversation, Message, link_code

# How much of the thread the model reads: the latest texts, oldest first.
HISTORY = 12
MAX_LENGTH = 600


@dataclass(frozen=True)
class Suggestion:
    body: str
    by_model: bool  # drafted by the language model; else by the rules


def client_facts(client: Client, booking_link: str) -> dict[str, str]:
    """What a draft may say about the business, and nothing else. Prices only if it chose to share them.
    `booking_link`: the short link to the booking page (messaging.links), never the page itself, so a click on a
    staff text counts like one on the text-back."""
    facts = {
        "business": client.sender_name or client.name,
        "services": client.facts_services.strip(),
        "area": client.facts_area.strip(),
        "hours": format_hours(client.business_hours) if client.business_hours else "",
        "prices": client.facts_prices.strip(),
        "booking link": booking_link if client.booking_url else "",
    }
    return {name: value for name, value in facts.items() if value}


def _rules_draft(client: Client, facts: dict[str, str], intent: str) -> str:
    business = facts["business"]
    if intent == Intent.BOOKING:
        if "booking link" in facts:
            return (
                f"Thanks for getting back to {business}! You can pick a time that suits you here: "
                f"{facts['booking link']} — or reply with a day and time and we'll confirm."
            )
        return f"Thanks for getting back to {business}! What day and time suit you? We'll confirm with you."
    if intent == Intent.PRICE:
        if "prices" in facts:
            return f"Thanks for asking! {facts['prices']} We'll give you an exact price once we know the job."
        return "Thanks for asking! It depends on the job: can you tell us a little more so we can give you a price?"
    if intent == Intent.EMERGENCY:
        return (
            f"{business} here, we're on it and will call you right away. If anyone is in danger (gas, fire, "
            "sparks), get out and call 911."
        )
    if intent == Intent.EXISTING_JOB:
        return f"Thanks for the message! We're checking on your job now and will get right back to you. – {business}"
    if intent == Intent.WRONG_NUMBER:
        return f"Sorry for the mix-up, and thanks for letting us know! – {business}"
    services = f" We do {facts['services'][0].lower()}{facts['services'][1:]}." if "services" in facts else ""
    return f"Thanks for your reply!{services} How can we help? – {business}"


def rules_draft(*, client: Client, intent: str) -> str:
    """The rules' draft for a reply of this intent (the settings page's test conversation shows it, with a sample
    short link: nothing is sent)."""
    return _rules_draft(client, client_facts(client, link_url(SAMPLE_CODE)), intent)


def _model_messages(facts: dict[str, str], history: list[Message]) -> list[ChatMessage]:
    known = "\n".join(f"- {name}: {value}" for name, value in facts.items())
    system = (
        f"You draft one text message (SMS) for staff at {facts['business']} to send to a caller. A person reads and "
        "edits it before it is sent. Write only the message: friendly, plain, under 300 characters.\n"
        "Use only these facts about the business; never make up anything else (no services, areas, hours or "
        "discounts they do not list):\n"
        f"{known}\n"
        + ("" if "prices" in facts else "Never mention a price or a cost estimate.\n")
        + "Never promise or invent an appointment, a time or a visit: offer the booking link or ask what suits "
        "them. If the caller describes danger (gas, fire, sparks, flooding), tell them to get safe and call 911."
    )
    thread = "\n".join(
        f"{'Caller' if m.direction == Message.Direction.INBOUND else 'Business'}: {m.body}" for m in history
    )
    return [
        ChatMessage("system", system),
        ChatMessage("user", f"The conversation so far:\n{thread}\n\nDraft the reply."),
    ]


def reply_suggest(*, client: Client, conversation: Conversation) -> Suggestion:
    """A draft answer to the caller's latest text (in the client's schema). Its booking link is a fresh short
    link, saved only if a person sends a text carrying it (messaging.links.booking_links_claim)."""
    facts = client_facts(client, link_url(link_code()))
    history = list(reversed(conversation.messages.order_by("-created_at", "-id")[:HISTORY]))
    latest = next((m for m in reversed(history) if m.direction == Message.Direction.INBOUND), None)
    intent = (latest.intent or intent_of(latest.body).intent) if latest else Intent.OTHER
    if history:
        drafted = chat(_model_messages(facts, history))
        if drafted:
            if "booking link" in facts:  # the page itself, if the model wrote it, goes as the counted link
                drafted = drafted.replace(client.booking_url, facts["booking link"])
            return Suggestion(drafted.strip().strip('"')[:MAX_LENGTH], by_model=True)
    return Suggestion(_rules_draft(client, facts, intent), by_model=False)
