"""Photos callers text us (MMS): the webhook names them (NumMedia, MediaUrlN, MediaContentTypeN), a task fetches
each from the fake Twilio with the credentials of the account the number lives in (the platform's, or the agency's
own) into Django's storage, the thread shows them, and only the client's people can open them. A file that is not
what it says, too big, not on the carrier's hosts or in another agency's account is not kept. The same for a number
Telnyx carries (payload.media of its signed message.received)."""

import io
import json
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context
from PIL import Image

from accounts.models import Agency
from config.celery_app import app as celery_app
from messaging import twilio_accounts
from messaging.media import MAX_MEDIA_BYTES
from messaging.models import Message, MessageMedia, OutboundSend
from messaging.services import send_deliver
from telephony.tasks import copies_sweep
from tests.inbox.conftest import add_conversation
from tests.webhooks import post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550177"
HOST = "acme.localhost"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def eager_tasks():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _media_url(twilio, message_sid: str, content: bytes, kind: str, account: str = "") -> str:
    account = account or settings.TWILIO_ACCOUNT_SID
    path = f"/2010-04-01/Accounts/{account}/Messages/{message_sid}/Media/{sid('ME')}"
    return twilio.add_media(path, content, kind)


def _mms(platform, client, twilio, files, body="Here's the leak", account=None, **extra):
    """The caller texts `files` [(bytes, content type)] to a number in `account` (the platform's when None, else
    an account resource from the fake: sid and auth_token); returns the params posted."""
    message_sid = sid("MM")
    params = sms_params(client, CALLER, body, MessageSid=message_sid, NumMedia=str(len(files)), **extra)
    if account is not None:
        params["AccountSid"] = account["sid"]
    for index, (content, kind) in enumerate(files):
        params[f"MediaUrl{index}"] = _media_url(twilio, message_sid, content, kind, params["AccountSid"])
        params[f"MediaContentType{index}"] = kind
    token = account["auth_token"] if account is not None else None
    response = post_signed(platform, "/hooks/twilio/sms/incoming/", params, token=token)
    assert response.status_code == 200, response.content
    return params


def _stored(client, params) -> list[MessageMedia]:
    with schema_context(client.schema_name):
        return list(MessageMedia.objects.filter(message__provider_sid=params["MessageSid"]))


def test_a_callers_photos_are_kept_and_shown_in_the_thread_to_the_clients_people_only(
    web, platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        params = _mms(platform, personas.acme, twilio, [(JPEG, "image/jpeg"), (PNG, "image/png")])
    photos = _stored(personas.acme, params)
    assert [(p.content_type, p.size, bool(p.file)) for p in photos] == [
        ("image/jpeg", len(JPEG), True),
        ("image/png", len(PNG), True),
    ]
    fetches = [r for r in twilio.requests if "/Media/" in r["path"]]
    assert len(fetches) == 2 and all(r["headers"]["Authorization"].startswith("Basic ") for r in fetches)
    # Twilio answers each with a redirect to a short-lived CDN link: followed once, without our credentials.
    assert [r["status"] for r in fetches] == [307, 307]
    cdn = [r for r in twilio.requests if r["path"].startswith("/cdn/")]
    assert len(cdn) == 2 and not any("Authorization" in r["headers"] for r in cdn)

    with schema_context(personas.acme.schema_name):
        conversation_id = Message.objects.get(provider_sid=params["MessageSid"]).conversation_id
    owner = web(HOST, personas.alice)
    page = owner.get(f"/inbox/{conversation_id}/").content.decode()
    assert page.count('class="media-thumb"') == 2 and "Here&#x27;s the leak" in page
    photo = owner.get(f"/inbox/media/{photos[0].pk}/")
    assert (photo.status_code, photo["Content-Type"], photo["X-Content-Type-Options"]) == (
        200,
        "image/jpeg",
        "nosniff",
    )
    assert b"".join(photo.streaming_content) == JPEG
    assert web("bolt.localhost", personas.dave).get(f"/inbox/media/{photos[0].pk}/").status_code == 404
    assert web(HOST, personas.dave).get(f"/inbox/media/{photos[0].pk}/").status_code == 302
    assert web(HOST).get(f"/inbox/media/{photos[0].pk}/").status_code == 302


def test_a_photo_alone_is_a_reply_too(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        params = _mms(platform, personas.acme, twilio, [(JPEG, "image/jpeg")], body="")
    with schema_context(personas.acme.schema_name):
        message = Message.objects.select_related("conversation").get(provider_sid=params["MessageSid"])
    assert message.body == "" and message.conversation.unread_count == 1
    assert _stored(personas.acme, params)[0].file


def test_a_file_that_is_not_what_it_says_is_not_kept(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        params = _mms(platform, personas.acme, twilio, [(b"<html>not a photo</html>", "image/jpeg")])
    [photo] = _stored(personas.acme, params)
    assert photo.file == "" and "Not a image/jpeg file" in photo.problem


def test_a_photo_over_5_mb_is_not_kept_and_one_at_5_mb_is(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    at_limit = JPEG + b"\x00" * (MAX_MEDIA_BYTES - len(JPEG))
    with django_capture_on_commit_callbacks(execute=True):
        params = _mms(
            platform, personas.acme, twilio, [(at_limit + b"\x00", "image/jpeg"), (at_limit, "image/jpeg")]
        )
    over, exact = _stored(personas.acme, params)
    assert (over.file, over.problem) == ("", "Larger than 5 MB: not kept.")
    assert (bool(exact.file), exact.size, exact.problem) == (True, MAX_MEDIA_BYTES, "")


def test_a_redirect_away_from_twilio_is_not_followed(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    message_sid = sid("MM")
    path = f"/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages/{message_sid}/Media/{sid('ME')}"
    url = twilio.add_media(path, b"", "image/jpeg", redirect="https://evil.example/steal.jpg")
    params = sms_params(
        personas.acme,
        CALLER,
        "look",
        MessageSid=message_sid,
        NumMedia="1",
        MediaUrl0=url,
        MediaContentType0="image/jpeg",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    [photo] = _stored(personas.acme, params)
    assert photo.file == "" and "somewhere not Twilio's" in photo.problem


def test_media_not_on_twilios_hosts_is_never_fetched(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    message_sid = sid("MM")
    params = sms_params(
        personas.acme,
        CALLER,
        "look",
        MessageSid=message_sid,
        NumMedia="1",
        MediaUrl0="https://evil.example/steal.jpg",
        MediaContentType0="image/jpeg",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    [photo] = _stored(personas.acme, params)
    assert photo.file == "" and "Not a Twilio media URL" in photo.problem


def test_an_agency_with_its_own_twilio_account_gets_its_callers_photos(
    web,
    platform,
    personas,
    twilio,
    twilio_accounts_forgotten,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    """acme's agency brought its own Twilio account: the photo lives there, and only that account's credentials
    open it (the platform's get a 404 from Twilio)."""
    own = twilio.add_account(friendly_name="Northwind's own")
    twilio_accounts.own_account_connect(
        agency=personas.northwind, account_sid=own["sid"], auth_token=own["auth_token"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        params = _mms(platform, personas.acme, twilio, [(JPEG, "image/jpeg")], account=own)
    [photo] = _stored(personas.acme, params)
    assert (photo.file != "", photo.size, photo.problem) == (True, len(JPEG), "")
    [fetch] = [r for r in twilio.requests if "/Media/" in r["path"]]
    assert (fetch["status"], fetch["authenticated_as"]) == (307, own["sid"])
    owner = web(HOST, personas.alice)
    assert b"".join(owner.get(f"/inbox/media/{photo.pk}/").streaming_content) == JPEG


def test_media_in_another_agencys_account_is_never_fetched_for_this_client(
    platform, personas, twilio, twilio_accounts_forgotten, eager_tasks, django_capture_on_commit_callbacks
):
    """A media URL naming southpeak's own account, in a webhook about acme's number: not acme's to fetch, with
    any credentials."""
    theirs = twilio.add_account(friendly_name="Southpeak's own")
    twilio_accounts.own_account_connect(
        agency=personas.southpeak, account_sid=theirs["sid"], auth_token=theirs["auth_token"]
    )
    message_sid = sid("MM")
    params = sms_params(
        personas.acme,
        CALLER,
        "look",
        MessageSid=message_sid,
        NumMedia="1",
        MediaUrl0=_media_url(twilio, message_sid, JPEG, "image/jpeg", theirs["sid"]),
        MediaContentType0="image/jpeg",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    [photo] = _stored(personas.acme, params)
    assert photo.file == "" and "Not in this client's Twilio account" in photo.problem
    assert not [r for r in twilio.requests if "/Media/" in r["path"]]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"NumMedia": "x"}, b"NumMedia"), ({"NumMedia": "11"}, b"NumMedia"), ({"NumMedia": "1"}, b"MediaUrl0")],
)
def test_bad_media_parameters_are_refused_with_a_reason(platform, personas, extra, reason):
    params = sms_params(personas.acme, CALLER, "hi", **extra)
    response = post_signed(platform, "/hooks/twilio/sms/incoming/", params)
    assert response.status_code == 400 and reason in response.content
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(provider_sid=params["MessageSid"]).exists()


# --- Photos texted to a number Telnyx carries -------------------------------------------------------------------


def _telnyx_mms(platform, telnyx, client, media: list[dict], text="Here's the leak"):
    """A signed `message.received` naming `media` (Telnyx's payload.media: url, content_type, size)."""
    body = json.dumps(
        {
            "data": {
                "record_type": "event",
                "id": str(uuid.uuid4()),
                "event_type": "message.received",
                "payload": {
                    "id": str(uuid.uuid4()),
                    "type": "MMS",
                    "from": {"phone_number": CALLER},
                    "to": [{"phone_number": str(client.phone_number), "status": "webhook_delivered"}],
                    "text": text,
                    "media": media,
                },
            }
        }
    ).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in telnyx.sign(body).items()}
    return platform.post("/hooks/telnyx/sms/", body, content_type="application/json", **extra)


@pytest.fixture
def on_telnyx(personas, telnyx):
    """acme's agency on Telnyx (rolled back after each test)."""
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    return telnyx


def test_on_telnyx_a_callers_photos_are_kept_and_shown_to_the_clients_people_only(
    web, platform, personas, on_telnyx, eager_tasks, django_capture_on_commit_callbacks
):
    telnyx = on_telnyx
    media = [
        # A pre-signed S3 link, as Telnyx hands them out, and a file on Telnyx's own host (its API key).
        {
            "url": telnyx.add_media("a.jpg", JPEG, "image/jpeg"),
            "content_type": "image/jpeg",
            "size": len(JPEG),
        },
        {"url": telnyx.add_media("b.png", PNG, "image/png", presigned=False), "content_type": "image/png"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert _telnyx_mms(platform, telnyx, personas.acme, media).status_code == 200
    with schema_context(personas.acme.schema_name):
        message = Message.objects.get(body="Here's the leak", direction=Message.Direction.INBOUND)
        photos = list(MessageMedia.objects.filter(message=message))
    assert [(p.content_type, p.size, p.problem) for p in photos] == [
        ("image/jpeg", len(JPEG), ""),
        ("image/png", len(PNG), ""),
    ]
    fetches = {r["path"]: r["headers"].get("authorization") for r in telnyx.requests if r["method"] == "GET"}
    assert fetches == {"/telephony-recorder-prod/a.jpg": None, "/v2/media/b.png": f"Bearer {telnyx.api_key}"}

    owner = web(HOST, personas.alice)
    assert owner.get(f"/inbox/{message.conversation_id}/").content.decode().count('class="media-thumb"') == 2
    assert b"".join(owner.get(f"/inbox/media/{photos[0].pk}/").streaming_content) == JPEG
    assert web("bolt.localhost", personas.dave).get(f"/inbox/media/{photos[0].pk}/").status_code == 404
    assert web(HOST).get(f"/inbox/media/{photos[0].pk}/").status_code == 302


def test_on_telnyx_media_not_on_telnyxs_hosts_is_never_fetched(
    platform, personas, on_telnyx, eager_tasks, django_capture_on_commit_callbacks
):
    media = [{"url": "https://evil.example/steal.jpg?X-Amz-Signature=1", "content_type": "image/jpeg"}]
    with django_capture_on_commit_callbacks(execute=True):
        assert _telnyx_mms(platform, on_telnyx, personas.acme, media, text="look").status_code == 200
    with schema_context(personas.acme.schema_name):
        [photo] = MessageMedia.objects.filter(message__body="look")
    assert photo.file == "" and "Not a Telnyx media URL" in photo.problem
    assert not [r for r in on_telnyx.requests if r["method"] == "GET"]


@pytest.mark.parametrize(
    ("media", "reason"),
    [
        ([{"content_type": "image/jpeg"}], b"media[0].url"),
        ([{"url": "https://api.telnyx.com/v2/media/x"}] * 11, b"at most 10"),
        ("not a list", b"at most 10"),
    ],
)
def test_on_telnyx_bad_media_is_refused_with_a_reason(platform, personas, on_telnyx, media, reason):
    response = _telnyx_mms(platform, on_telnyx, personas.acme, media, text="bad media")
    assert response.status_code == 400 and reason in response.content
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(body="bad media").exists()


# --- Staff attach a photo to a reply --------------------------------------------------------------------------


def _png(width=2400, height=1200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_staff_attach_a_photo_that_goes_out_as_an_mms_twilio_can_fetch(web, platform, personas, twilio):
    conversation = add_conversation(personas.acme, name="Jane", number=CALLER)
    owner = web(HOST, personas.alice)
    upload = SimpleUploadedFile("part.png", _png(), content_type="image/png")
    response = owner.post(f"/inbox/{conversation.pk}/reply/", {"body": "Is this the part?", "photo": upload})
    assert response.status_code == 302
    with schema_context(personas.acme.schema_name):
        reply = Message.objects.get(conversation=conversation, kind=Message.Kind.REPLY)
    send = OutboundSend.objects.get(client=personas.acme, message_id=reply.pk)
    assert send_deliver(send_id=send.pk) == "sent"
    [sent] = twilio.messages_to(CALLER)
    [url] = sent["params"]["MediaUrl"]
    assert url.startswith("http://localhost:8000/m/") and sent["body"] == "Is this the part?"

    photo = platform.get(urlsplit(url).path)
    content = b"".join(photo.streaming_content)
    assert (photo.status_code, photo["Content-Type"]) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(content)).size == (1600, 800)  # re-encoded, at most 1600 px on its long side
    assert platform.get(urlsplit(url).path[:-3] + "xx/").status_code == 404  # a tampered link
    page = owner.get(f"/inbox/{conversation.pk}/").content.decode()
    assert 'alt="Photo sent"' in page


def test_a_callers_photo_is_never_behind_a_public_link(
    platform, personas, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        params = _mms(platform, personas.acme, twilio, [(JPEG, "image/jpeg")])
    [photo] = _stored(personas.acme, params)
    token = signing.dumps(
        {"c": personas.acme.pk, "m": photo.pk}, salt="messaging.media.public", compress=True
    )
    assert platform.get(f"/m/{token}/").status_code == 404


def test_a_file_that_is_not_a_photo_is_refused_with_a_reason_and_nothing_is_sent(web, personas, twilio):
    conversation = add_conversation(personas.acme, name="Jane", number=CALLER)
    upload = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")
    response = web(HOST, personas.alice).post(
        f"/inbox/{conversation.pk}/reply/", {"body": "See", "photo": upload}
    )
    assert response.status_code == 400 and "not a photo we can send" in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(conversation=conversation, kind=Message.Kind.REPLY).exists()


# --- The sweep: a copy the broker lost is tried once more ------------------------------------------------------


def test_a_photo_whose_copy_the_broker_lost_is_copied_by_the_hourly_sweep(
    platform, personas, twilio, eager_tasks
):
    # The webhook commits but its copy is never queued (the broker was down): nothing in storage yet.
    params = _mms(platform, personas.acme, twilio, [(JPEG, "image/jpeg")])
    old = _mms(platform, personas.acme, twilio, [(PNG, "image/png")])
    with schema_context(personas.acme.schema_name):
        MessageMedia.objects.filter(message__provider_sid=params["MessageSid"]).update(
            created_at=timezone.now() - timedelta(minutes=30)
        )
        MessageMedia.objects.filter(message__provider_sid=old["MessageSid"]).update(
            created_at=timezone.now() - timedelta(hours=2)
        )
    assert copies_sweep() == 1  # once, in its window; one two hours old was swept an hour ago
    [photo] = _stored(personas.acme, params)
    assert (bool(photo.file), photo.size) == (True, len(JPEG))
    assert _stored(personas.acme, old)[0].file == ""
    assert "copies-sweep" in celery_app.conf.beat_schedule
