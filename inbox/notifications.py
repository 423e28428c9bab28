"""Telling the business's people what happened: a missed call, a caller's reply, and a reply left waiting
longer than the client's response target (counted in business hours). Each person picks what they hear about,
by email, by a text to their own mobile, and by web push to the devices where they turned notifications on
(inbox.NotificationPreference, inbox.push).

Alerts to staff are not texts to callers: they go straight to the provider from the business's number
(messaging.services.staff_text_send, metered like any text), not through the send ledger (which is the caller's
consent and "never twice" machinery), and only to a mobile the person confirmed with a code we texted it, never
to a caller's or opted-out number. A repeated task must not alert twice, so every alert is claimed once in the
cache first.
"""

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from twilio.twiml.voice_response import VoiceResponse

from accounts.hours import open_deadline
from accounts.models import Client, ClientMembership, User
from accounts.services import brand_from_email, client_url
from config.db import columns_of, model_from_row
from messaging.actions import action_noted
from messaging.carriers import provider_for
from messaging.models import Conversation, Message
from messaging.providers import ProviderError
from messaging.services import staff_number_problem, staff_text_send
from telephony.models import Call

from . import push
from .models import AlertText, EscalationSent, NotificationPreference, PushSubscription, StaffTextReply

log = logging.getLogger(__name__)

# What a person hears about before they choose, by email and on the devices where they turn notifications on:
# owners everything, staff calls and replies, read-only staff nothing. Texts are opt-in for everyone (they need a
# number), and push reaches nobody until they turn it on in a browser.
_ROLE_EVENTS = {
    ClientMembership.Role.OWNER: {"missed_call", "reply", "escalation"},
    ClientMembership.Role.STAFF: {"missed_call", "reply"},
    ClientMembership.Role.READONLY: set(),
}
ROLE_DEFAULTS = {
    role: {
        f"{event}_{channel}": event in events
        for event in NotificationPreference.EVENTS
        for channel in ("email", "push")
    }
    for role, events in _ROLE_EVENTS.items()
}


def preference_for(*, user: User, role: str) -> NotificationPreference:
    """This person's choices at the current client (in its schema), or their role's defaults, unsaved."""
    saved = NotificationPreference.objects.filter(user_id=user.pk).first()
    return saved or NotificationPreference(user_id=user.pk, **ROLE_DEFAULTS.get(role, {}))


@dataclass
class Recipient:
    user: User
    email: bool
    text_to: str
    devices: list[PushSubscription] = field(default_factory=list)


@functools.cache
def _memberships_sql() -> str:
    """The client's memberships of active people, with the people (written out once: the ORM took about a
    millisecond of CPU to compile this join of two wide tables on every alert)."""
    columns = [*columns_of(ClientMembership, "m"), *columns_of(User, "u")]
    return (
        f"SELECT {', '.join(columns)} FROM {ClientMembership._meta.db_table} m "
        f"JOIN {User._meta.db_table} u ON u.id = m.user_id WHERE m.client_id = %s AND u.is_active"
    )


def _memberships_of(client: Client) -> list[ClientMembership]:
    with connection.cursor() as cursor:
        cursor.execute(_memberships_sql(), [client.pk])
        rows = cursor.fetchall()
    width = len(ClientMembership._meta.concrete_fields)
    memberships = []
    for row in rows:
        membership = model_from_row(ClientMembership, row[:width])
        membership.user = model_from_row(User, row[width:])
        memberships.append(membership)
    return memberships


def recipients(*, client: Client, event: str) -> list[Recipient]:
    """The client's people who want to hear about `event`, and how. Run in the client's schema."""
    memberships = _memberships_of(client)
    saved = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in=[m.user_id for m in memberships])
    }
    preferences = [
        (
            membership,
            saved.get(membership.user_id)
            or NotificationPreference(user_id=membership.user_id, **ROLE_DEFAULTS.get(membership.role, {})),
        )
        for membership in memberships
    ]
    devices: dict[int, list[PushSubscription]] = {}
    wants_push = [m.user_id for m, preference in preferences if preference.wants(event, "push")]
    if wants_push and push.enabled():
        for device in PushSubscription.objects.filter(user_id__in=wants_push):
            devices.setdefault(device.user_id, []).append(device)
    found = []
    for membership, preference in preferences:
        email, text = preference.wants(event, "email"), preference.wants(event, "text")
        theirs = devices.get(membership.user_id, [])
        if email or text or theirs:
            found.append(Recipient(membership.user, email, str(preference.text_to) if text else "", theirs))
    return found


def _once(key: str) -> bool:
    """True the first time this alert is claimed (for a day): a task run twice alerts once. Keys name the event
    by Twilio's sid, which is never reused, not by a row id, which a restored or truncated table can repeat."""
    return cache.add(f"alerted:{key}", 1, 24 * 3600)


def _alert(
    *,
    client: Client,
    event: str,
    key: str,
    subject: str,
    body: str,
    short: str,
    conversation_id: int | None,
    glance: str = "",
) -> int:
    """Email (`subject`, `body`), text (`short`) and push (`subject`, and `glance` or else `short`) to whoever
    wants `event`. About a conversation, a push opens its thread, and a text says that answering it by text
    answers the caller (inbox.staff_texts). Returns how many people were alerted."""
    path = f"/inbox/{conversation_id}/" if conversation_id else "/inbox/"
    if conversation_id:
        short = f"{short[:240]} Reply to this text to answer them."
    alerted = 0
    for recipient in recipients(client=client, event=event):
        if not _once(f"{client.pk}:{key}:{recipient.user.pk}"):
            continue
        if recipient.email:
            send_mail(
                subject=subject,
                message=body,
                from_email=brand_from_email(client.agency),
                recipient_list=[recipient.user.email],
                fail_silently=True,
            )
        if recipient.text_to and client.phone_number:
            try:
                # Only a confirmed mobile is a recipient's text_to (NotificationPreference.wants); the send
                # refuses a caller's or opted-out number and meters the text.
                texted = staff_text_send(
                    client=client,
                    to_number=recipient.text_to,
                    body=short[:300],
                    source=f"alert:{key}:{recipient.user.pk}",
                )
                if texted and conversation_id:
                    AlertText.objects.create(user_id=recipient.user.pk, conversation_id=conversation_id)
            except ProviderError as exc:
                log.warning("could not text %s an alert: %s", recipient.user.email, exc)
        for device in recipient.devices:
            push.push_send(device, title=subject, body=glance or short, path=path, tag=key)
        alerted += 1
    return alerted


def notify_missed_call(*, client: Client, call: Call) -> int:
    who = call.caller_name or call.from_number
    # A push opens the caller's thread (where the text-back shows) when there is one yet.
    thread = None
    if call.contact_id is not None:
        with (
            connection.cursor() as cursor
        ):  # written out: compiling the ORM's query cost more than running it
            cursor.execute(
                f"SELECT id FROM {Conversation._meta.db_table} WHERE contact_id = %s "
                "ORDER BY last_activity_at DESC LIMIT 1",
                [call.contact_id],
            )
            row = cursor.fetchone()
        thread = row[0] if row else None
    return _alert(
        client=client,
        event="missed_call",
        key=f"call:{call.call_sid}",
        subject=f"Missed call from {who} at {client.name}",
        body=(
            f"{who} called {client.name} and nobody picked up. We texted them back (unless they can't get "
            f"texts); their reply will land in your inbox.\n\n{client_url(client)}inbox/"
        ),
        short=f"{client.name}: missed call from {who}. We texted them back.",
        conversation_id=thread,
    )


def notify_reply(*, client: Client, message: Message) -> int:
    contact = message.conversation.contact
    link = f"{client_url(client)}inbox/{message.conversation_id}/"
    return _alert(
        client=client,
        event="reply",
        key=f"reply:{message.provider_sid or message.pk}",
        subject=f"{contact.display_name} replied to {client.name}",
        body=f"{contact.display_name} wrote:\n\n{message.body}\n\nAnswer it: {link}",
        short=f"{client.name}: {contact.display_name} replied: {message.body[:120]} {link}",
        glance=message.body[:200],
        conversation_id=message.conversation_id,
    )


def reply_due_at(*, client: Client, message: Message) -> datetime:
    """When a caller's reply becomes overdue: the client's response target, counted in its business hours."""
    return open_deadline(
        client.business_hours,
        client.closures,
        ZoneInfo(client.timezone),
        message.created_at,
        client.response_target_minutes,
    )


def reply_is_answered(*, message: Message) -> bool:
    """Someone at the business answered after this reply (a staff text), or closed the conversation."""
    conversation = message.conversation
    if conversation.status == conversation.Status.CLOSED:
        return True
    return Message.objects.filter(
        conversation_id=conversation.pk, kind=Message.Kind.REPLY, created_at__gte=message.created_at
    ).exists()


def escalate_reply(*, client: Client, message: Message) -> int:
    """Alert the people who want escalations that a caller's reply has waited past the response target,
    once. The caller of this function has checked it is due."""
    if reply_is_answered(message=message):
        return 0
    try:
        with transaction.atomic():
            EscalationSent.objects.create(message_id=message.pk)
    except IntegrityError:
        return 0  # escalated already
    contact = message.conversation.contact
    minutes = client.response_target_minutes
    link = f"{client_url(client)}inbox/{message.conversation_id}/"
    return _alert(
        client=client,
        event="escalation",
        key=f"escalation:{message.provider_sid or message.pk}",
        subject=f"{contact.display_name} has waited over {minutes} minutes for an answer",
        body=(
            f"{contact.display_name} texted {client.name} and nobody has answered yet "
            f"(your target is {minutes} minutes in business hours):\n\n{message.body}\n\nAnswer it: {link}"
        ),
        short=f"{client.name}: {contact.display_name} has waited {minutes}+ min for an answer. {link}",
        glance=f"Waiting {minutes}+ min for an answer: {message.body[:160]}",
        conversation_id=message.conversation_id,
    )


def _urgent_people(client: Client) -> tuple[list[User], bool]:
    """Who an URGENT text alerts: the on-call person while they still belong to the client, else its owners (a
    business that switched the keywords on but named nobody still hears of it). And whether it is the former."""
    members = ClientMembership.objects.filter(client=client, user__is_active=True).select_related("user")
    if client.oncall_user_id:
        oncall = members.filter(user_id=client.oncall_user_id).first()
        if oncall is not None:
            return [oncall.user], True
    return [m.user for m in members.filter(role=ClientMembership.Role.OWNER)], False


def _ring(*, client: Client, to_number: str, who: str) -> bool:
    """Ring a staff mobile from the business's number with a short spoken alert. Never a caller's or an
    opted-out number (staff_number_problem), as for staff texts."""
    problem = staff_number_problem(number=to_number)
    if problem:
        log.warning("urgent call to %s not placed: %s", to_number, problem)
        return False
    say = VoiceResponse()
    say.say(f"Urgent text for {client.name} from {who}. Check your texts and call them back.")
    try:
        # Through the agency's carrier (Twilio's Calls API in its own account, or Telnyx's TeXML Calls API).
        provider_for(client).call(from_number=str(client.phone_number), to_number=to_number, twiml=str(say))
    except ProviderError as exc:
        log.warning("could not ring %s for an urgent text: %s", to_number, exc)
        return False
    return True


def notify_urgent(*, client: Client, message: Message) -> str:
    """A caller texted URGENT or EMERGENCY: alert the on-call person at once, whatever the business hours, by
    email, by a text to the mobile they confirmed and, if the client wants, a call to it. Once per text (a
    repeated task alerts nobody twice). Returns, and notes on the message for the thread, what was done."""
    if not _once(f"{client.pk}:urgent:{message.provider_sid or message.pk}"):
        return ""
    contact = message.conversation.contact
    link = f"{client_url(client)}inbox/{message.conversation_id}/"
    people, on_call = _urgent_people(client)
    preferences = {
        p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=[u.pk for u in people])
    }
    done = []
    for person in people:
        how = []
        send_mail(
            subject=f"URGENT: {contact.display_name} texted {client.name}",
            message=f"{contact.display_name} ({contact.phone_number}) texted {message.body!r}. Call them "
            f"back now.\n\n{link}",
            from_email=brand_from_email(client.agency),
            recipient_list=[person.email],
            fail_silently=True,
        )
        how.append("emailed")
        preference = preferences.get(person.pk)
        mobile = str(preference.text_to) if preference and preference.text_to_is_confirmed else ""
        if mobile and client.phone_number:
            try:
                if staff_text_send(
                    client=client,
                    to_number=mobile,
                    body=f"{client.name}: URGENT from {contact.display_name} {contact.phone_number}. "
                    f"Call them back now. {link} Reply to this text to answer them.",
                    source=f"urgent:{message.provider_sid or message.pk}:{person.pk}",
                ):
                    how.append("texted")
                    AlertText.objects.create(user_id=person.pk, conversation_id=message.conversation_id)
            except ProviderError as exc:
                log.warning("could not text %s an urgent alert: %s", person.email, exc)
            if (
                on_call
                and client.oncall_call
                and _ring(client=client, to_number=mobile, who=contact.display_name)
            ):
                how.append("rang")
        name = person.name or person.email
        done.append(f"{name} ({', '.join(how)})")
    if not people:
        note = "Nobody to alert: choose an on-call person in Settings."
    elif on_call:
        note = f"Alerted the on-call person: {done[0]}."
    else:
        note = f"No on-call person set; alerted the owners: {'; '.join(done)}."
    action_noted(message=message, note=note)
    return note


def staff_text_confirm(*, client: Client, reply: StaffTextReply) -> bool:
    """Tell a staff member by text what became of their text answering an alert (inbox.staff_texts): sent to
    the caller, or not and why. Once per text they sent."""
    if not _once(f"{client.pk}:staff-reply:{reply.sid}"):
        return False
    preference = NotificationPreference.objects.filter(user_id=reply.user_id).first()
    if preference is None or not preference.text_to_is_confirmed or not client.phone_number:
        return False
    name = reply.conversation.contact.display_name
    body = (
        f"{client.name}: sent to {name}."
        if reply.message_id
        else f"{client.name}: NOT sent to {name}. {reply.refused}"
    )
    try:
        return staff_text_send(
            client=client,
            to_number=str(preference.text_to),
            body=body[:300],
            source=f"staff-reply:{reply.sid}",
        )
    except ProviderError as exc:
        log.warning("could not confirm staff text %s: %s", reply.sid, exc)
        return False
