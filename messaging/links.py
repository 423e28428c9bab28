"""Links in our texts. A caller never gets the business's booking page itself: they get a short link on the
platform host (``/l/<code>``), which redirects there and counts the click for that one text. That is how the
thread shows "opened the booking link" and the report counts clicked → booked.

The redirect goes only to the client's own booking page as it is set now (a client that changes or removes it
changes where old texts lead); a code names nothing else, so an unknown or retired one is a plain 404.
"""

import re
from datetime import datetime

from django.conf import settings
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils.timezone import now

from accounts.models import Client

from .models import LINK_ALPHABET, Message, TrackedLink

# Link-preview fetchers (iMessage and WhatsApp fetch a link as soon as the text arrives) and scripts: a fetch by
# one of them is not the caller opening the link. iMessage announces itself as facebookexternalhit.
_NOT_A_PERSON = re.compile(
    r"bot|crawl|spider|preview|facebookexternalhit|whatsapp|slack|discord|telegram|skype|curl|wget|python-",
    re.IGNORECASE,
)


LINK_PATH = "/l/"
# TrackedLink's fields that open_count keeps: how many opens, the first, the last.
CLICK_FIELDS = ("clicks", "first_clicked_at", "last_clicked_at")


def link_url(code: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{LINK_PATH}{code}"


# What {booking_url} reads as in the settings page's preview: as long as a real one, so the segment count holds.
SAMPLE_CODE = "x" * 10


def booking_link_new(*, client: Client, to_number: str, message_kind: str) -> TrackedLink | None:
    """An unsaved booking link for one text to one caller, or None when the client has no booking page. Save
    it once its message is written (booking_link_attach): the text's body needs the code first."""
    if not client.booking_url:
        return None
    return TrackedLink(
        client=client, kind=TrackedLink.Kind.BOOKING, to_number=to_number, message_kind=message_kind
    )


def booking_link_attach(*, link: TrackedLink | None, message: Message) -> None:
    if link is not None:
        link.message_id = message.pk
        link.save()


def booking_links_claim(*, client: Client, message: Message) -> None:
    """A staff text carrying a booking link that a suggested reply drafted (inbox.suggestions writes one with a
    fresh code and saves nothing, so a draft never sent counts nothing): the link is saved now, for this text,
    and counts like the text-back's. A code already saved (copied from an older text) stays that text's."""
    pattern = re.escape(f"{settings.PUBLIC_BASE_URL}{LINK_PATH}") + f"([{re.escape(LINK_ALPHABET)}]{{10}})\\b"
    codes = set(re.findall(pattern, message.body))
    if not codes or not client.booking_url:
        return
    TrackedLink.objects.bulk_create(
        [
            TrackedLink(
                code=code,
                client=client,
                kind=TrackedLink.Kind.BOOKING,
                to_number=message.to_number,
                message_id=message.pk,
                message_kind=message.kind,
            )
            for code in sorted(codes)
        ],
        ignore_conflicts=True,
    )


def is_a_person(user_agent: str) -> bool:
    return not _NOT_A_PERSON.search(user_agent or "")


def open_count(
    links: QuerySet, *, user_agent: str, count: bool = True, fields: tuple[str, str, str] = CLICK_FIELDS
) -> bool:
    """Count one open of these links when a person opened them (`count`: a GET, not a HEAD; `user_agent`: not
    a preview fetcher or a script): `fields` are the link's count, first and last time. True if counted. Booking
    links (link_open) and the intake page (messaging.intake.intake_opened) count their opens alike."""
    if not count or not is_a_person(user_agent):
        return False
    total, first, last = fields
    at = now()
    links.update(**{total: F(total) + 1, first: Coalesce(F(first), at), last: at})
    return True


def link_open(*, code: str, user_agent: str, count: bool = True) -> str | None:
    """Where this code leads (None: nowhere, a 404), counting the click when a person opened it."""
    link = TrackedLink.objects.select_related("client").filter(code=code).first()
    if link is None or link.client.status == Client.Status.ARCHIVED:
        return None
    target = link.client.booking_url if link.kind == TrackedLink.Kind.BOOKING else ""
    if not target:
        return None
    open_count(TrackedLink.objects.filter(pk=link.pk), user_agent=user_agent, count=count)
    return target


def links_booked(*, client: Client, number: str, at: datetime) -> int:
    """The caller at this number was marked booked: their links opened before it count as clicked → booked."""
    return TrackedLink.objects.filter(
        client=client, to_number=number, first_clicked_at__lte=at, booked_at__isnull=True
    ).update(booked_at=at)


def links_by_message(*, client: Client, message_ids: list[int]) -> dict[int, TrackedLink]:
    """The tracked link in each of these messages (the thread shows whether the caller opened it)."""
    if not message_ids:
        return {}
    return {
        link.message_id: link
        for link in TrackedLink.objects.filter(client=client, message_id__in=message_ids)
        if link.message_id is not None
    }
