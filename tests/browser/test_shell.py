"""The app shell every page shares: the sections in a side navigation on a desktop and a bottom bar on a phone,
the current one marked, a skip link, and a focus ring a keyboard user can see."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in

DEVICES = {"desktop": DESKTOP, "phone": PHONE}
CLIENT_SECTIONS = [
    ("Inbox", "/inbox/"),
    ("Contacts", "/contacts/"),
    ("Reports", "/reports/"),
    ("Settings", "/settings/"),
    ("Team", "/team/"),
]


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


@pytest.mark.parametrize("device", DEVICES)
def test_every_section_of_a_business_is_one_tap_away_and_marked_when_open(page_for, personas, device):
    page, base = page_for("acme.localhost", DEVICES[device])
    log_in(page, base, personas.alice.email)
    nav = main_nav(page)
    for label, path in CLIENT_SECTIONS:
        nav.get_by_role("link", name=label).click()
        page.wait_for_url(f"{base}{path}")
        expect(nav.locator("[aria-current=page]")).to_have_count(1)
        expect(nav.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        expect(nav).to_be_in_viewport()  # the side bar, or the bar at the bottom of a phone
        assert fits_the_screen(page), f"{label} scrolls sideways on a {device}"
    box = nav.bounding_box()
    if device == "phone":  # a bar along the bottom edge, as wide as the screen
        assert box["width"] == PHONE["viewport"]["width"]
        assert box["y"] + box["height"] == pytest.approx(PHONE["viewport"]["height"], abs=1)
    else:  # a column down the left
        assert box["x"] < 50 and box["width"] < 300 and box["height"] > box["width"]


@pytest.mark.parametrize("device", DEVICES)
def test_the_agency_sees_its_own_sections(page_for, personas, device):
    page, base = page_for("localhost", DEVICES[device])
    log_in(page, base, personas.nate.email)
    nav = main_nav(page)
    expect(nav.get_by_role("link", name="Clients")).to_have_attribute("aria-current", "page")
    assert fits_the_screen(page)
    nav.get_by_role("link", name="Reports").click()
    expect(nav.get_by_role("link", name="Reports")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Clients")).not_to_have_attribute("aria-current", "page")
    assert fits_the_screen(page)


def test_a_keyboard_user_skips_to_the_page_and_always_sees_where_focus_is(page_for, personas):
    page, base = page_for("acme.localhost", DESKTOP)
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/contacts/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # hidden until it is needed, on screen when it is
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # From the top again, to the navigation: each link shows a ring where the keyboard is.
    page.goto(f"{base}/contacts/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")  # the first section
    focused = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {text: el.innerText.trim(), outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
    }""")
    assert focused["text"] == "Inbox"
    assert focused["outline"] != "none" and focused["width"] >= 2
    screenshot(page, "shell-focus-desktop")


def test_the_account_menu_logs_out_on_a_phone(page_for, personas):
    page, base = page_for("acme.localhost", PHONE)
    log_in(page, base, personas.bob.email)
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    page.locator(".account summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url or url.rstrip("/") == base)
    expect(page.get_by_role("heading", name="Log in to Acme Plumbing")).to_be_visible()


@pytest.mark.parametrize("device", DEVICES)
def test_the_agency_dashboard_opens_with_the_money(page_for, personas, device):
    page, base = page_for("localhost", DEVICES[device])
    log_in(page, base, personas.nate.email)
    totals = page.get_by_role("region", name="This month's totals")
    expect(totals).to_be_in_viewport()
    for label in ("Recovered this month", "Missed calls", "Replies waiting", "Clients needing attention"):
        expect(totals.get_by_text(label, exact=True)).to_be_visible()
    expect(totals.locator("svg.spark")).to_have_count(3)
    # The money comes first: the totals sit above the list of clients.
    assert totals.bounding_box()["y"] < page.locator("table.dash-table").bounding_box()["y"]
    row = page.locator(f"#client-{personas.acme.pk}")
    expect(row.get_by_role("button", name="Open")).to_be_visible()
    expect(row.get_by_role("link", name="Pause")).to_be_hidden()  # in the row's menu
    row.locator(".menu > summary").click()
    expect(row.get_by_role("link", name="Pause")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, f"agency-dashboard-menu-{device}")
    page.keyboard.press("Escape")
    expect(row.get_by_role("link", name="Pause")).to_be_hidden()
