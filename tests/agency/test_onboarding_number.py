"""The wizard's number step against Twilio faked at its HTTP boundary: search local numbers by area code and buy
one, or take one the agency's account already holds; either way the number is pointed at our webhooks. What
Twilio refuses is shown on the form with the reason. Offboarding gives a bought number back."""

import pytest
from django.test import override_settings

from accounts.models import AuditEntry, ClientMembership, Onboarding
from tests.agency.number_step import at_the_number_step, client_of, url

pytestmark = pytest.mark.django_db

HOOKS = {
    "voice_url": "http://localhost:8000/hooks/twilio/voice/incoming/",
    "sms_url": "http://localhost:8000/hooks/twilio/sms/incoming/",
    "status_callback": "http://localhost:8000/hooks/twilio/voice/status/",
}


@pytest.fixture
def onboarding(web, personas, monkeypatch):
    """A client at the number step (its schema provisioned in-process)."""
    return at_the_number_step(web, personas, monkeypatch)


def buy(browser, onboarding, number, **extra):
    return browser.post(
        url(onboarding),
        {
            "buy_number": number,
            "call_mode": "forward",
            "forward_to": "+13125550901",
            "messaging_registration": "pending",
            **extra,
        },
    )


def test_a_number_is_found_by_area_code_bought_and_pointed_at_us(web, personas, twilio, onboarding):
    browser = web("localhost", personas.nate)
    page = browser.get(url(onboarding), {"area_code": "312"})
    assert page.status_code == 200
    html = page.content.decode()
    assert all(f"+1312555011{n}" in html for n in range(5))

    response = buy(browser, onboarding, "+13125550112")
    assert response["Location"] == f"/agency/onboarding/{onboarding.pk}/templates/"
    client = client_of(onboarding)
    held = twilio.incoming_number("+13125550112")
    assert (str(client.phone_number), client.number_sid, client.number_bought) == (
        "+13125550112",
        held["sid"],
        True,
    )
    assert {key: held[key] for key in HOOKS} == HOOKS
    assert (held["voice_method"], held["sms_method"], held["status_callback_method"]) == (
        "POST",
        "POST",
        "POST",
    )
    # Coming back and saving again buys nothing more.
    assert buy(browser, onboarding, "+13125550112").status_code == 302
    assert [r["operation"] for r in twilio.requests].count("CreateIncomingPhoneNumber") == 1
    twilio.assert_no_violations()


def test_a_number_the_account_already_holds_is_pointed_at_us(web, personas, twilio, onboarding):
    twilio.add_incoming_number("+13125550900", voice_url="https://old-app.example.com/voice")
    browser = web("localhost", personas.nate)
    response = browser.post(
        url(onboarding),
        {"phone_number": "+1 312 555 0900", "call_mode": "carrier", "messaging_registration": "not_needed"},
    )
    assert response.status_code == 302
    held = twilio.incoming_number("+13125550900")
    assert {key: held[key] for key in HOOKS} == HOOKS
    client = client_of(onboarding)
    assert (client.number_sid, client.number_bought, client.call_mode) == (held["sid"], False, "carrier")
    twilio.assert_no_violations()


def test_a_number_not_in_the_account_is_a_form_error(web, personas, twilio, onboarding):
    response = web("localhost", personas.nate).post(
        url(onboarding),
        {"phone_number": "+13125550900", "call_mode": "carrier", "messaging_registration": "not_needed"},
    )
    assert response.status_code == 400
    assert "+13125550900 is not a number of your Twilio account." in response.content.decode()
    assert (
        client_of(onboarding).phone_number is None
        and Onboarding.objects.get(pk=onboarding.pk).reached == "number"
    )


def test_a_number_taken_since_the_search_is_a_form_error_with_the_reason(web, personas, twilio, onboarding):
    browser = web("localhost", personas.nate)
    browser.get(url(onboarding), {"area_code": "312"})
    twilio.take_number("+13125550110")
    response = buy(browser, onboarding, "+13125550110")
    assert response.status_code == 400
    assert "That number is no longer available: search again and choose another." in response.content.decode()
    assert client_of(onboarding).phone_number is None
    twilio.assert_no_violations()


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("drop", "Could not reach Twilio to buy the number; try again in a moment."),
        (500, "Twilio could not buy the number: Internal Server Error (error 20500)."),
        (401, "Twilio refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."),
    ],
)
def test_twilio_failing_while_buying_is_a_form_error(web, personas, twilio, onboarding, failure, reason):
    if failure == "drop":
        twilio.drop_connection_next(operation="buy")
    else:
        twilio.fail_next(failure, operation="buy")
    response = buy(web("localhost", personas.nate), onboarding, "+13125550110")
    assert response.status_code == 400
    assert reason in response.content.decode().replace("&#x27;", "'")
    assert client_of(onboarding).phone_number is None


def test_a_lost_answer_to_a_purchase_that_went_through_is_not_bought_twice(web, personas, twilio, onboarding):
    """The first attempt bought the number but its answer never came; the retry finds it is ours already."""
    twilio.add_incoming_number("+13125550110")
    response = buy(web("localhost", personas.nate), onboarding, "+13125550110")
    assert response.status_code == 302
    assert client_of(onboarding).number_sid == twilio.incoming_number("+13125550110")["sid"]


def test_bad_search_and_empty_choice_are_form_errors_without_asking_twilio(web, personas, twilio, onboarding):
    browser = web("localhost", personas.nate)
    for area_code in ("12", "abc", "112", "3125"):
        response = browser.get(url(onboarding), {"area_code": area_code})
        assert response.status_code == 400
        assert (
            "Enter a three-digit US area code" in response.content.decode()
            or "at most 3" in response.content.decode()
        )
    twilio.set_available("907", [])
    empty = browser.get(url(onboarding), {"area_code": "907"})
    assert empty.status_code == 400 and "No numbers are offered in that area code" in empty.content.decode()
    nothing = browser.post(url(onboarding), {"call_mode": "carrier", "messaging_registration": "not_needed"})
    assert (
        nothing.status_code == 400 and "Search for a number to buy and choose one" in nothing.content.decode()
    )
    garbage = buy(browser, onboarding, "call me")
    assert garbage.status_code == 400 and "Choose one of the numbers offered." in garbage.content.decode()
    assert [r["operation"] for r in twilio.requests] == ["ListAvailablePhoneNumberLocal"]


def test_choosing_another_number_gives_the_first_bought_one_back(web, personas, twilio, onboarding):
    browser = web("localhost", personas.nate)
    buy(browser, onboarding, "+13125550110")
    buy(browser, onboarding, "+13125550111")
    assert [n["phone_number"] for n in twilio.incoming_numbers] == ["+13125550111"]
    assert str(client_of(onboarding).phone_number) == "+13125550111"


def test_the_demo_buys_numbers_without_a_twilio_account(web, personas, onboarding, settings):
    settings.TELEPHONY_PROVIDER = "console"
    browser = web("localhost", personas.nate)
    html = browser.get(url(onboarding), {"area_code": "415"}).content.decode()
    assert "+14155550110" in html
    assert buy(browser, onboarding, "+14155550110").status_code == 302
    client = client_of(onboarding)
    assert (str(client.phone_number), client.number_bought) == ("+14155550110", True)
    assert client.number_sid.startswith("PN")


def test_offboarding_gives_a_bought_number_back(web, personas, twilio, onboarding):
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    client = client_of(onboarding)
    admin = web("localhost", personas.nina)
    response = admin.post(f"/agency/clients/{client.pk}/offboard/", {"confirmation": client.slug})
    assert response.status_code == 302
    assert twilio.incoming_numbers == []
    client.refresh_from_db()
    assert (client.status, client.phone_number, client.number_sid) == ("archived", None, "")
    assert "given back to Twilio" in AuditEntry.objects.get(action="offboard", client=client).detail
    twilio.assert_no_violations()


def test_offboarding_keeps_a_number_the_agency_brought(web, personas, twilio, onboarding):
    twilio.add_incoming_number("+13125550900")
    web("localhost", personas.nate).post(
        url(onboarding),
        {"phone_number": "+13125550900", "call_mode": "carrier", "messaging_registration": "not_needed"},
    )
    client = client_of(onboarding)
    web("localhost", personas.nina).post(
        f"/agency/clients/{client.pk}/offboard/", {"confirmation": client.slug}
    )
    assert client_of(onboarding).status == "archived"
    assert [n["phone_number"] for n in twilio.incoming_numbers] == ["+13125550900"]


def test_a_failed_release_stops_the_offboarding_with_the_reason(web, personas, twilio, onboarding):
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    client = client_of(onboarding)
    twilio.fail_next(503, operation="release")
    response = web("localhost", personas.nina).post(
        f"/agency/clients/{client.pk}/offboard/", {"confirmation": client.slug}
    )
    assert response.status_code == 400
    assert "Twilio could not release the number" in response.content.decode()
    assert client_of(onboarding).status == "live" and len(twilio.incoming_numbers) == 1


def test_a_number_already_released_at_twilio_does_not_stop_the_offboarding(web, personas, twilio, onboarding):
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    client = client_of(onboarding)
    twilio.reset()  # released in Twilio's console meanwhile
    web("localhost", personas.nina).post(
        f"/agency/clients/{client.pk}/offboard/", {"confirmation": client.slug}
    )
    assert client_of(onboarding).status == "archived"


def test_who_may_search_and_buy(web, personas, twilio, onboarding):
    for who in ("nina", "nate"):
        assert (
            web("localhost", getattr(personas, who)).get(url(onboarding), {"area_code": "312"}).status_code
            == 200
        )
    stranger = web("localhost", personas.sara)
    assert stranger.get(url(onboarding), {"area_code": "312"}).status_code == 404
    assert buy(stranger, onboarding, "+13125550110").status_code == 404
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.alice, personas.bob, readonly):
        response = buy(web("localhost", user), onboarding, "+13125550110")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert buy(web("acme.localhost", user), onboarding, "+13125550110").status_code == 404
    assert twilio.incoming_numbers == [] and client_of(onboarding).phone_number is None
    assert {r["operation"] for r in twilio.requests} == {"ListAvailablePhoneNumberLocal"}


@override_settings(PUBLIC_BASE_URL="https://app.textback.example")
def test_the_number_is_pointed_at_the_public_base_url(web, personas, twilio, onboarding):
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    held = twilio.incoming_number("+13125550110")
    assert held["voice_url"] == "https://app.textback.example/hooks/twilio/voice/incoming/"
    assert held["status_callback"] == "https://app.textback.example/hooks/twilio/voice/status/"
