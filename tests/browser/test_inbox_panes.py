"""The inbox's layout as staff see it: three panes side by side on a desktop (list, thread, caller), one at a
time on a phone; the tabs count what they hold; a caller waiting shows how long is left to answer them."""

from datetime import timedelta

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from inbox.models import CannedReply
from telephony.models import Call
from tests.browser.conftest import DESKTOP, PHONE, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.inbox.conftest import add_conversation

HOST = "bolt.localhost"  # open around the clock: the response target counts every minute, whenever this runs


@pytest.fixture
def working_day(live, personas):
    """Bolt Electric's inbox mid-morning: one caller just wrote, one has waited past the 15-minute target, one
    was answered, one only called."""
    bolt = personas.bolt
    fresh = add_conversation(
        bolt,
        name="Maria Gonzalez",
        number="+12025550161",
        minutes_ago=5,
        unread=1,
        texts=["Power is out in half the house, can someone come today?"],
    )
    late = add_conversation(
        bolt,
        name="Dev Patel",
        number="+12025550173",
        minutes_ago=40,
        unread=1,
        texts=["Breaker keeps tripping when the dryer runs"],
    )
    add_conversation(bolt, name="", number="+12025550142", minutes_ago=60 * 26, texts=["Thanks, all fixed!"])
    called = add_conversation(bolt, name="Sam Lee", number="+12025550188", minutes_ago=90, texts=[])
    with schema_context(bolt.schema_name):
        Call.objects.create(
            call_sid="CApanes1",
            from_number="+12025550188",
            to_number=str(bolt.phone_number),
            contact=called.contact,
            outcome=Call.Outcome.MISSED,
            started_at=now() - timedelta(minutes=90),
        )
        canned = CannedReply.objects.create(title="On our way", body="An electrician is on the way.")
    yield {"fresh": fresh, "late": late}
    with schema_context(bolt.schema_name):
        CannedReply.objects.filter(pk=canned.pk).delete()


def test_three_panes_side_by_side_on_a_desktop(page_for, personas, working_day):
    page, base = page_for(HOST, DESKTOP)
    log_in(page, base, personas.dave.email)
    page.goto(f"{base}/inbox/")
    # The tabs say how many each holds; the list shows who is waiting and for how long.
    expect(page.get_by_role("link", name="Open 4")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Unread 2")).to_be_visible()
    dev = page.locator(".conversation", has_text="Dev Patel")
    expect(dev.locator(".due.late")).to_have_text("late 25 min")
    maria = page.locator(".conversation", has_text="Maria Gonzalez")
    expect(maria.locator(".due")).to_have_text("due in 10 min")
    expect(maria.locator(".due")).not_to_have_class("due late")
    expect(maria.locator(".avatar")).to_have_text("MG")
    expect(page.locator(".conversation", has_text="Sam Lee").locator(".preview.missed")).to_have_text(
        "Missed call"
    )
    screenshot(page, "inbox-panes-list-desktop")

    maria.click()
    page.wait_for_url(f"{base}/inbox/{working_day['fresh'].pk}/")
    lists, thread, contact = (
        page.locator(".pane-list"),
        page.locator(".pane-thread"),
        page.locator(".pane-contact"),
    )
    for pane in (lists, thread, contact):
        expect(pane).to_be_in_viewport()
    boxes = [pane.bounding_box() for pane in (lists, thread, contact)]
    assert (
        boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] + 1
        and boxes[1]["x"] + boxes[1]["width"] <= boxes[2]["x"] + 1
    )
    assert len({round(box["y"]) for box in boxes}) == 1  # one row
    expect(page.locator(".conversation.is-open")).to_contain_text("Maria Gonzalez")
    expect(page.locator(".due-banner")).to_contain_text("Waiting for your answer: due in 10 min")
    # The reply box is in view without scrolling, with the canned replies and the number it sends from.
    reply = page.locator("form.reply")
    expect(reply).to_be_in_viewport()
    expect(reply.get_by_role("button", name="On our way")).to_be_visible()
    expect(reply).to_contain_text("From (202) 555-0100")
    expect(contact.locator(".contact-name")).to_have_text("Maria Gonzalez")
    screenshot(page, "inbox-panes-thread-desktop")
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")  # each pane scrolls

    # Answered: the countdown goes, from the thread and from the row.
    page.get_by_label("Reply").fill("We can be there by 2pm.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.out .bubble").last).to_have_text("We can be there by 2pm.")
    expect(page.locator(".due-banner")).to_have_count(0)
    expect(page.locator(".conversation.is-open .due")).to_have_count(0)


def test_one_pane_at_a_time_on_a_phone(page_for, personas, working_day):
    page, base = page_for(HOST, PHONE)
    log_in(page, base, personas.dave.email)
    page.goto(f"{base}/inbox/")
    expect(page.locator(".pane-list")).to_be_visible()
    expect(page.locator(".pane-thread")).to_be_hidden()
    expect(page.locator(".conversation", has_text="Dev Patel").locator(".due.late")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_in_viewport()
    assert fits_the_screen(page)
    screenshot(page, "inbox-panes-list-phone")

    page.locator(".conversation", has_text="Dev Patel").click()
    expect(page.get_by_role("heading", name="Dev Patel")).to_be_visible()
    expect(page.locator(".pane-list")).to_be_hidden()
    expect(page.locator(".pane-contact")).to_be_hidden()
    expect(page.locator(".due-banner.late")).to_contain_text("late 25 min")
    # The reply box is the bar along the bottom of the screen.
    reply = page.locator("form.reply").bounding_box()
    assert reply["y"] + reply["height"] == pytest.approx(PHONE["viewport"]["height"], abs=1)
    expect(page.locator("form.reply")).to_contain_text("From (202) 555-0100")
    assert fits_the_screen(page)
    screenshot(page, "inbox-panes-thread-phone")

    page.get_by_role("link", name="Details").click()
    expect(page.locator(".pane-contact")).to_be_visible()
    expect(page.locator(".pane-thread")).to_be_hidden()
    expect(page.locator(".contact-name")).to_have_text("Dev Patel")
    assert fits_the_screen(page)
    screenshot(page, "inbox-panes-contact-phone")
    page.get_by_role("link", name="← Conversation").click()
    expect(page.locator(".pane-thread")).to_be_visible()
