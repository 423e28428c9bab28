"""The settings page on a client's host: who may see and change it, what a save writes (all of it, in this
client only) and what it refuses (leaving everything as it was)."""

import re
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from accounts.models import Client
from messaging.models import Template

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
URL = "/settings/"
MAY_CHANGE = ["alice", "nina", "nate", "oscar"]
TURNED_AWAY = ["dave", "erin", "sara", "charlie"]
KINDS = ["business_hours", "after_hours", "returning_caller"]
SETTINGS_FIELDS = [
    "business_hours",
    "closures",
    "timezone",
    "text_delay_seconds",
    "suppress_hours",
    "min_ring_seconds",
    "ring_timeout_seconds",
    "response_target_minutes",
    "average_job_value",
    "reply_conversion_rate",
]


def valid_post(**overrides) -> dict:
    data = {
        "business_hours": "mon-fri 08:00-17:00; sat 09:00-12:00",
        "timezone": "America/Denver",
        "text_delay_seconds": "30",
        "suppress_hours": "48",
        "min_ring_seconds": "3",
        "ring_timeout_seconds": "25",
        "voicemail": "on",
        "voicemail_max_seconds": "120",
        "closures": "2026-12-25 Christmas\n2026-12-31..2027-01-01 New Year",
        "response_target_minutes": "20",
        "average_job_value": "275.00",
        "reply_conversion_rate": "15",
        "messaging_registration": "not_needed",
        # After the first text (CallerStepsForm): what a fresh client has.
        "booking_url": "",
        "followup_after_hours": "3",
        "followup_window_start": "8",
        "followup_window_end": "21",
        "followup_state_rules": "on",
        "urgent_keywords": "on",
        "book_keywords": "on",
        "emergency_alerts": "on",
        "wrong_number_closes": "on",
        "spam_hidden": "on",
        # What replies may tell callers (FactsForm): the AI receptionist stays off.
        "receptionist_max_replies": "3",
    }
    for kind in KINDS:
        data[f"{kind}-body"] = f"Hi {{caller_name}}, {kind} at {{business_name}}."
        data[f"{kind}-is_active"] = "on"
        data[f"{kind}-body_b"] = ""  # a browser sends the empty textarea (an omitted field keeps its value)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def snapshot(client: Client) -> dict:
    row = Client.objects.get(pk=client.pk)
    with schema_context(client.schema_name):
        templates = {t.kind: (t.body, t.is_active) for t in Template.objects.all()}
    return {"client": {name: getattr(row, name) for name in SETTINGS_FIELDS}, "templates": templates}


# --- Access ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [*MAY_CHANGE, "bob"])
def test_members_and_their_agency_see_the_settings(web, personas, who):
    response = web(HOST, getattr(personas, who)).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    # The hours as day rows: Monday's lunch break, Saturday's morning, Sunday off.
    assert 'name="business_hours_mon_start_1" value="13:00"' in page
    assert 'name="business_hours_sat_open" value="1" checked' in page
    assert 'name="business_hours_sun_open" value="1" data-hours-toggle' in page
    assert '<option value="America/Chicago" selected>' in page
    for kind in KINDS:
        assert f'name="{kind}-body"' in page and f'name="{kind}-is_active"' in page
    assert 'href="/settings/"' in page  # the nav link


def test_client_staff_see_the_settings_read_only(web, personas):
    page = web(HOST, personas.bob).get(URL).content.decode()
    assert "Save settings" not in page
    assert "only the business's owners and its agency can change them" in page
    assert re.search(r'<select name="timezone"[^>]* disabled', page)
    assert re.search(r'name="business_hours_mon_start_0" value="08:00"[^>]* disabled', page)


@pytest.mark.parametrize("who", MAY_CHANGE)
def test_owners_agency_staff_and_operators_may_save(web, personas, who):
    response = web(HOST, getattr(personas, who)).post(URL, valid_post())
    assert response.status_code == 302 and response["Location"] == URL
    saved = snapshot(personas.acme)
    assert saved["client"] == {
        "business_hours": {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
        | {"sat": [["09:00", "12:00"]]},
        "timezone": "America/Denver",
        "text_delay_seconds": 30,
        "suppress_hours": 48,
        "min_ring_seconds": 3,
        "ring_timeout_seconds": 25,
        "closures": [
            {"start": "2026-12-25", "end": "2026-12-25", "label": "Christmas"},
            {"start": "2026-12-31", "end": "2027-01-01", "label": "New Year"},
        ],
        "response_target_minutes": 20,
        "average_job_value": Decimal("275.00"),
        "reply_conversion_rate": Decimal("15.00"),
    }
    assert saved["templates"] == {
        kind: (f"Hi {{caller_name}}, {kind} at {{business_name}}.", True) for kind in KINDS
    }


def test_client_staff_may_not_save(web, personas):
    before = snapshot(personas.acme)
    response = web(HOST, personas.bob).post(URL, valid_post())
    assert response.status_code == 403
    assert snapshot(personas.acme) == before


@pytest.mark.parametrize("who", [*TURNED_AWAY, None])
def test_strangers_and_anonymous_are_sent_to_log_in(web, personas, who):
    user = getattr(personas, who) if who else None
    response = web(HOST, user).get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/settings/")


@pytest.mark.parametrize("who", [*TURNED_AWAY, None])
def test_strangers_and_anonymous_cannot_save(web, personas, who):
    user = getattr(personas, who) if who else None
    before = snapshot(personas.acme)
    response = web(HOST, user).post(URL, valid_post())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert snapshot(personas.acme) == before


def test_the_platform_host_has_no_client_settings(web, personas):
    assert web("localhost", personas.nina).get(URL).status_code == 404


# --- What a save writes ------------------------------------------------------------------------------------


def test_a_save_on_acmes_host_never_touches_bolt(web, personas):
    bolt_before = snapshot(personas.bolt)
    # nina runs the agency of both clients; she saves on acme's host.
    response = web(HOST, personas.nina).post(
        URL, valid_post(**{"business_hours-body": "Bolt? {business_name}"})
    )
    assert response.status_code == 302
    assert snapshot(personas.bolt) == bolt_before
    assert snapshot(personas.acme)["templates"]["business_hours"] == ("Bolt? {business_name}", True)


def test_unticking_active_turns_a_template_off_and_none_closes_the_business(web, personas):
    data = valid_post(business_hours="none", **{"after_hours-is_active": None})
    assert web(HOST, personas.alice).post(URL, data).status_code == 302
    saved = snapshot(personas.acme)
    assert saved["client"]["business_hours"] == {}
    assert saved["templates"]["after_hours"][1] is False
    assert saved["templates"]["business_hours"][1] is True


def test_24_7_round_trips(web, personas):
    assert web(HOST, personas.alice).post(URL, valid_post(business_hours="24/7")).status_code == 302
    page = web(HOST, personas.alice).get(URL).content.decode()
    assert 'name="business_hours_sun_start_0" value="00:00"' in page
    assert 'name="business_hours_sun_end_0" value="23:59"' in page  # a time picker's last minute: midnight


# --- Previews ----------------------------------------------------------------------------------------------


def test_each_template_is_previewed_with_a_sample_caller_and_the_real_business(web, personas):
    with schema_context(personas.acme.schema_name):
        Template.objects.filter(kind="business_hours").update(
            body="Hi {caller_name}, {business_name} here. Call {business_phone}."
        )
    page = web(HOST, personas.alice).get(URL).content.decode()
    # acme forwards to +1 312 555 0142: the number a real text-back shows.
    assert "Hi Maria, Acme Plumbing here. Call (312) 555-0142." in page
    assert "GSM-7 · 1 segment" in page


def test_a_preview_shows_unicode_and_several_segments(web, personas):
    body = "Sorry we missed you 😊 " + "x" * 80
    assert (
        web(HOST, personas.alice).post(URL, valid_post(**{"returning_caller-body": body})).status_code == 302
    )
    page = web(HOST, personas.alice).get(URL).content.decode()
    assert "UCS-2 · 2 segments" in page


def test_after_a_refused_submit_valid_templates_preview_what_was_typed(web, personas):
    data = valid_post(timezone="Mars/Olympus", **{"after_hours-body": "Back soon, {caller_name}!"})
    response = web(HOST, personas.alice).post(URL, data)
    assert response.status_code == 400
    assert "Back soon, Maria!" in response.content.decode()


# --- Refusals: a 400 with the page and its errors, and nothing saved -----------------------------------------


REFUSALS = {
    "unknown placeholder": ({"business_hours-body": "Hi {caler_name}"}, "is not a placeholder"),
    "stray brace": ({"after_hours-body": "Hi {caller_name"}, "is never closed"),
    "empty body": ({"returning_caller-body": "   "}, "The text is empty."),
    "overlapping hours": ({"business_hours": "mon 08:00-12:00,11:00-17:00"}, "The shifts on mon overlap."),
    "backwards hours": ({"business_hours": "mon 17:00-08:00"}, "ends before it starts"),
    "not a day": ({"business_hours": "someday 09:00-17:00"}, "is not a day"),
    "empty hours": ({"business_hours": ""}, "Switch on the days the business is open"),
    "unknown time zone": ({"timezone": "Mars/Olympus"}, "is not a time zone"),
    "delay too long": ({"text_delay_seconds": "3601"}, "less than or equal to 3600"),
    "negative delay": ({"text_delay_seconds": "-1"}, "greater than or equal to 0"),
    "suppression too long": ({"suppress_hours": "721"}, "less than or equal to 720"),
    "minimum ring too long": ({"min_ring_seconds": "61"}, "less than or equal to 60"),
    "ring timeout too short": ({"ring_timeout_seconds": "4"}, "greater than or equal to 5"),
    "ring timeout too long": ({"ring_timeout_seconds": "61"}, "less than or equal to 60"),
    "not a number": ({"suppress_hours": "a day"}, "Enter a whole number."),
    "closure not a date": ({"closures": "Dec 25 Christmas"}, "is not a date; write it as YYYY-MM-DD"),
    "closure backwards": ({"closures": "2026-12-26..2026-12-24 Oops"}, "ends before it starts"),
    "closures overlap": ({"closures": "2026-12-24..2026-12-26 Christmas\n2026-12-26 Boxing Day"}, "overlap"),
    "no response target": ({"response_target_minutes": "0"}, "greater than or equal to 1"),
    "negative job value": ({"average_job_value": "-5"}, "greater than or equal to 0"),
    "job value not money": ({"average_job_value": "12.345"}, "no more than 2 decimal places"),
    "conversion over 100%": ({"reply_conversion_rate": "101"}, "less than or equal to 100"),
    "negative conversion": ({"reply_conversion_rate": "-1"}, "greater than or equal to 0"),
}


def test_holidays_and_the_response_target_are_saved_and_shown_as_typed(web, personas):
    browser = web(HOST, personas.alice)
    assert browser.post(URL, valid_post()).status_code == 302
    row = Client.objects.get(pk=personas.acme.pk)
    assert row.closures == [
        {"start": "2026-12-25", "end": "2026-12-25", "label": "Christmas"},
        {"start": "2026-12-31", "end": "2027-01-01", "label": "New Year"},
    ]
    assert row.response_target_minutes == 20
    page = browser.get(URL).content.decode()
    assert (
        'name="closures_start_1" value="2026-12-31"' in page
        and 'name="closures_end_1" value="2027-01-01"' in page
    )
    assert 'name="closures_label_1" value="New Year"' in page


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_save_changes_nothing(web, personas, case):
    overrides, message = REFUSALS[case]
    before = snapshot(personas.acme)
    response = web(HOST, personas.alice).post(URL, valid_post(**overrides))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved." in page
    assert message in page.replace("&#x27;", "'")
    # Everything else in the post was valid, and none of it was written either.
    assert snapshot(personas.acme) == before


def test_the_page_lists_every_placeholder(web, personas):
    from messaging.placeholders import PLACEHOLDERS

    page = web(HOST, personas.alice).get(URL).content.decode()
    for name in PLACEHOLDERS:
        assert f">{{{name}}}</abbr>" in page


@pytest.mark.parametrize("who", ["alice", "nate"])
def test_the_owner_and_agency_staff_set_the_average_job_value_the_reports_use(web, personas, who):
    browser = web(HOST, getattr(personas, who))
    try:
        assert browser.post(URL, valid_post(average_job_value="250.50")).status_code == 302
        assert Client.objects.get(pk=personas.acme.pk).average_job_value == Decimal("250.50")
        assert 'name="average_job_value" value="250.50"' in browser.get(URL).content.decode()
        assert "× $250.50 average job value" in browser.get("/reports/").content.decode()
        # Emptied, there is no estimate, and the report's hint links to the field.
        assert browser.post(URL, valid_post(average_job_value="")).status_code == 302
        assert Client.objects.get(pk=personas.acme.pk).average_job_value is None
        report = browser.get("/reports/").content.decode()
        assert '<a href="/settings/#id_average_job_value">Set an average job value' in report
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None)


def test_client_staff_see_the_average_job_value_but_cannot_change_it(web, personas):
    Client.objects.filter(pk=personas.acme.pk).update(average_job_value="99.00")
    try:
        staff = web(HOST, personas.bob)
        page = staff.get(URL).content.decode()
        assert 'name="average_job_value" value="99.00"' in page
        field = page.split('name="average_job_value"', 1)[1].split(">", 1)[0]
        assert "disabled" in field
        assert staff.post(URL, valid_post(average_job_value="1.00")).status_code == 403
        assert str(Client.objects.get(pk=personas.acme.pk).average_job_value) == "99.00"
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None)


def test_an_agency_reads_the_hint_with_a_link_to_the_clients_own_settings(web, personas):
    page = web("localhost", personas.nate).get("/reports/clients/acme/").content.decode()
    assert '<a href="http://acme.localhost:8000/settings/#id_average_job_value">' in page


# --- The controls' own posts (seven day rows, date rows) ---------------------------------------------------


def day_rows(week: dict) -> dict:
    """What the hours control posts: each day's switch and two spans of time pickers."""
    data = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        spans = week.get(day, [])
        if spans:
            data[f"business_hours_{day}_open"] = "1"
        for i in range(2):
            start, end = spans[i] if i < len(spans) else ("", "")
            data[f"business_hours_{day}_start_{i}"], data[f"business_hours_{day}_end_{i}"] = start, end
    return data


def test_the_day_rows_save_a_split_shift_and_midnight(web, personas):
    post = valid_post(
        **day_rows({"mon": [("08:00", "12:00"), ("13:00", "17:00")], "sat": [("18:00", "23:59")]})
    )
    del post["business_hours"]
    assert web(HOST, personas.alice).post(URL, post).status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).business_hours == {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
        "sat": [["18:00", "24:00"]],
    }


def test_every_day_switched_off_is_always_closed(web, personas):
    post = valid_post(**day_rows({}))
    del post["business_hours"]
    assert web(HOST, personas.alice).post(URL, post).status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).business_hours == {}


def test_a_day_switched_on_without_times_is_refused_beside_the_hours(web, personas):
    post = valid_post(**day_rows({"tue": [("09:00", "")]}))
    del post["business_hours"]
    response = web(HOST, personas.alice).post(URL, post)
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a time" in page and 'name="business_hours_tue_start_0" value="09:00"' in page  # kept


def test_the_date_rows_save_holidays(web, personas):
    post = valid_post(
        closures_start_0="2026-07-04",
        closures_end_0="",
        closures_label_0="Independence  Day",
        closures_start_1="",
        closures_end_1="",
        closures_label_1="",
        closures_start_2="2026-12-24",
        closures_end_2="2026-12-26",
        closures_label_2="Christmas",
    )
    del post["closures"]
    assert web(HOST, personas.alice).post(URL, post).status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).closures == [
        {"start": "2026-07-04", "end": "2026-07-04", "label": "Independence Day"},
        {"start": "2026-12-24", "end": "2026-12-26", "label": "Christmas"},
    ]


def test_emptying_every_date_row_removes_the_holidays(web, personas):
    browser = web(HOST, personas.alice)
    assert browser.post(URL, valid_post()).status_code == 302
    post = valid_post(closures_start_0="", closures_end_0="", closures_label_0="")
    del post["closures"]
    assert browser.post(URL, post).status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).closures == []


@pytest.mark.parametrize("who", ["alice", "nate"])
def test_the_owner_and_agency_staff_set_the_reply_conversion_rate_the_return_uses(web, personas, who):
    browser = web(HOST, getattr(personas, who))
    try:
        post = valid_post(average_job_value="200.00", reply_conversion_rate="12.5")
        assert browser.post(URL, post).status_code == 302
        assert Client.objects.get(pk=personas.acme.pk).reply_conversion_rate == Decimal("12.5")
        assert 'name="reply_conversion_rate" value="12.50"' in browser.get(URL).content.decode()
        assert "× 12.5% conversion × $200.00" in browser.get("/reports/").content.decode()
        # Emptied: no estimate from replies, and the report links to the field.
        assert browser.post(URL, valid_post(reply_conversion_rate="")).status_code == 302
        assert Client.objects.get(pk=personas.acme.pk).reply_conversion_rate is None
        assert (
            'href="/settings/#id_reply_conversion_rate">Set a reply conversion rate'
            in browser.get("/reports/").content.decode()
        )
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None, reply_conversion_rate=None)


def test_client_staff_cannot_change_the_reply_conversion_rate(web, personas):
    Client.objects.filter(pk=personas.acme.pk).update(reply_conversion_rate="30.00")
    try:
        staff = web(HOST, personas.bob)
        field = staff.get(URL).content.decode().split('name="reply_conversion_rate"', 1)[1].split(">", 1)[0]
        assert "disabled" in field
        assert staff.post(URL, valid_post(reply_conversion_rate="90")).status_code == 403
        assert Client.objects.get(pk=personas.acme.pk).reply_conversion_rate == Decimal("30.00")
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(reply_conversion_rate=None)


def test_a_second_wording_is_saved_previewed_and_emptied(web, personas):
    browser = web(HOST, personas.alice)
    try:
        post = valid_post(**{"after_hours-body_b": "Closed now, {caller_name}; we call back at 8."})
        assert browser.post(URL, post).status_code == 302
        with schema_context(personas.acme.schema_name):
            assert (
                Template.objects.get(kind="after_hours").body_b
                == "Closed now, {caller_name}; we call back at 8."
            )
        page = browser.get(URL).content.decode()
        assert "Preview of the second wording" in page and "Closed now, Maria; we call back at 8." in page
        assert browser.post(URL, valid_post()).status_code == 302  # the field left empty ends the test
        with schema_context(personas.acme.schema_name):
            assert Template.objects.get(kind="after_hours").body_b == ""
    finally:
        with schema_context(personas.acme.schema_name):
            Template.objects.update(body_b="")


def test_a_second_wording_with_an_unknown_placeholder_is_refused(web, personas):
    response = web(HOST, personas.alice).post(URL, valid_post(**{"business_hours-body_b": "Hi {nonsense}"}))
    assert response.status_code == 400 and "Nothing was saved." in response.content.decode()
    with schema_context(personas.acme.schema_name):
        assert Template.objects.get(kind="business_hours").body_b == ""


def test_the_facts_for_suggested_replies_are_saved_and_shown(web, personas):
    page = web(HOST, personas.alice).get(URL).content.decode()
    assert "What replies may tell callers" in page
    data = valid_post(facts_services="Drain cleaning", facts_area="Chicago", facts_prices="")
    response = web(HOST, personas.alice).post(URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.facts_services, acme.facts_area, acme.facts_prices) == ("Drain cleaning", "Chicago", "")
