"""What staff do to a conversation: reply, read, assign, settle a flag, close, reopen, snooze, note, record an
outcome.

Keyword-only, in the client's schema. Replies go through messaging's one send path (message_queue)."""

import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now

from accounts.models import Client, User
from crm.events import OutcomeRecorded
from crm.models import Contact, Outcome, suppressed
from events.bus import publish
from messaging.keywords import Keyword
from messaging.links import booking_links_claim
from messaging.media import PhotoRefused, staff_photo_attach, staff_photo_prepare
from messaging.models import ConsentEvent, Conversation, Message
from messaging.providers import ProviderError
from messaging.services import contact_opt_out, keyword_reply_text, message_queue, staff_text_send
from telephony.models import Call

from .models import CannedReply, Note, NotificationPreference
from .selectors import client_assignable_users


class InboxError(Exception):
    """Something staff asked for that cannot be done; the message is for them."""


class ReplyRefused(InboxError):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code  # the API's error code (409 opted_out / no_consent)


OPTED_OUT_REFUSAL = (
    "{name} has opted out of texts (they replied STOP), so this reply was not sent. "
    "They can text START to your number to hear from you again."
)
NO_CONSENT_REFUSAL = (
    "{name} has never called or texted you and has not asked to be texted, so this was not sent: texting "
    "someone out of the blue needs their consent. Record it on their contact page once they have given it."
)


def _consent_known() -> dict:
    """What the reply rules need about the caller, as annotations on the statement that locks their row: the
    number's opt-out (crm.Suppression, which outlives contact rows), and whether they ever reached the business
    (a call, a text) or asked to be texted (their latest consent event is an opt-in)."""
    latest_consent = ConsentEvent.objects.filter(phone_number=OuterRef("phone_number")).order_by(
        "-created_at", "-id"
    )
    return {
        "suppressed": suppressed(OuterRef("phone_number")),
        "reached_us": Exists(Call.objects.filter(contact_id=OuterRef("pk")))
        | Exists(
            Message.objects.filter(
                conversation__contact_id=OuterRef("pk"), direction=Message.Direction.INBOUND
            )
        ),
        "latest_consent": Subquery(latest_consent.values("kind")[:1]),
    }


@transaction.atomic
def conversation_reply(
    *, client: Client, conversation: Conversation, body: str, user: User, photo=None
) -> Message:
    """Queue a staff (or API) text to the caller. Refused here, before anything is written, for a number that
    opted out (the worker would refuse it too, but staff should know now, not find a failed message later),
    and for someone who never called or texted the business and never gave consent: no cold outreach."""
    body = body.strip()
    if not body:
        raise ReplyRefused("Write something to send.")
    try:
        jpeg = staff_photo_prepare(photo) if photo is not None else b""
    except PhotoRefused as exc:
        raise ReplyRefused(str(exc), code="photo") from exc
    contact = (
        Contact.objects.select_for_update(no_key=True, of=("self",))
        .annotate(**_consent_known())
        .get(pk=conversation.contact_id)
    )
    name = contact.name or contact.phone_number
    if contact.opted_out or contact.suppressed:
        raise ReplyRefused(OPTED_OUT_REFUSAL.format(name=name), code="opted_out")
    if not contact.reached_us and contact.latest_consent != ConsentEvent.Kind.OPT_IN:
        raise ReplyRefused(NO_CONSENT_REFUSAL.format(name=name), code="no_consent")
    message = message_queue(
        client=client, contact=contact, body=body, kind=Message.Kind.REPLY, sent_by_id=user.pk
    )
    if jpeg:
        staff_photo_attach(client=client, message=message, jpeg=jpeg)
    booking_links_claim(client=client, message=message)  # a suggested reply's booking link counts from here
    # Answering a caller reopens the thread and means it has been read.
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.OPEN, closed_at=None, unread_count=0
    )
    return message


def conversation_mark_read(*, conversation: Conversation) -> None:
    if conversation.unread_count:
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0


def conversation_assign(*, client: Client, conversation: Conversation, assignee_id: int | None) -> None:
    """Give the conversation to one of the client's people or its agency's staff; None unassigns."""
    if assignee_id is not None and assignee_id not in {u.pk for u in client_assignable_users(client=client)}:
        raise InboxError("That person can't be assigned here.")
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to_id=assignee_id)
    conversation.assigned_to_id = assignee_id


@transaction.atomic
def conversation_flag_settle(*, client: Client, conversation: Conversation, opt_out: bool) -> None:
    """A person read a reply the rules were unsure about (messaging.keywords.revocation). `opt_out`: it asked to
    stop the texts, so the number is opted out with that message as the source and the caller gets the one
    confirmation; otherwise the flag is simply cleared."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "flag_message")
        .get(pk=conversation.pk)
    )
    if not conversation.flag:
        return  # settled a moment ago (another tab, another person, or an opt-out)
    contact = conversation.contact
    if (
        opt_out and conversation.flag == Conversation.Flag.MAYBE_OPT_OUT
    ):  # only that question ends in an opt-out
        message = conversation.flag_message
        changed = contact_opt_out(
            client=client,
            contact=contact,
            source=ConsentEvent.Source.REPLY,  # the caller's message revoked it; a person read it so
            keyword=conversation.flag_words[:40],
            message_sid=(message.provider_sid or "") if message else "",
        )
        if changed:
            message_queue(
                client=client,
                contact=contact,
                body=keyword_reply_text(client=client, keyword=Keyword.OPT_OUT),
                kind=Message.Kind.KEYWORD_REPLY,
            )
    Conversation.objects.filter(pk=conversation.pk).update(flag="", flag_words="", flag_message=None)


def conversation_close(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.CLOSED, closed_at=now(), snoozed_until=None
    )


def conversation_reopen(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.OPEN, closed_at=None)


class Snooze:
    HOUR = "1h"
    TOMORROW = "tomorrow"
    NONE = "none"
    CHOICES = [(HOUR, "1 hour"), (TOMORROW, "Tomorrow 8 am"), (NONE, "Unsnooze")]


def snooze_until(*, client: Client, choice: str, at: datetime | None = None) -> datetime | None:
    """When a snooze ends: in an hour, or at 8 am tomorrow in the client's time zone (DST-safe)."""
    at = at or now()
    if choice == Snooze.HOUR:
        return at + timedelta(hours=1)
    if choice == Snooze.TOMORROW:
        zone = ZoneInfo(client.timezone)
        tomorrow = at.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(8, 0), tzinfo=zone)
    return None


def conversation_snooze(*, client: Client, conversation: Conversation, choice: str) -> datetime | None:
    until = snooze_until(client=client, choice=choice)
    Conversation.objects.filter(pk=conversation.pk).update(snoozed_until=until)
    conversation.snoozed_until = until
    return until


def note_add(*, conversation: Conversation, author: User, body: str) -> Note:
    body = body.strip()
    if not body:
        raise InboxError("A note needs some text.")
    return Note.objects.create(conversation=conversation, author_id=author.pk, body=body)


@transaction.atomic
def outcome_record(
    *,
    client: Client,
    conversation: Conversation,
    kind: str,
    user: User,
    value: Decimal | None = None,
    lost_reason: str = "",
) -> Outcome:
    """Booked, won (with the job's value) or lost (with why): a new crm.Outcome row, the latest of which is
    the contact's outcome. The recovered-revenue report reads these rows."""
    if kind == Outcome.Kind.WON and (value is None or value < 0):
        raise InboxError("A won job needs its value (0 or more).")
    if kind == Outcome.Kind.LOST and not lost_reason.strip():
        raise InboxError("Say why it was lost.")
    if kind not in Outcome.Kind.values:
        raise InboxError("Unknown outcome.")
    outcome = Outcome.objects.create(
        contact_id=conversation.contact_id,
        kind=kind,
        value=value if kind == Outcome.Kind.WON else None,
        lost_reason=lost_reason.strip()[:200] if kind == Outcome.Kind.LOST else "",
        recorded_by_id=user.pk,
    )
    publish(OutcomeRecorded(client=client, outcome=outcome, conversation_id=conversation.pk))
    return outcome


def canned_reply_create(*, title: str, body: str) -> CannedReply:
    return CannedReply.objects.create(title=title.strip(), body=body.strip())


def canned_reply_delete(*, canned_reply: CannedReply) -> None:
    canned_reply.delete()


def notification_preference_save(*, preference: NotificationPreference) -> NotificationPreference:
    preference.updated_at = now()
    preference.save()
    return preference


# --- Confirming a mobile for alerts --------------------------------------------------------------------------
# Alert texts carry callers' names and words and cost the business money: they go only to a number that proved
# it is the person's own by answering a code we texted it, and never to a caller's or opted-out number
# (messaging.services.staff_number_problem, checked again at every send).

CODE_LIFETIME = timedelta(minutes=10)
CODE_RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5  # per person at this client: a page must not become a way to text a stranger on repeat
CODE_ATTEMPTS = 5  # wrong guesses before the code is void
CODE_COUNTER = "notification-codes:{user_id}"  # codes sent this hour (the cache is per client)


def _code_hash(preference: NotificationPreference, code: str) -> str:
    return salted_hmac(
        "inbox.notification-number", f"{preference.user_id}:{preference.text_to}:{code}", algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def notification_number_send_code(*, client: Client, preference: NotificationPreference) -> None:
    """Text a fresh six-digit code to the person's mobile (metered like any text). InboxError says why not."""
    preference = NotificationPreference.objects.select_for_update().get(pk=preference.pk)
    if not preference.text_to:
        raise InboxError("Save your mobile number first.")
    if preference.text_to_is_confirmed:
        raise InboxError("That number is confirmed already.")
    if preference.code_sent_at and preference.code_sent_at > now() - CODE_RESEND_AFTER:
        raise InboxError("A code is on its way; wait a minute before asking for another.")
    counter = CODE_COUNTER.format(user_id=preference.user_id)
    cache.add(counter, 0, timeout=3600)
    if cache.incr(counter) > CODES_PER_HOUR:
        raise InboxError("Too many codes this hour; try again later.")
    code = f"{secrets.randbelow(10**6):06d}"
    sent_at = now()
    try:
        sent = staff_text_send(
            client=client,
            to_number=str(preference.text_to),
            source=f"code:{preference.user_id}:{sent_at.timestamp()}",
            body=f"{client.name}: your code to get alerts by text is {code}. If you did not ask for it, ignore this.",
        )
    except ProviderError:
        raise InboxError("The code could not be sent just now; try again in a moment.") from None
    if not sent:
        raise InboxError("Alerts go to your own mobile only; that number cannot get them.")
    NotificationPreference.objects.filter(pk=preference.pk).update(
        code_hash=_code_hash(preference, code), code_sent_at=sent_at, code_attempts=0
    )


def notification_number_confirm(*, preference: NotificationPreference, code: str) -> None:
    """The person typed the code we texted: their mobile gets alerts from now on. InboxError says why not; a
    wrong guess is counted (and stays counted: the refusal is raised after the transaction)."""
    with transaction.atomic():
        preference = NotificationPreference.objects.select_for_update().get(pk=preference.pk)
        live = (
            preference.code_hash
            and preference.code_sent_at
            and preference.code_sent_at > now() - CODE_LIFETIME
            and preference.code_attempts < CODE_ATTEMPTS
        )
        right = live and constant_time_compare(_code_hash(preference, code.strip()), preference.code_hash)
        if right:
            NotificationPreference.objects.filter(pk=preference.pk).update(
                text_to_confirmed=preference.text_to, code_hash="", code_sent_at=None, code_attempts=0
            )
        elif live:
            NotificationPreference.objects.filter(pk=preference.pk).update(
                code_attempts=F("code_attempts") + 1
            )
    if not live:
        raise InboxError("That code has expired or was guessed wrong too often; ask for a new one.")
    if not right:
        raise InboxError("That is not the code we sent.")
