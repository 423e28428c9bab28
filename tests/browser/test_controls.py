"""Real controls, as people use them: business hours as seven day rows with switches and time pickers (a split
shift saved and shown again), holidays picked on a calendar, the one time-zone picker, errors beside the field,
and copy buttons for secrets."""

import pytest
from playwright.sync_api import expect

from accounts.models import Client
from tests.browser.conftest import DESKTOP, PHONE, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in

DEVICES = {"desktop": DESKTOP, "phone": PHONE}
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def set_hours(page, week: dict[str, list[tuple[str, str]]]):
    """Switch each day on or off and type its spans (one, or two for a split shift), as a person would."""
    for day, label in DAY_NAMES.items():
        spans = week.get(day, [])
        switch = page.get_by_label(label, exact=True)
        if bool(spans) != switch.is_checked():
            switch.click()
        if not spans:
            continue
        page.get_by_label(f"{label} opens at", exact=True).fill(spans[0][0])
        page.get_by_label(f"{label} closes at", exact=True).fill(spans[0][1])
        second_open = page.get_by_label(f"{label}, after the break, opens at", exact=True)
        row = page.locator("[data-hours-day]", has=switch)
        if len(spans) > 1:
            if not second_open.is_visible():
                row.get_by_role("button", name="+ Break").click()
            second_open.fill(spans[1][0])
            page.get_by_label(f"{label}, after the break, closes at", exact=True).fill(spans[1][1])
        elif second_open.is_visible():
            row.get_by_role("button", name="Remove").click()


@pytest.fixture
def acme_settings_restored(personas):
    acme = Client.objects.get(pk=personas.acme.pk)
    yield acme
    Client.objects.filter(pk=acme.pk).update(
        business_hours=acme.business_hours, closures=acme.closures, timezone=acme.timezone
    )


@pytest.mark.parametrize("device", DEVICES)
def test_a_split_shift_and_a_holiday_are_saved_and_shown_again(
    page_for, personas, acme_settings_restored, device
):
    page, base = page_for("acme.localhost", DEVICES[device])
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/settings/")
    # What is stored today shows as switches and times: Acme closes for lunch on weekdays.
    expect(page.get_by_label("Monday", exact=True)).to_be_checked()
    expect(page.get_by_label("Monday, after the break, opens at", exact=True)).to_have_value("13:00")
    expect(page.get_by_label("Sunday", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Sunday opens at", exact=True)).to_be_hidden()

    set_hours(
        page,
        {
            "mon": [("07:30", "11:45"), ("12:30", "18:00")],
            "tue": [("08:00", "17:00")],
            "wed": [("08:00", "17:00")],
            "thu": [("08:00", "17:00")],
            "fri": [("08:00", "15:00")],
            "sun": [("10:00", "14:00")],
        },
    )
    page.get_by_label("Closure 1: first day").fill("2026-12-24")
    page.get_by_label("Closure 1: last day, if more than one").fill("2026-12-26")
    page.get_by_label("Closure 1: name").fill("Christmas break")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved")).to_be_visible()

    acme = Client.objects.get(pk=personas.acme.pk)
    assert acme.business_hours == {
        "mon": [["07:30", "11:45"], ["12:30", "18:00"]],
        "tue": [["08:00", "17:00"]],
        "wed": [["08:00", "17:00"]],
        "thu": [["08:00", "17:00"]],
        "fri": [["08:00", "15:00"]],
        "sun": [["10:00", "14:00"]],
    }
    assert acme.closures == [{"start": "2026-12-24", "end": "2026-12-26", "label": "Christmas break"}]
    # And shown again as they were set.
    page.reload()
    expect(page.get_by_label("Monday, after the break, closes at", exact=True)).to_have_value("18:00")
    expect(page.get_by_label("Saturday", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Sunday opens at", exact=True)).to_have_value("10:00")
    expect(page.get_by_label("Closure 1: last day, if more than one")).to_have_value("2026-12-26")
    page.get_by_label("Monday", exact=True).focus()
    screenshot(page, f"settings-hours-{device}")


def test_a_mistake_is_marked_beside_the_hours_and_nothing_is_saved(
    page_for, personas, acme_settings_restored
):
    page, base = page_for("acme.localhost", DESKTOP)
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/settings/")
    page.get_by_label("Tuesday closes at", exact=True).fill("07:00")  # before it opens
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    field = page.locator(".settings-field.has-error")
    expect(field).to_contain_text("ends before it starts")
    expect(field.locator(".hours")).to_be_visible()
    assert field.locator(".hours").evaluate("e => getComputedStyle(e).borderColor") == "rgb(185, 28, 28)"
    expect(page.get_by_label("Tuesday closes at", exact=True)).to_have_value("07:00")  # kept, to be fixed
    assert Client.objects.get(pk=personas.acme.pk).business_hours == acme_settings_restored.business_hours


def test_one_time_zone_picker_grouped_by_region(page_for, personas, acme_settings_restored):
    page, base = page_for("acme.localhost", DESKTOP)
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/settings/")
    picker = page.get_by_label("Time zone")
    expect(picker).to_have_value("America/Chicago")
    groups = picker.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups[0] == "United States" and "Europe" in groups and "Australia" in groups
    picker.select_option("Europe/Dublin")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved")).to_be_visible()
    assert Client.objects.get(pk=personas.acme.pk).timezone == "Europe/Dublin"


@pytest.fixture
def no_key_left(personas):
    from django_tenants.utils import schema_context

    from api.models import ApiKey

    yield
    # Committed through the live server, and other tests count the keys.
    with schema_context(personas.acme.schema_name):
        ApiKey.objects.filter(name="Copy test").delete()
    ApiKey.objects.filter(name="Copy test").delete()


def test_a_new_api_key_is_copied_with_one_tap(page_for, personas, no_key_left):
    page, base = page_for("acme.localhost", DESKTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/api/keys/")
    page.get_by_label("Name").fill("Copy test")
    page.locator("input[name=scope]").first.check()
    page.get_by_role("button", name="Make key").click()
    key = page.locator("#new-key").inner_text()
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
