"""The inbox in a real browser on a phone, against the running stack: a call is missed, the text-back goes
out, the caller's reply turns up without a reload, staff answer with a canned reply and mark the job won."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from crm.models import Outcome
from inbox.models import CannedReply
from messaging.models import Message
from messaging.segments import segment_info
from tests.browser.conftest import DESKTOP, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.inbox.conftest import add_conversation
from tests.integration.test_pipeline import miss_a_call, post
from tests.stack import wait_until
from tests.webhooks import sms_params

CALLER = "+13125550188"
CANNED = "On my way! I can be there within the hour. – Acme Plumbing"
LIVE_TIMEOUT = 15_000  # ms: a few polls


@pytest.fixture
def canned_reply(live, personas):
    """Committed, so the web server sees it; canned replies are not among the tables the stack wipes."""
    with schema_context(personas.acme.schema_name):
        canned = CannedReply.objects.create(title="On my way", body=CANNED)
    yield canned
    with schema_context(personas.acme.schema_name):
        CannedReply.objects.filter(pk=canned.pk).delete()


def other_callers(acme):
    """A few more conversations, so the list looks like a working day."""
    won = add_conversation(
        acme,
        name="Maria Gonzalez",
        number="+13125550161",
        minutes_ago=95,
        texts=["Thanks, the water heater works great now!"],
    )
    add_conversation(
        acme,
        name="",
        number="+17735550142",
        minutes_ago=60 * 20,
        unread=0,
        texts=["Do you do drain cleaning on Saturdays?"],
    )
    add_conversation(
        acme,
        name="Dev Patel",
        number="+13125550173",
        minutes_ago=60 * 30,
        texts=["Toilet keeps running, can someone look at it this week?"],
    )
    with schema_context(acme.schema_name):
        Outcome.objects.create(contact=won.contact, kind="won", value=Decimal("640"))


def test_a_missed_call_becomes_a_won_job_on_a_phone(live, personas, page_for, canned_reply, request):
    acme = personas.acme
    other_callers(acme)
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

    # A call is missed; the text-back goes out and shows up in the list without a reload.
    miss_a_call(live, acme, CALLER)
    [text_back] = live.fake.wait_for_messages(1, timeout=15)
    row = page.locator(".conversation", has_text="(312) 555-0188")
    expect(row).to_contain_text("You: " + text_back["body"][:20], timeout=LIVE_TIMEOUT)

    # The caller answers while staff look at the list: it jumps to the top, unread, and the tab says so.
    reply = "Yes please, water is coming through the kitchen ceiling"
    assert post(live, "/hooks/twilio/sms/incoming/", sms_params(acme, CALLER, reply)).status_code == 200
    expect(page.locator(".conversation").first).to_contain_text(reply, timeout=LIVE_TIMEOUT)
    expect(page.locator(".conversation.unread .count")).to_have_text("1")
    expect(page).to_have_title("(1) Inbox · Acme Plumbing")
    assert fits_the_screen(page)
    screenshot(page, "inbox-list-phone")

    # The thread: the missed call, the text-back, the reply; opening it reads it.
    page.locator(".conversation").first.click()
    expect(page.get_by_role("heading", name="(312) 555-0188")).to_be_visible()
    expect(page.get_by_text("Missed call · nobody answered")).to_be_visible()
    expect(page.locator(".msg.out", has_text=text_back["body"][:30])).to_contain_text("Text-back")
    expect(page.locator(".msg.in .bubble")).to_have_text(reply)
    expect(page).to_have_title("(312) 555-0188 · Acme Plumbing")

    # A second reply arrives while the thread is open: it appears without a reload.
    second = "Can you come before 3pm?"
    assert post(live, "/hooks/twilio/sms/incoming/", sms_params(acme, CALLER, second)).status_code == 200
    expect(page.locator(".msg.in .bubble").last).to_have_text(second, timeout=LIVE_TIMEOUT)

    # Answer with the canned reply: a tap puts it in the box, the counter counts it as the server will.
    page.get_by_role("button", name="On my way").click()
    box = page.get_by_label("Reply")
    expect(box).to_have_value(CANNED)
    info = segment_info(CANNED)
    expect(page.locator("[data-segment-counter]")).to_contain_text(
        f"{info.segments} segment · {info.remaining} left · {info.encoding}"
    )
    page.get_by_role("button", name="Send").click()
    texts = live.fake.wait_for_messages(2, timeout=15)
    assert texts[1]["to"] == CALLER and texts[1]["body"] == CANNED
    expect(page.locator(".msg.out .bubble").last).to_have_text(CANNED)
    with schema_context(acme.schema_name):
        wait_until(
            lambda: Message.objects.get(body=CANNED).status == "sent", timeout=10, what="the reply sent"
        )
        assert Message.objects.get(body=CANNED).sent_by_id == personas.alice.pk

    # The job is won: on a phone the caller's details and outcome are one tap away, in place of the thread.
    page.get_by_role("link", name="Details").click()
    expect(page.locator(".contact-name")).to_have_text("(312) 555-0188")
    expect(page.locator(".msg").first).to_be_hidden()
    page.get_by_label("Job value ($)").fill("850")
    page.get_by_role("button", name="Won").click()
    expect(page.get_by_text("Marked won · $850")).to_be_visible()
    with schema_context(acme.schema_name):
        outcome = Outcome.objects.get(contact__phone_number=CALLER)
    assert (outcome.kind, outcome.value, outcome.recorded_by_id) == (
        "won",
        Decimal("850.00"),
        personas.alice.pk,
    )
    assert fits_the_screen(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "inbox-thread-phone")

    page.get_by_role("link", name="← Inbox").click()
    expect(page.locator(".conversation").first).to_contain_text("Won $850")
    expect(page).to_have_title("Inbox · Acme Plumbing")


def test_the_segment_counter_agrees_with_the_server(live, personas, page_for):
    samples = [
        "",
        "Hi",
        "a" * 160,
        "a" * 161,
        "€" * 80,
        "€" * 81,
        "Café ☕",
        "😀" * 35,
        "😀" * 36,
        "x" * 66 + "😀" + "x" * 3,
        "{[~]}" * 40,
        "Ça coûte 20 €, d'accord?\nMerci",
        "ç" * 70,
    ]
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/inbox/")
    for text in samples:
        got = page.evaluate("t => window.textbackSegmentInfo(t)", text)
        want = segment_info(text)
        assert (got["encoding"], got["units"], got["segments"], got["remaining"]) == (
            want.encoding,
            want.units,
            want.segments,
            want.remaining,
        ), text


def test_the_thread_on_a_desktop(live, personas, page_for, canned_reply):
    conversation = add_conversation(
        personas.acme,
        name="Wendy Walker",
        number="+13125550199",
        unread=1,
        texts=["Hi, my sump pump stopped", "Water is rising in the basement"],
    )
    page, base = page_for("acme.localhost", DESKTOP)
    log_in(page, base, personas.bob.email)
    page.goto(f"{base}/inbox/{conversation.pk}/")
    expect(page.get_by_role("heading", name="Wendy Walker")).to_be_visible()
    page.get_by_label("Assigned to").select_option(label="Bob")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Assigned to Bob")).to_be_visible()
    page.get_by_label("Internal note").fill("Regular customer, gate code 4411")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".note")).to_contain_text("gate code 4411")
    assert fits_the_screen(page)
    screenshot(page, "inbox-thread-desktop")
    page.get_by_role("button", name="Snooze 1 hour").click()
    expect(page.get_by_text("Snoozed until")).to_be_visible()
    expect(page.locator(".conversation", has_text="Wendy Walker")).to_have_count(0)
    page.get_by_role("link", name="Snoozed").click()
    expect(page.locator(".conversation", has_text="Wendy Walker")).to_have_count(1)


@pytest.fixture(autouse=True)
def _show_logs_on_failure(request, stack):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        stack.save_logs(request.node.name)
