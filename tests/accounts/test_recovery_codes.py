"""Recovery codes for agency admins: made and shown once when the authenticator is set up, each good for one
login in place of the app's code, made anew (voiding the old ones) from the team page."""

import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ClientMembership
from tests.accounts.test_two_factor import code_for, password_step

pytestmark = pytest.mark.django_db

URL = "/accounts/two-factor/recovery-codes/"


@pytest.fixture(autouse=True)
def _no_devices_from_earlier_runs(personas):
    TOTPDevice.objects.filter(user__in=[personas.nina, personas.sara]).delete()
    StaticDevice.objects.filter(user__in=[personas.nina, personas.sara]).delete()


def codes_on(page: str) -> list[str]:
    return re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", page)


def set_up(web, email="nina@northwind.test"):
    """First login of an admin: password, authenticator, and the page with the codes."""
    browser, _ = password_step(web, email=email)
    browser.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user__email=email, confirmed=False)
    done = browser.post("/accounts/two-factor/", {"token": code_for(device)})
    assert done["Location"] == URL
    return browser, codes_on(browser.get(URL).content.decode())


def second_step(web, token, email="nina@northwind.test"):
    # django-otp makes a device wait after a failure (1 s, doubling); the tests do not wait, they reset it.
    StaticDevice.objects.filter(user__email=email).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    browser, _ = password_step(web, email=email)
    return browser, browser.post("/accounts/two-factor/", {"token": token})


def test_the_codes_are_shown_once_when_the_authenticator_is_set_up(web, personas):
    browser, codes = set_up(web)
    assert len(codes) == 10 and len(set(codes)) == 10
    again = browser.get(URL).content.decode()
    assert codes_on(again) == [] and "You have 10 recovery codes left." in again
    assert browser.get("/").status_code == 200  # logged in


def test_a_code_logs_in_once(web, personas):
    _, codes = set_up(web)
    browser, response = second_step(web, codes[0].upper().replace("-", " "))
    assert response.status_code == 302 and response["Location"] == "/"
    assert "You logged in with a recovery code; 9 left." in browser.get("/").content.decode()
    _, reused = second_step(web, codes[0])
    assert reused.status_code == 400
    assert "That recovery code is not right, or it was used already." in reused.content.decode()
    _, other = second_step(web, codes[1])
    assert other.status_code == 302
    assert StaticDevice.objects.get(user=personas.nina).token_set.count() == 8


def test_making_new_codes_voids_the_old_ones(web, personas):
    browser, old = set_up(web)
    assert browser.post(URL).status_code == 302
    new = codes_on(browser.get(URL).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert second_step(web, old[0])[1].status_code == 400
    assert second_step(web, new[0])[1].status_code == 302


def test_another_admins_codes_do_not_open_this_account(web, personas):
    _, nina_codes = set_up(web)
    _, sara_codes = set_up(web, email="sara@southpeak.test")
    assert second_step(web, sara_codes[0])[1].status_code == 400
    assert second_step(web, nina_codes[0], email="sara@southpeak.test")[1].status_code == 400


def test_a_recovery_code_does_not_replace_setting_up_the_authenticator(web, personas):
    """Before an authenticator is set up there are no codes: letters typed there are simply a wrong code."""
    browser, _ = password_step(web)
    response = browser.post("/accounts/two-factor/", {"token": "abcd-efgh"})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    assert browser.get("/")["Location"].startswith("/accounts/login/")


def test_who_may_see_the_page(web, personas):
    assert web("localhost", personas.nina).get(URL).status_code == 200
    assert web("localhost", personas.sara).get(URL).status_code == 200
    assert web("localhost", personas.nate).get(URL).status_code == 404  # agency staff have no second factor
    assert web("localhost", personas.nate).post(URL).status_code == 404
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.alice, personas.bob, readonly, personas.nina):
        assert web("acme.localhost", user).get(URL).status_code == 404  # on a client's host: nobody
    anonymous = web("localhost").get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert not StaticDevice.objects.filter(user=personas.nate).exists()
