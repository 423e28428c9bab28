"""A suggested reply in a real browser on a phone, against the running stack with its language model faked at
the HTTP boundary (tests/llm_fake): the draft lands in the reply box (its booking link the short one that
counts), the person edits it, and it goes out through the send path to (fake) Twilio as they wrote it."""

import re

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import Client
from messaging.models import Message, TrackedLink
from tests.browser.conftest import fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.inbox.conftest import add_conversation
from tests.stack import wait_until

CALLER = "+13125550199"
DRAFT = "Hi! A drain cleaning starts at $149. Pick a time here: https://book.example.com/acme"
# The model wrote the booking page; the draft carries the short link to it instead.
SHOWN = re.compile(r"Hi! A drain cleaning starts at \$149\. Pick a time here: (http://\S+/l/(\w{10}))")


@pytest.fixture
def facts(live, personas):
    """Committed: the web server reads them. Put back afterwards (the stack wipes callers' rows, not clients'), and
    the short links made meanwhile go (they live in the public schema, which other tests read)."""
    fields = ["facts_services", "facts_prices", "booking_url"]
    before = Client.objects.filter(pk=personas.acme.pk).values(*fields).get()
    last_link = TrackedLink.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    Client.objects.filter(pk=personas.acme.pk).update(
        facts_services="Drain cleaning, water heaters",
        facts_prices="Drain cleaning from $149.",
        booking_url="https://book.example.com/acme",
    )
    yield
    Client.objects.filter(pk=personas.acme.pk).update(**before)
    TrackedLink.objects.filter(pk__gt=last_link).delete()


def test_a_suggested_reply_is_edited_and_sent_on_a_phone(live, personas, page_for, facts, _fake_llm_server):
    _fake_llm_server.mode, _fake_llm_server.reply = "ok", DRAFT
    _fake_llm_server.requests.clear()
    conversation = add_conversation(
        personas.acme,
        name="Sam Rivera",
        number=CALLER,
        texts=["How much to clean out a kitchen drain?"],
        unread=1,
    )
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/inbox/{conversation.pk}/")

    page.get_by_role("button", name="Suggest a reply").click()
    box = page.get_by_label("Reply")
    expect(box).to_have_value(SHOWN)
    link, code = SHOWN.fullmatch(box.input_value()).groups()
    expect(page.get_by_role("status").filter(has_text="Suggested by the AI model")).to_be_visible()
    [asked] = _fake_llm_server.requests
    assert "Drain cleaning from $149." in asked["json"]["messages"][0]["content"]
    assert fits_the_screen(page)
    screenshot(page, "inbox-suggested-reply-phone")

    edited = f"Hi Sam! A drain cleaning starts at $149. Pick a time: {link}"
    box.fill(edited)
    page.get_by_role("button", name="Send").click()
    [sent] = live.fake.wait_for_messages(1, timeout=15)
    assert (sent["to"], sent["body"]) == (CALLER, edited)
    expect(page.locator(".msg.out .bubble").last).to_have_text(edited)
    with schema_context(personas.acme.schema_name):
        wait_until(
            lambda: Message.objects.get(body=edited).status == "sent", timeout=10, what="the reply sent"
        )
        reply = Message.objects.get(body=edited)
        assert reply.sent_by_id == personas.alice.pk
        assert not Message.objects.filter(body=DRAFT).exists()  # what was sent is the person's text
    assert TrackedLink.objects.get(code=code).message_id == reply.pk  # counted for the text that carried it
