"""The intake page: a short, unguessable link per conversation ({intake_url} in a text), on the platform host, in
the agency's brand with the client's name. On a phone it asks what the job is, the address or ZIP, how urgent,
a good time, and up to 5 photos; the answers land in the conversation as one card (an inbound message of kind
"intake" with the photos), alert the staff like a reply (MessageReceived), and fill the contact's notes.

The link expires (INTAKE_DAYS), takes a few answers an hour (INTAKE_PER_HOUR per link, more per address; every
submission counts, a refused one too, before its body is read), takes at most INTAKE_MAX_REQUEST_BYTES (413) and
15 MB a photo (a larger one stops being read as it arrives), and accepts only photos: each is opened as an image and re-encoded (messaging.media.staff_photo_prepare), so what is
kept is a JPEG we made, whatever was uploaded. A code names one client and one conversation; nothing else.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils.timezone import now

from accounts.models import Client
from accounts.schemas import in_schema_of
from crm.models import Contact
from events.bus import publish

from .events import MessageReceived
from .links import open_count
from .media import STAFF_UPLOAD_MAX_BYTES, staff_photo_attach
from .models import Conversation, IntakeLink, Message
from .segments import segment_info

INTAKE_PATH = "/i/"
INTAKE_DAYS = 7
INTAKE_PER_HOUR = 5  # answers a link takes in an hour; a caller fixing a typo needs a second go, not fifty
INTAKE_PER_ADDRESS_HOUR = 20
MAX_PHOTOS = 5
# The most a submission may send: five photos at the upload limit and the answers. A longer body is refused (413)
# before a byte of it is read; Caddy refuses one past its own cap before it reaches us (deploy/Caddyfile).
INTAKE_MAX_REQUEST_BYTES = MAX_PHOTOS * STAFF_UPLOAD_MAX_BYTES + 1024 * 1024
SAMPLE_INTAKE_CODE = "x" * 14  # the settings page's preview: as long as a real code

URGENCY = [
    ("emergency", "It's an emergency"),
    ("soon", "In the next day or two"),
    ("week", "This week"),
    ("flexible", "Whenever suits"),
]


def intake_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{INTAKE_PATH}{code}"


def intake_link_for(*, client: Client, conversation_id: int, to_number: str) -> IntakeLink:
    """The conversation's intake link for a text going out now: the one it has while it has a day left, else a
    new one good for INTAKE_DAYS."""
    current = (
        IntakeLink.objects.filter(
            client=client, conversation_id=conversation_id, expires_at__gt=now() + timedelta(days=1)
        )
        .order_by("-expires_at")
        .first()
    )
    if current is not None:
        return current
    return IntakeLink.objects.create(
        client=client,
        conversation_id=conversation_id,
        to_number=to_number,
        expires_at=now() + timedelta(days=INTAKE_DAYS),
    )


def intake_open(code: str) -> IntakeLink | None:
    """The link a code names, with its client and agency; None when it names nothing we serve."""
    link = IntakeLink.objects.select_related("client__agency").filter(code=code).first()
    if link is None or link.client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        return None
    return link


def intake_expired(link: IntakeLink) -> bool:
    return link.expires_at <= now()


def intake_allowed(*, link: IntakeLink, address: str) -> bool:
    """Counts one more answer for this link and this address in the hour; False once either is over its limit."""
    hour = now().strftime("%Y%m%d%H")
    for key, limit in (
        (f"intake:{link.pk}:{hour}", INTAKE_PER_HOUR),
        (f"intake-ip:{address}:{hour}", INTAKE_PER_ADDRESS_HOUR),
    ):
        cache.add(key, 0, 3600)
        if cache.incr(key) > limit:
            return False
    return True


@dataclass
class IntakeAnswers:
    job: str
    address: str
    urgency: str
    good_time: str
    name: str = ""

    def card(self) -> str:
        """The answers as the thread's card (and the text of the inbound message)."""
        urgency = dict(URGENCY).get(self.urgency, self.urgency)
        lines = [f"Intake form: {self.job}", f"Where: {self.address}", f"How urgent: {urgency}"]
        if self.good_time:
            lines.append(f"Good time: {self.good_time}")
        if self.name:
            lines.append(f"Name: {self.name}")
        return "\n".join(lines)


@transaction.atomic
def intake_submit(*, link: IntakeLink, answers: IntakeAnswers, photos: list[bytes]) -> Message:
    """File the caller's answers in their conversation (in the client's schema): one card, its photos, the
    contact's name and notes filled, the thread unread, and the staff alerted like for a reply."""
    client = link.client
    IntakeLink.objects.filter(pk=link.pk).update(submissions=F("submissions") + 1, last_submitted_at=now())
    with in_schema_of(client):
        conversation = Conversation.objects.select_related("contact").get(pk=link.conversation_id)
        contact = Contact.objects.select_for_update(no_key=True).get(pk=conversation.contact_id)
        body = answers.card()
        info = segment_info(body)
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.INBOUND,
            kind=Message.Kind.INTAKE,
            body=body,
            status=Message.Status.RECEIVED,
            from_number=contact.phone_number,
            to_number=str(client.phone_number),
            encoding=info.encoding,
            segments=0,  # not a text: nothing was carried or billed
        )
        for jpeg in photos:
            staff_photo_attach(client=client, message=message, jpeg=jpeg)
        fields = ["updated_at"]
        if answers.name and not contact.name:
            contact.name = answers.name[:120]
            fields.append("name")
        where = f"Address: {answers.address}"
        if where not in contact.notes:
            contact.notes = f"{contact.notes}\n{where}".strip()
            fields.append("notes")
        contact.updated_at = now()
        contact.save(update_fields=fields)
        Conversation.objects.filter(pk=conversation.pk).update(
            last_activity_at=message.created_at,
            last_inbound_at=message.created_at,
            unread_count=F("unread_count") + 1,
            status=Conversation.Status.OPEN,
        )
        publish(MessageReceived(client=client, message=message, keyword=None))
    return message


# --- The caller opening the page ---------------------------------------------------------------------------
# Apart from the answers above: counted like a booking link's clicks (messaging.links.open_count).

OPEN_FIELDS = ("opens", "first_opened_at", "last_opened_at")


def intake_opened(*, link: IntakeLink, user_agent: str, count: bool = True) -> bool:
    """The caller opened the form (a GET by a person; a preview fetcher or a HEAD is not them): counted on the
    link, the first time kept for the thread's "Opened the form". True if counted."""
    return open_count(
        IntakeLink.objects.filter(pk=link.pk), user_agent=user_agent, count=count, fields=OPEN_FIELDS
    )


def intake_links_opened(*, client: Client, conversation_id: int) -> list[IntakeLink]:
    """The conversation's intake links the caller opened, first opened first (the thread's events)."""
    return list(
        IntakeLink.objects.filter(
            client=client, conversation_id=conversation_id, first_opened_at__isnull=False
        ).order_by("first_opened_at")
    )
