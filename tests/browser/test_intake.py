"""The caller's intake page on a phone: the link from the text opens a page in the agency's brand with the
client's name; the caller describes the job, picks how urgent, adds a photo and sends; it fits the screen and
the answers land in the conversation."""

from datetime import timedelta

from django.utils.timezone import now
from django_tenants.utils import schema_context
from PIL import Image
from playwright.sync_api import expect

from messaging.models import IntakeLink, Message, MessageMedia
from tests.browser.conftest import fits_the_screen, screenshot
from tests.inbox.conftest import add_conversation


def test_a_caller_fills_in_the_intake_page_on_a_phone(page_for, personas, live, tmp_path):
    conversation = add_conversation(personas.acme, name="", number="+13125550161")
    link = IntakeLink.objects.create(
        client=personas.acme,
        conversation_id=conversation.pk,
        to_number="+13125550161",
        expires_at=now() + timedelta(days=7),
    )
    photo = tmp_path / "leak.jpg"
    Image.new("RGB", (1200, 900), (30, 110, 190)).save(photo, format="JPEG")
    page, base = page_for("localhost")
    page.goto(f"{base}/i/{link.code}")
    expect(page.get_by_role("heading", name="Acme Plumbing")).to_be_visible()
    assert fits_the_screen(page)
    page.get_by_label("What do you need done?").fill("Water heater leaking in the basement")
    page.get_by_label("Address or ZIP code").fill("221 W Lake St, 60606")
    page.get_by_label("It's an emergency").check()
    page.get_by_label("A good time to reach you").fill("Any time today")
    page.get_by_label("Photos").set_input_files(str(photo))
    screenshot(page, "intake-phone")
    page.get_by_role("button", name="Send to Acme Plumbing").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "intake-sent-phone")
    with schema_context(personas.acme.schema_name):
        card = Message.objects.get(conversation_id=conversation.pk, kind=Message.Kind.INTAKE)
        assert card.body.startswith("Intake form: Water heater leaking in the basement")
        assert MessageMedia.objects.filter(message=card).exclude(file="").count() == 1
