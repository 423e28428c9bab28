"""Keywords that act: a caller's whole text is one of the words a business switched on to do something for them,
on top of STOP, HELP and START (messaging.keywords: the law's words, handled first and never shadowed here).

- URGENT or EMERGENCY: the on-call person is alerted at once, whatever the business hours (inbox.notifications.
  notify_urgent hears KeywordActed: a text to the mobile they confirmed, and a call if the client wants one).
- BOOK or SCHEDULE: the caller is answered with the booking page, as a tracked short link (messaging.links).

Each pair is a per-client switch (Client.urgent_keywords, Client.book_keywords). Like the law's keywords, a word
counts only as the whole message, in any case, punctuation and look-alike letters aside: "Urgent!" acts, "is it
urgent?" is an ordinary reply. The rule that fired and what came of it are kept on the caller's message
(Message.action, Message.action_note): the thread shows them. The caller's text is still a reply the staff hear
about like any other.
"""

import re
import unicodedata

from accounts.models import Client
from events.bus import publish

from .events import KeywordActed
from .links import booking_link_attach, booking_link_new, link_url
from .models import Message
from .services import message_queue

Action = Message.Action


WORDS: dict[str, Action] = {
    "urgent": Action.URGENT,
    "emergency": Action.URGENT,
    "book": Action.BOOK,
    "schedule": Action.BOOK,
}

_SEPARATORS = re.compile(r"[\W_]+")


def _word(text: str) -> str:
    """The whole message folded to its words: " Urgent!! " → "urgent", "ＢＯＯＫ" → "book"."""
    return _SEPARATORS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def is_action_word(body: str) -> bool:
    """The whole of ``body`` is one of the action keywords, whether or not the client switched its rule on: the
    keyword's switch decides for it, not the intent rules (messaging.intents) that would read "URGENT" too."""
    return _word(body) in WORDS


def action_for(*, client: Client, body: str) -> Action | None:
    """The rule the whole of ``body`` sets off at this client, or None (a word the client switched off is an
    ordinary reply)."""
    action = WORDS.get(_word(body))
    if action == Action.URGENT and not client.urgent_keywords:
        return None
    if action == Action.BOOK and not client.book_keywords:
        return None
    return action


def action_take(*, client: Client, message: Message) -> Action | None:
    """Act on a caller's text if it is a keyword (in the client's schema, in the transaction that recorded it):
    record the rule on the message, queue the BOOK answer, and publish KeywordActed (the URGENT alert)."""
    action = action_for(client=client, body=message.body)
    if action is None:
        return None
    note = _booking_link_send(client=client, message=message) if action == Action.BOOK else ""
    Message.objects.filter(pk=message.pk).update(action=action, action_note=note)
    message.action, message.action_note = action, note
    publish(KeywordActed(client=client, message=message, action=action))
    return action


def _booking_link_send(*, client: Client, message: Message) -> str:
    """Answer BOOK with the booking page as a short link of its own; returns what the thread says happened."""
    contact = message.conversation.contact
    if contact.opted_out:
        return "The caller has opted out of texts, so no booking link was sent."
    link = booking_link_new(
        client=client, to_number=contact.phone_number, message_kind=Message.Kind.AUTO_REPLY
    )
    if link is None:
        return "No booking page is set (Settings → After the first text), so nothing was sent."
    body = f"{client.sender_name or client.name}: book a time that suits you here: {link_url(link.code)}"
    reply = message_queue(client=client, contact=contact, body=body, kind=Message.Kind.AUTO_REPLY)
    booking_link_attach(link=link, message=reply)
    return "Sent the booking link."


def action_noted(*, message: Message, note: str) -> None:
    """What an action's follow-through did (the URGENT alert: who was texted, rung or emailed), for the thread."""
    Message.objects.filter(pk=message.pk).update(action_note=note[:200])
