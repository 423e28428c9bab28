"""The settings page's "After the first text" section: the booking link, the follow-up and its allowed hours,
and the keywords that act. What is saved is this client's only; what is wrong is refused with a reason."""

import pytest

from accounts.models import Client
from tests.client_settings.test_settings_page import HOST, URL, valid_post

pytestmark = pytest.mark.django_db


def test_the_owner_sets_the_booking_link_and_the_follow_up(web, personas):
    data = valid_post(
        booking_url="https://book.example.com/acme",
        followup_after_hours="5",
        followup_window_start="9",
        followup_window_end="20",
        followup_state_rules=None,
        oncall_user=str(personas.bob.pk),
        oncall_call="on",
    )
    assert web(HOST, personas.alice).post(URL, data).status_code == 302
    acme, bolt = Client.objects.get(pk=personas.acme.pk), Client.objects.get(pk=personas.bolt.pk)
    assert (acme.booking_url, acme.followup_after_hours, acme.followup_window_start) == (
        "https://book.example.com/acme",
        5,
        9,
    )
    assert (acme.followup_window_end, acme.followup_state_rules) == (20, False)
    assert (acme.oncall_user_id, acme.oncall_call) == (personas.bob.pk, True)
    assert (bolt.booking_url, bolt.oncall_user_id) == (
        "",
        None,
    )  # nina's agency serves both; bolt is untouched
    page = web(HOST, personas.alice).get(URL).content.decode()
    assert 'value="https://book.example.com/acme"' in page
    assert "Bob" in page or personas.bob.email in page


@pytest.mark.parametrize(
    "fields, field, error",
    [
        ({"booking_url": "javascript:alert(1)"}, "booking_url", "Enter a valid URL."),
        ({"booking_url": "ftp://files.example.com/book"}, "booking_url", "starting with https://"),
        (
            {"booking_url": "https://me:secret@book.example.com/"},
            "booking_url",
            "Leave the user name and password out of the link.",
        ),
        ({"followup_after_hours": "100"}, "followup_after_hours", "less than or equal to 72"),
        (
            {"followup_window_start": "21", "followup_window_end": "8"},
            "followup_window_end",
            "must come after their start",
        ),
        ({"oncall_call": "on"}, "oncall_user", "Choose who is rung"),
    ],
)
def test_what_makes_no_sense_is_refused_with_a_reason(web, personas, fields, field, error):
    response = web(HOST, personas.alice).post(URL, valid_post(**fields))
    assert response.status_code == 400
    form = response.context["steps_form"]
    assert any(error in message for message in form.errors[field])
    assert Client.objects.get(pk=personas.acme.pk).booking_url == ""


def test_the_on_call_person_is_one_of_this_clients_people(web, personas):
    # dave owns bolt, not acme: offering him at acme would page a stranger with acme's callers' words.
    response = web(HOST, personas.alice).post(URL, valid_post(oncall_user=str(personas.dave.pk)))
    assert response.status_code == 400
    assert "oncall_user" in response.context["steps_form"].errors
    page = web(HOST, personas.alice).get(URL).content.decode()
    assert personas.dave.email not in page


def test_client_staff_see_the_section_read_only(web, personas):
    page = web(HOST, personas.bob).get(URL).content.decode()
    assert "After the first text" in page
    assert 'name="booking_url"' in page and "disabled" in page.split('name="booking_url"')[1].split(">")[0]


# --- The same setting from the onboarding wizard and the API -------------------------------------------------


def test_the_wizard_profile_step_sets_the_booking_link(web, personas, monkeypatch):
    from accounts.models import Onboarding
    from agency import onboarding as wizard

    monkeypatch.setattr(wizard, "onboarding_enqueue", lambda *, onboarding: None)
    browser = web("localhost", personas.nate)
    profile = {
        "name": "Harbor Heating",
        "industry": "hvac",
        "timezone": "America/Chicago",
        "average_job_value": "420",
        "booking_url": "book.harbor.example/online",  # typed without a scheme: https is assumed
    }
    assert browser.post("/agency/northwind/onboarding/new/", profile).status_code == 302
    onboarding = Onboarding.objects.get(client__slug="harbor-heating")
    assert onboarding.client.booking_url == "https://book.harbor.example/online"
    refused = browser.post(
        f"/agency/onboarding/{onboarding.pk}/profile/", {**profile, "booking_url": "javascript:alert(1)"}
    )
    assert refused.status_code == 400 and "Enter a valid URL." in refused.content.decode()
    stranger = web("localhost", personas.sara).post(
        f"/agency/onboarding/{onboarding.pk}/profile/", {**profile, "booking_url": "https://evil.example/"}
    )
    assert stranger.status_code == 404
    assert Client.objects.get(pk=onboarding.client_id).booking_url == "https://book.harbor.example/online"
