"""Photos and other files callers send (MMS), and fetching a carrier's media: Twilio's with the credentials of the
account the client's number lives in (its agency's subaccount or own account, or the platform's), Telnyx's from
the pre-signed link it gives or its own hosts with the API key.

Twilio's incoming-message webhook names each file (NumMedia, MediaUrlN, MediaContentTypeN), Telnyx's
`message.received` lists them (payload.media); the files stay at the carrier, Twilio's behind HTTP basic auth,
Telnyx's behind a short-lived signed link. We keep a row per file with the message, in the webhook's transaction,
and a task copies each into Django's storage through config.outbound (the carrier's hosts only, at most
MAX_MEDIA_BYTES, an image checked by its first bytes, not by the name it came with); the thread shows our copy to
the client's people only. Recordings (telephony.voicemail) are fetched the same way.
(What to check against a real Telnyx account: that its MMS and recording links are pre-signed S3 URLs or on
*.telnyx.com, as its documentation shows; any other host is refused.)"""

import base64
import io
import json
import logging
import re
from datetime import timedelta
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.timezone import now
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import Client
from accounts.schemas import in_schema_of
from config import outbound

from .carriers import TELNYX, carrier_name
from .models import Message, MessageMedia
from .twilio_accounts import credentials_for

log = logging.getLogger(__name__)

MAX_MEDIA = 10  # Twilio sends at most 10 files with one message
MAX_MEDIA_BYTES = 5 * 1024 * 1024  # Twilio's own limit for an MMS
# What a phone sends as a photo, and the first bytes each format starts with.
IMAGE_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/heic": (b"\x00\x00\x00",),  # an ISO media box; checked further in _looks_like
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
}


def media_in_params(params: dict) -> list[tuple[str, str]] | str:
    """The (URL, content type) of each file a webhook names, or what is wrong with its media parameters."""
    raw = params.get("NumMedia", "0").strip() or "0"
    if not raw.isdigit() or int(raw) > MAX_MEDIA:
        return f"NumMedia must be a whole number from 0 to {MAX_MEDIA}, not {raw!r}"
    found = []
    for index in range(int(raw)):
        url = params.get(f"MediaUrl{index}", "").strip()
        if not url:
            return f"Missing parameter: MediaUrl{index}"
        found.append(
            (url, params.get(f"MediaContentType{index}", "").strip()[:100] or "application/octet-stream")
        )
    return found


def media_receive(*, client: Client, message: Message, media: list[tuple[str, str]]) -> list[MessageMedia]:
    """Keep the files of a caller's text (in its transaction); each is fetched once it commits."""
    rows = MessageMedia.objects.bulk_create(
        [MessageMedia(message=message, carrier_url=url[:2000], content_type=kind) for url, kind in media]
    )
    from .tasks import media_fetch  # a task module imports the services it runs; this is the reverse

    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _queue_each(media_fetch, client.pk, ids))
    return rows


# A copy the broker lost (down when the webhook committed) or the carrier could not give for a while is tried
# once more: the sweep (telephony.tasks.copies_sweep, hourly) queues what is still not copied in this window, so
# each such file is swept once, after its own task's retries (about 2.5 minutes) are long over.
SWEEP_WINDOW = (timedelta(minutes=15), timedelta(minutes=75))


def media_sweep(*, client: Client) -> int:
    """Queue the fetch again for this client's callers' files still not copied (in its schema); returns how many."""
    moment = now()
    ids = list(
        MessageMedia.objects.filter(
            file="",
            problem="",
            created_at__gt=moment - SWEEP_WINDOW[1],
            created_at__lte=moment - SWEEP_WINDOW[0],
        )
        .exclude(carrier_url="")
        .values_list("pk", flat=True)
    )
    if ids:
        from .tasks import media_fetch

        _queue_each(media_fetch, client.pk, ids)
    return len(ids)


def _queue_each(task, client_id: int, ids: list[int]) -> None:
    for pk in ids:
        try:
            task.apply_async((client_id, pk), retry=False)
        except Exception as exc:  # a broker that is down costs the copy now, never the webhook
            log.warning("could not queue %s: %s", task.name, exc)


def _twilio_media_url(url: str) -> str | None:
    """Where to fetch a Twilio media URL from: Twilio's own hosts only (the URL came in a signed webhook, but a link
    anywhere else is not Twilio's to give), sent to TWILIO_API_BASE_URL when that is set (the fake, in tests)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not (parts.hostname or "").endswith(".twilio.com"):
        return None
    if settings.TWILIO_API_BASE_URL:
        base = urlsplit(settings.TWILIO_API_BASE_URL)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    return url


# A recording's or a message's media URL names the account it lives in: /2010-04-01/Accounts/AC…/…
_ACCOUNT_IN_PATH = re.compile(r"/Accounts/(AC[0-9a-fA-F]{32})/")


def _twilio_credentials(client: Client, url: str) -> tuple[str, str] | None:
    """Whose credentials fetch this media: the account its URL names, when that is the client's agency's own or
    sub- account (an own account's media is not the platform's to read) or the platform's (numbers not moved
    into a subaccount yet). None for any other account: another agency's media is never fetched for this one."""
    found = _ACCOUNT_IN_PATH.search(urlsplit(url).path)
    if found is None:
        return None
    named = found[1]
    own = credentials_for(client.agency_id)
    if own is not None and named == own.account_sid:
        return own.account_sid, own.auth_token
    if named == settings.TWILIO_ACCOUNT_SID:
        return settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    return None


def _twilio_cdn_url(location: str) -> str | None:
    """Where Twilio's redirect for a message's media leads, if it stays Twilio's: its CDN (mms.twiliocdn.com, for
    an account that asks for media auth) or S3 (s3-external-1.amazonaws.com, for one that does not)."""
    parts = urlsplit(location)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not (host.endswith(".twiliocdn.com") or _S3_HOST.match(host)):
        return None
    if settings.TWILIO_API_BASE_URL:
        base = urlsplit(settings.TWILIO_API_BASE_URL)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    return location


def _twilio_get(target: str, headers: dict[str, str], max_bytes: int) -> outbound.Answer:
    return outbound.request(
        "GET",
        target,
        headers=headers,
        schemes=("https", "http") if settings.TWILIO_API_BASE_URL else ("https",),
        allow_private=bool(settings.TWILIO_API_BASE_URL),
        read_timeout=20.0,
        deadline=60.0,
        max_bytes=max_bytes,
    )


def twilio_media_fetch(url: str, *, client: Client, max_bytes: int) -> outbound.Answer:
    """GET a recording or a message's media from Twilio with the credentials of the account it lives in (the
    client's agency's, or the platform's), through the one door for outbound HTTP. OutboundRefused for a URL not
    on Twilio's hosts or not in this client's account, OutboundError when it cannot be fetched."""
    target = _twilio_media_url(url)
    if target is None:
        raise outbound.OutboundRefused(f"Not a Twilio media URL: {url!r}")
    credentials = _twilio_credentials(client, url)
    if credentials is None:
        raise outbound.OutboundRefused(f"Not in this client's Twilio account: {url!r}")
    token = base64.b64encode(":".join(credentials).encode()).decode()
    answer = _twilio_get(target, {"Authorization": f"Basic {token}"}, max_bytes)
    if answer.is_redirect:
        # Twilio answers a message's media with a redirect to a short-lived link (good for 4 hours). The door never
        # follows one on its own; this one is followed once, if it stays Twilio's, and without our credentials:
        # the link is its own key.
        location = next((v for k, v in answer.headers.items() if k.lower() == "location"), "")
        cdn = _twilio_cdn_url(location)
        if cdn is None:
            raise outbound.OutboundRefused(
                f"A redirect somewhere not Twilio's ({_without_query(location)!r}) for {url}"
            )
        answer = _twilio_get(cdn, {}, max_bytes)
    if answer.status != 200:
        raise outbound.OutboundError(f"Twilio answered {answer.status} for {url}")
    return answer


# Telnyx hands a recording or a caller's MMS file out as a short-lived link, either a pre-signed S3 URL (its
# signature is in the query and is the whole authority: S3 refuses a second one, so no key goes with it) or a URL
# on Telnyx's own hosts (with the API key). Nothing else is Telnyx's to give.
_S3_HOST = re.compile(r"^(?:[a-z0-9.-]+\.)?s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$")


def _telnyx_faked() -> bool:
    """TELNYX_API_BASE_URL points somewhere other than Telnyx (the fake, in tests): media is fetched from there."""
    return urlsplit(settings.TELNYX_API_BASE_URL).hostname != "api.telnyx.com"


def _telnyx_media_url(url: str) -> tuple[str, bool] | None:
    """Where to fetch a Telnyx media URL from and whether the API key goes with it; None for any other URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return None
    if host.endswith(".telnyx.com"):
        keyed = True
    elif _S3_HOST.match(host) and "X-Amz-Signature=" in parts.query:
        keyed = False
    else:
        return None
    if _telnyx_faked():
        base = urlsplit(settings.TELNYX_API_BASE_URL)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, "")), keyed
    return url, keyed


def _without_query(url: str) -> str:
    """A URL to name in a log or a problem: a pre-signed link's query is its key."""
    return url.partition("?")[0]


def telnyx_media_fetch(url: str, *, max_bytes: int) -> outbound.Answer:
    """GET a recording or a caller's MMS file from Telnyx (its hosts with the API key, or its pre-signed S3 link
    as it is) through the one door for outbound HTTP. OutboundRefused for any other URL, OutboundError when it
    cannot be fetched (a pre-signed link expires: Telnyx's recordings after 10 minutes)."""
    target = _telnyx_media_url(url)
    if target is None:
        raise outbound.OutboundRefused(f"Not a Telnyx media URL: {_without_query(url)!r}")
    target_url, keyed = target
    faked = _telnyx_faked()
    answer = outbound.request(
        "GET",
        target_url,
        headers={"Authorization": f"Bearer {settings.TELNYX_API_KEY}"} if keyed else {},
        schemes=("https", "http") if faked else ("https",),
        allow_private=faked,
        read_timeout=20.0,
        deadline=60.0,
        max_bytes=max_bytes,
    )
    if answer.status != 200:
        raise outbound.OutboundError(f"Telnyx answered {answer.status} for {_without_query(url)}")
    return answer


def telnyx_recording_link(recording_id: str) -> str:
    """A fresh link to a Telnyx recording from its Recordings API (GET /v2/recordings/{id}: download_urls), for when
    the one its callback named is dead (10 minutes after the call). OutboundError when Telnyx gives none."""
    faked = _telnyx_faked()
    answer = outbound.request(
        "GET",
        f"{settings.TELNYX_API_BASE_URL.rstrip('/')}/v2/recordings/{quote(recording_id, safe='')}",
        headers={"Authorization": f"Bearer {settings.TELNYX_API_KEY}", "Accept": "application/json"},
        schemes=("https", "http") if faked else ("https",),
        allow_private=faked,
        max_bytes=64 * 1024,
    )
    if answer.status != 200:
        raise outbound.OutboundError(f"Telnyx answered {answer.status} for recording {recording_id}")
    try:
        links = json.loads(answer.body)["data"]["download_urls"]
        link = links.get("mp3") or links.get("wav")
    except (ValueError, KeyError, TypeError, AttributeError):
        link = None
    if not isinstance(link, str) or not link:
        raise outbound.OutboundError(f"Telnyx gave no download link for recording {recording_id}")
    return link


def carrier_media_fetch(url: str, *, client: Client, max_bytes: int) -> outbound.Answer:
    """The file a webhook about this client named, from the carrier that serves it (whose webhook it was)."""
    if carrier_name(client) == TELNYX:
        return telnyx_media_fetch(url, max_bytes=max_bytes)
    return twilio_media_fetch(url, client=client, max_bytes=max_bytes)


def media_in_telnyx_payload(payload: dict) -> list[tuple[str, str]] | str:
    """The (URL, content type) of each file a Telnyx `message.received` names (payload.media), or what is wrong
    with it."""
    media = payload.get("media") or []
    if not isinstance(media, list) or len(media) > MAX_MEDIA:
        return f"data.payload.media must be a list of at most {MAX_MEDIA} files"
    found = []
    for index, item in enumerate(media):
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url.strip():
            return f"Missing field: data.payload.media[{index}].url"
        kind = item.get("content_type")
        found.append(
            (url.strip(), (kind.strip()[:100] if isinstance(kind, str) else "") or "application/octet-stream")
        )
    return found


def _looks_like(content_type: str, body: bytes) -> bool:
    signatures = IMAGE_SIGNATURES.get(content_type)
    if signatures is None:
        return False
    if content_type == "image/webp":
        return body[:4] == b"RIFF" and body[8:12] == b"WEBP"
    if content_type == "image/heic":
        return body[4:8] == b"ftyp"
    return body.startswith(signatures)


def media_fetch(*, client: Client, media: MessageMedia) -> str:
    """Copy one file into Django's storage (in the client's schema): an image only when its bytes are the format
    its type names, anything at most MAX_MEDIA_BYTES. Returns the stored name, or "" with the problem noted."""
    if media.file:
        return media.file
    try:
        answer = carrier_media_fetch(media.carrier_url, client=client, max_bytes=MAX_MEDIA_BYTES)
    except outbound.OutboundRefused as exc:
        return _problem(media, str(exc))
    if len(answer.body) > MAX_MEDIA_BYTES:
        return _problem(media, "Larger than 5 MB: not kept.")
    if media.is_image and not _looks_like(media.content_type, answer.body):
        return _problem(media, f"Not a {media.content_type} file after all: not kept.")
    extension = EXTENSIONS.get(media.content_type, "bin")
    name = default_storage.save(
        f"media/{client.schema_name}/{media.message_id}/{media.pk}.{extension}", ContentFile(answer.body)
    )
    MessageMedia.objects.filter(pk=media.pk).update(file=name, size=len(answer.body), problem="")
    return name


def _problem(media: MessageMedia, problem: str) -> str:
    log.warning("media %s of message %s not kept: %s", media.pk, media.message_id, problem)
    MessageMedia.objects.filter(pk=media.pk).update(problem=problem[:200])
    return ""


# --- Photos staff attach to a reply --------------------------------------------------------------------------

# A staff photo is re-encoded as a JPEG no larger than this on its long side: whatever was uploaded (a 12 MP
# phone photo, a PNG screenshot) becomes an MMS carriers take, with its EXIF (location included) left behind.
STAFF_PHOTO_SIDE = 1600
STAFF_UPLOAD_MAX_BYTES = 15 * 1024 * 1024
# How long the link Twilio fetches a staff photo from stays good: it fetches at once; retries come within hours.
PUBLIC_LINK_DAYS = 7
_SALT = "messaging.media.public"


class PhotoRefused(Exception):
    """Why an upload cannot be sent as a photo, in words for the person who chose it."""


def staff_photo_prepare(upload) -> bytes:
    """An upload as the JPEG we send, or PhotoRefused saying why not. Before anything is written."""
    if upload.size > STAFF_UPLOAD_MAX_BYTES:
        raise PhotoRefused("That photo is over 15 MB; choose a smaller one.")
    try:
        opened = Image.open(upload)
        opened.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoRefused("That file is not a photo we can send (JPEG, PNG, GIF, WebP).") from exc
    image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((STAFF_PHOTO_SIDE, STAFF_PHOTO_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()


def staff_photo_attach(*, client: Client, message: Message, jpeg: bytes) -> MessageMedia:
    """Keep a prepared photo for an outbound message (in its transaction): it goes with it as an MMS."""
    row = MessageMedia.objects.create(message=message, content_type="image/jpeg", size=len(jpeg))
    name = default_storage.save(f"media/{client.schema_name}/{message.pk}/{row.pk}.jpg", ContentFile(jpeg))
    MessageMedia.objects.filter(pk=row.pk).update(file=name)
    row.file = name
    return row


def media_public_urls(*, client: Client, message: Message) -> tuple[str, ...]:
    """The links Twilio fetches a staff reply's photos from (signed, expiring; see media_public_open). Asked only
    for staff replies, so a text-back's send costs no statement for it."""
    if message.kind != Message.Kind.REPLY:
        return ()
    rows = MessageMedia.objects.filter(message=message).exclude(file="").values_list("pk", flat=True)
    return tuple(
        f"{settings.PUBLIC_BASE_URL}/m/{signing.dumps({'c': client.pk, 'm': pk}, salt=_SALT, compress=True)}/"
        for pk in rows
    )


def media_public_open(token: str) -> MessageMedia | None:
    """The staff photo a public link names, while it is good; None for a bad, expired or other link. Only a photo
    on an outbound message: a caller's own photos are never public."""
    try:
        found = signing.loads(token, salt=_SALT, max_age=timedelta(days=PUBLIC_LINK_DAYS))
    except signing.BadSignature:
        return None
    client = Client.objects.filter(pk=found.get("c")).first()
    if client is None:
        return None
    with in_schema_of(client):
        return (
            MessageMedia.objects.filter(pk=found.get("m"), message__direction=Message.Direction.OUTBOUND)
            .exclude(file="")
            .first()
        )
