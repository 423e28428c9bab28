"""The wizard's number step and offboarding for an agency on Telnyx, through the wizard's pages against the fake
Telnyx at its HTTP boundary: a number is searched, bought (once) and pointed at our TeXML application and messaging
profile, the TeXML application at our voice and status webhooks; a replaced bought number, and a bought number at
offboarding, is given back to Telnyx; what Telnyx refuses is shown with the reason. Nothing goes to Twilio."""

import pytest

from accounts.models import Agency, AuditEntry
from tests.agency.number_step import at_the_number_step, client_of, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def onboarding(web, personas, telnyx, settings, monkeypatch):
    """northwind on Telnyx (rolled back after the test), and one of its clients at the number step (its schema
    provisioned in-process)."""
    settings.TELNYX_MESSAGING_PROFILE_ID = "profile-1"
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    return at_the_number_step(web, personas, monkeypatch)


def buy(browser, onboarding, number):
    return browser.post(
        url(onboarding),
        {
            "buy_number": number,
            "call_mode": "forward",
            "forward_to": "+13125550901",
            "messaging_registration": "pending",
        },
    )


def held(telnyx, number: str) -> dict | None:
    return next((n for n in telnyx.numbers.values() if n["phone_number"] == number), None)


def offboard(web, personas, client):
    return web("localhost", personas.nina).post(
        f"/agency/clients/{client.pk}/offboard/", {"confirmation": client.slug}
    )


def test_a_telnyx_number_is_found_bought_once_and_pointed_at_us(web, personas, telnyx, twilio, onboarding):
    browser = web("localhost", personas.nate)
    page = browser.get(url(onboarding), {"area_code": "312"})
    assert page.status_code == 200
    assert all(f"+1312555011{n}" in page.content.decode() for n in range(5))

    response = buy(browser, onboarding, "+13125550112")
    assert response["Location"] == f"/agency/onboarding/{onboarding.pk}/templates/"
    number = held(telnyx, "+13125550112")
    client = client_of(onboarding)
    assert (str(client.phone_number), client.number_sid, client.number_bought) == (
        "+13125550112",
        number["id"],
        True,
    )
    assert (number["connection_id"], number["messaging_profile_id"]) == (telnyx.texml_app_id, "profile-1")
    assert telnyx.texml_application["voice_url"] == "http://localhost:8000/hooks/telnyx/voice/incoming/"
    assert telnyx.texml_application["status_callback"] == "http://localhost:8000/hooks/telnyx/voice/status/"
    # Coming back and saving again buys nothing more; Twilio was never asked anything.
    assert buy(browser, onboarding, "+13125550112").status_code == 302
    assert [r["path"] for r in telnyx.requests].count("/v2/number_orders") == 1
    assert twilio.requests == []


def test_choosing_another_number_gives_the_first_bought_one_back_to_telnyx(web, personas, telnyx, onboarding):
    browser = web("localhost", personas.nate)
    buy(browser, onboarding, "+13125550110")
    first = held(telnyx, "+13125550110")["id"]
    assert buy(browser, onboarding, "+13125550111").status_code == 302
    assert [n["phone_number"] for n in telnyx.numbers.values()] == ["+13125550111"]
    assert {"method": "DELETE", "path": f"/v2/phone_numbers/{first}"} in [
        {"method": r["method"], "path": r["path"]} for r in telnyx.requests
    ]
    assert str(client_of(onboarding).phone_number) == "+13125550111"


def test_a_number_telnyx_no_longer_offers_is_a_form_error_with_the_reason(web, personas, telnyx, onboarding):
    telnyx.taken.add("+13125550110")
    response = buy(web("localhost", personas.nate), onboarding, "+13125550110")
    assert response.status_code == 400
    said = "Telnyx would not sell +13125550110 (Number not available): search again and choose another."
    assert said in response.content.decode()
    assert client_of(onboarding).phone_number is None and telnyx.numbers == {}


def test_a_number_the_telnyx_account_holds_is_adopted_and_kept_at_offboarding(
    web, personas, telnyx, onboarding
):
    number_id = telnyx.add_number("+13125550900")
    response = web("localhost", personas.nate).post(
        url(onboarding),
        {"phone_number": "+13125550900", "call_mode": "carrier", "messaging_registration": "not_needed"},
    )
    assert response.status_code == 302
    client = client_of(onboarding)
    assert (client.number_sid, client.number_bought) == (number_id, False)
    assert telnyx.numbers[number_id]["connection_id"] == telnyx.texml_app_id
    stranger = web("localhost", personas.nate).post(
        url(onboarding),
        {"phone_number": "+13125550901", "call_mode": "carrier", "messaging_registration": "not_needed"},
    )
    assert "+13125550901 is not a number of your Telnyx account." in stranger.content.decode()
    assert offboard(web, personas, client).status_code == 302
    assert client_of(onboarding).status == "archived" and number_id in telnyx.numbers


def test_offboarding_gives_a_bought_number_back_to_telnyx(web, personas, telnyx, onboarding):
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    client = client_of(onboarding)
    assert offboard(web, personas, client).status_code == 302
    assert telnyx.numbers == {}
    client.refresh_from_db()
    assert (client.status, client.phone_number, client.number_sid) == ("archived", None, "")
    assert "given back to Telnyx" in AuditEntry.objects.get(action="offboard", client=client).detail


def test_telnyx_failing_to_release_stops_the_offboarding_with_the_reason(web, personas, telnyx, onboarding):
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    client = client_of(onboarding)
    telnyx.fail_next(503, 10007)
    response = offboard(web, personas, client)
    assert response.status_code == 400
    assert "Telnyx could not release the number: Failed as asked (error 10007)." in response.content.decode()
    assert client_of(onboarding).status == "live" and len(telnyx.numbers) == 1


def test_another_agencys_people_cannot_buy_or_release_a_telnyx_agencys_numbers(
    web, personas, telnyx, onboarding
):
    stranger = web("localhost", personas.sara)  # southpeak's
    assert stranger.get(url(onboarding), {"area_code": "312"}).status_code == 404
    assert buy(stranger, onboarding, "+13125550110").status_code == 404
    assert telnyx.numbers == {} and client_of(onboarding).phone_number is None
    buy(web("localhost", personas.nate), onboarding, "+13125550110")
    client = client_of(onboarding)
    response = stranger.post(f"/agency/clients/{client.pk}/offboard/", {"confirmation": client.slug})
    assert response.status_code == 404
    assert client_of(onboarding).status != "archived" and len(telnyx.numbers) == 1
