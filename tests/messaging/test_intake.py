"""The intake page: {intake_url} in a text-back is a short, unguessable link to a page in the agency's brand with
the client's name; the caller's answers and photos land in their conversation as one card, alert the staff like
a reply and fill the contact. The link expires, is rate-limited, takes only photos (re-encoded), and one
client's link never shows or files anything at another's."""

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from accounts.models import Onboarding
from config.celery_app import app as celery_app
from inbox import tasks
from messaging.intake import INTAKE_MAX_REQUEST_BYTES
from messaging.media import STAFF_UPLOAD_MAX_BYTES
from messaging.models import Conversation, IntakeLink, Message, MessageMedia, OutboundSend, Template
from messaging.services import send_deliver
from tests.agency.test_onboarding_preview import onboarding  # noqa: F401  (the wizard's fixture)
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

CALLER = "+13125550155"
WEDNESDAY_10AM = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
INTAKE = re.compile(r"http://localhost:8000(/i/([A-Za-z0-9]{14}))")
ANSWERS = {
    "job": "Burst pipe under the sink",
    "address": "60601",
    "urgency": "emergency",
    "good_time": "after 5",
}


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    cache.clear()


def _photo(kind="PNG") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (20, 90, 200)).save(out, format=kind)
    return SimpleUploadedFile(f"leak.{kind.lower()}", out.getvalue(), content_type=f"image/{kind.lower()}")


def _texted_intake_link(platform, client, caller=CALLER) -> str:
    """A missed call whose text-back carries {intake_url}; returns the link's path."""
    with schema_context(client.schema_name):
        # Every text-back template, so the link goes out whether the business is open when the test runs or not.
        Template.objects.update(
            body="Sorry we missed you at {business_name}! Tell us about the job: {intake_url}", is_active=True
        )
    params = call_params(client, caller)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    send = OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")
    assert send_deliver(send_id=send.pk) == "sent"
    with schema_context(client.schema_name):
        body = Message.objects.get(call_sid=params["CallSid"], kind=Message.Kind.TEXT_BACK).body
    return INTAKE.search(body)[1]


def _conversation(client, caller=CALLER) -> Conversation:
    with schema_context(client.schema_name):
        return Conversation.objects.select_related("contact").get(contact__phone_number=caller)


def test_the_text_back_carries_an_intake_link_to_a_branded_page(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        path = _texted_intake_link(platform, personas.acme)
    link = IntakeLink.objects.get(code=path.rsplit("/", 1)[1])
    assert link.client_id == personas.acme.pk and link.conversation_id == _conversation(personas.acme).pk
    assert link.expires_at == WEDNESDAY_10AM + timedelta(days=7)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=1)):
        page = platform.get(path)
    html = page.content.decode()
    assert page.status_code == 200 and "<h1>Acme Plumbing</h1>" in html
    assert "agency=northwind" in html  # the agency's colours and logo, on the platform host
    assert 'name="photos"' in html and "How urgent is it?" in html


def test_the_callers_answers_and_photos_land_in_the_thread_and_alert_the_staff(
    web, platform, personas, twilio, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    path = _texted_intake_link(platform, personas.acme)
    monkeypatch.setattr(tasks.escalate_reply, "apply_async", lambda *a, **kw: None)
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = platform.post(
                path, {**ANSWERS, "name": "Jane Roe", "photos": [_photo(), _photo("JPEG")]}
            )
    finally:
        celery_app.conf.task_always_eager = False
    assert response.status_code == 200 and "Thank you!" in response.content.decode()
    conversation = _conversation(personas.acme)
    with schema_context(personas.acme.schema_name):
        card = Message.objects.get(conversation=conversation, kind=Message.Kind.INTAKE)
        photos = list(MessageMedia.objects.filter(message=card))
    assert card.body.splitlines() == [
        "Intake form: Burst pipe under the sink",
        "Where: 60601",
        "How urgent: It's an emergency",
        "Good time: after 5",
        "Name: Jane Roe",
    ]
    assert [p.content_type for p in photos] == ["image/jpeg", "image/jpeg"] and all(p.file for p in photos)
    assert conversation.unread_count == 1
    assert (conversation.contact.name, conversation.contact.notes) == ("Jane Roe", "Address: 60601")
    assert any("replied to Acme Plumbing" in m.subject for m in mailoutbox)
    page = web("acme.localhost", personas.alice).get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Intake form: Burst pipe under the sink" in page and page.count('class="media-thumb"') == 2


@pytest.mark.parametrize(
    ("post", "error"),
    [
        ({**ANSWERS, "job": ""}, "This field is required."),
        ({**ANSWERS, "urgency": "yesterday"}, "Select a valid choice."),
        (
            {**ANSWERS, "photos": [SimpleUploadedFile("x.jpg", b"<script>", content_type="image/jpeg")]},
            "not a photo",
        ),
    ],
)
def test_what_is_wrong_is_refused_with_a_reason_and_nothing_is_filed(platform, personas, twilio, post, error):
    path = _texted_intake_link(platform, personas.acme)
    response = platform.post(path, post)
    assert response.status_code == 400 and error in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(kind=Message.Kind.INTAKE).exists()


def test_at_most_five_photos(platform, personas, twilio):
    path = _texted_intake_link(platform, personas.acme)
    response = platform.post(path, {**ANSWERS, "photos": [_photo() for _ in range(6)]})
    assert response.status_code == 400 and "Up to 5 photos" in response.content.decode()


def test_the_link_expires_after_seven_days(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        path = _texted_intake_link(platform, personas.acme)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(days=7, minutes=1), tick=False):
        assert "This link has expired" in platform.get(path).content.decode()
        assert platform.post(path, ANSWERS).status_code == 410
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(kind=Message.Kind.INTAKE).exists()


def test_a_link_takes_a_few_answers_an_hour(platform, personas, twilio):
    path = _texted_intake_link(platform, personas.acme)
    assert [platform.post(path, ANSWERS).status_code for _ in range(6)] == [200] * 5 + [429]
    with schema_context(personas.acme.schema_name):
        assert Message.objects.filter(kind=Message.Kind.INTAKE).count() == 5


def test_one_clients_link_never_shows_or_files_at_another(web, platform, personas, twilio):
    path = _texted_intake_link(platform, personas.acme)
    assert platform.get("/i/" + "A" * 14).status_code == 404  # a code nobody was sent
    # Only the platform host serves intake pages: bolt's (or acme's own) host knows no such page.
    assert web("bolt.localhost").get(path).status_code == 404
    assert web("bolt.localhost").post(path, ANSWERS).status_code == 404
    html = platform.get(path).content.decode()
    assert "Bolt Electric" not in html
    with schema_context(personas.bolt.schema_name):
        assert not Message.objects.filter(kind=Message.Kind.INTAKE).exists()


def test_the_onboarding_wizard_names_the_intake_link_among_the_placeholders(web, personas, onboarding):  # noqa: F811
    Onboarding.objects.filter(pk=onboarding.pk).update(reached="templates")
    page = web("localhost", personas.nate).get(f"/agency/onboarding/{onboarding.pk}/templates/")
    hint = re.search(r"Placeholders: (.*?)\. The previews", page.content.decode())[1]
    assert "{intake_url}" in hint and "{business_name}" in hint


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
IMESSAGE_PREVIEW = (
    "Mozilla/5.0 (Macintosh) AppleWebKit/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
)
JUNE = {"preset": "custom", "start": "2026-06-01", "end": "2026-06-30"}


def test_the_caller_opening_the_form_shows_in_the_thread_and_counts_in_the_report(
    web, platform, personas, twilio
):
    with time_machine.travel(WEDNESDAY_10AM, tick=False) as clock:
        path = _texted_intake_link(platform, personas.acme)
        conversation = _conversation(personas.acme)
        owner = web("acme.localhost", personas.alice)
        # The phone's link preview and a HEAD fetch the page too: neither is the caller opening it.
        assert platform.get(path, HTTP_USER_AGENT=IMESSAGE_PREVIEW).status_code == 200
        assert platform.head(path, HTTP_USER_AGENT=IPHONE).status_code == 200
        assert "Opened the form" not in owner.get(f"/inbox/{conversation.pk}/").content.decode()
        report = owner.get("/reports/", JUNE).content.decode()
        assert "sent to 1 caller · opened by 0 · <strong>0 sent answers</strong>" in report

        clock.shift(timedelta(minutes=5))
        response = platform.get(path, HTTP_USER_AGENT=IPHONE)
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        clock.shift(timedelta(minutes=2))
        platform.get(path, HTTP_USER_AGENT=IPHONE)
        thread = owner.get(f"/inbox/{conversation.pk}/").content.decode()
        assert re.search(
            r'<li class="event intake-open"><span>Opened the form · 2 times · no answers sent yet</span> '
            r'<time datetime="2026-06-10T10:05:00-05:00">',
            thread,
        )
        assert (
            "opened by 1 · <strong>0 sent answers</strong>" in owner.get("/reports/", JUNE).content.decode()
        )

        clock.shift(timedelta(minutes=2))
        assert platform.post(path, ANSWERS, HTTP_USER_AGENT=IPHONE).status_code == 200
        thread = owner.get(f"/inbox/{conversation.pk}/").content.decode()
        assert "Opened the form · 2 times · answered" in thread
        report = owner.get("/reports/", JUNE).content.decode()
        assert "sent to 1 caller · opened by 1 · <strong>1 sent answers</strong>" in report


def test_another_clients_thread_and_report_know_nothing_of_the_form_opened(web, platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        path = _texted_intake_link(platform, personas.acme)
        platform.get(path, HTTP_USER_AGENT=IPHONE)
        bolt_owner = web("bolt.localhost", personas.dave)
        assert "Intake form:" not in bolt_owner.get("/reports/", JUNE).content.decode()
        conversation = _conversation(personas.acme)
        response = bolt_owner.get(f"/inbox/{conversation.pk}/")
        assert response.status_code == 404 and "Opened the form" not in response.content.decode()


def test_every_submission_counts_against_the_limit_even_a_refused_one(platform, personas, twilio):
    """A refused answer (a missing field, a file that is not a photo) costs a go too: otherwise a flood of bad
    submissions is never slowed, and each makes us parse and decode what it sent."""
    path = _texted_intake_link(platform, personas.acme)
    not_a_photo = SimpleUploadedFile("x.jpg", b"<script>", content_type="image/jpeg")
    refused = [{**ANSWERS, "job": ""}] * 4 + [{**ANSWERS, "photos": [not_a_photo]}]
    assert [platform.post(path, post).status_code for post in refused] == [400] * 5
    response = platform.post(path, ANSWERS)
    assert response.status_code == 429 and "a lot of answers" in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(kind=Message.Kind.INTAKE).exists()


def test_a_body_over_the_limit_is_refused_before_it_is_read(platform, personas, twilio):
    path = _texted_intake_link(platform, personas.acme)
    response = platform.post(path, ANSWERS, CONTENT_LENGTH=str(INTAKE_MAX_REQUEST_BYTES + 1))
    assert response.status_code == 413
    assert "up to 5 photos of at most 15 MB each" in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(kind=Message.Kind.INTAKE).exists()


def test_a_photo_over_15_mb_is_refused_with_its_name_and_nothing_is_filed(platform, personas, twilio):
    path = _texted_intake_link(platform, personas.acme)
    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"\x00" * STAFF_UPLOAD_MAX_BYTES, "image/jpeg")
    response = platform.post(path, {**ANSWERS, "photos": [_photo(), huge]})
    assert response.status_code == 400
    assert "huge.jpg: That photo is over 15 MB; choose a smaller one." in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(kind=Message.Kind.INTAKE).exists()
    # At the limit exactly, a photo is taken (and re-encoded).
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, format="PNG")
    exact = out.getvalue() + b"\x00" * (STAFF_UPLOAD_MAX_BYTES - len(out.getvalue()))
    at_limit = SimpleUploadedFile("exact.png", exact, content_type="image/png")
    assert platform.post(path, {**ANSWERS, "photos": [at_limit]}).status_code == 200


def test_caddy_refuses_a_body_larger_than_the_intake_form_takes():
    caddyfile = (Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile").read_text()
    size = re.search(r"max_size (\d+)MiB", caddyfile)
    assert size is not None and int(size[1]) * 1024 * 1024 >= INTAKE_MAX_REQUEST_BYTES
