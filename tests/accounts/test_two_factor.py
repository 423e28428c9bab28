"""Agency admins need a code from an authenticator app as well as their password; the first time they set
the app up from a QR code. Nobody else is asked."""

import base64
import re

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AgencyMembership
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_devices_from_earlier_runs(personas):
    """Browser tests commit the devices they set up; each test here starts with none."""
    TOTPDevice.objects.filter(user__in=[personas.nina, personas.sara, personas.nate]).delete()


def code_for(device: TOTPDevice, *, drift: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.drift = drift
    return f"{totp.token():06d}"


def password_step(web, host="localhost", email="nina@northwind.test"):
    browser = web(host)
    response = browser.post("/accounts/login/", {"username": email, "password": PASSWORD})
    return browser, response


def test_an_admin_sets_up_an_authenticator_on_first_login(web, personas):
    browser, response = password_step(web)
    assert response["Location"] == "/accounts/two-factor/"
    assert browser.get("/")["Location"].startswith("/accounts/login/")  # not logged in yet
    page = browser.get("/accounts/two-factor/").content.decode()
    assert "Set up two-factor login" in page and 'src="data:image/svg+xml;base64,' in page
    secret = re.search(r'<code class="totp-secret">(\w+)</code>', page).group(1)
    device = TOTPDevice.objects.get(user=personas.nina, confirmed=False)
    assert secret == base64.b32encode(device.bin_key).decode().rstrip("=")
    wrong = browser.post(
        "/accounts/two-factor/", {"token": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    done = browser.post("/accounts/two-factor/", {"token": code_for(device)})
    assert done.status_code == 302 and done["Location"] == "/accounts/two-factor/recovery-codes/"
    assert "Acme Plumbing" in browser.get("/").content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_an_admin_with_an_authenticator_is_asked_for_the_code_every_login(web, personas):
    device = TOTPDevice.objects.create(user=personas.sara, name="phone", confirmed=True)
    browser, response = password_step(web, email="sara@southpeak.test")
    page = browser.get("/accounts/two-factor/").content.decode()
    assert "Enter your code" in page and "totp-secret" not in page  # the secret is never shown again
    assert browser.post("/accounts/two-factor/", {"token": code_for(device)})["Location"] == "/"
    assert browser.get("/").status_code == 200


def test_on_a_client_host_an_admin_also_needs_the_code_and_lands_in_the_inbox(web, personas):
    device = TOTPDevice.objects.create(user=personas.nina, name="phone", confirmed=True)
    browser, response = password_step(web, host="acme.localhost")
    assert response["Location"] == "/accounts/two-factor/"
    assert browser.post("/accounts/two-factor/", {"token": code_for(device)})["Location"] == "/inbox/"


@pytest.mark.parametrize("who", ["nate", "alice"])
def test_staff_and_owners_are_not_asked(web, personas, who):
    host = "acme.localhost" if who == "alice" else "localhost"
    _, response = password_step(web, host=host, email=getattr(personas, who).email)
    assert response["Location"] in ("/", "/inbox/")


def test_the_second_step_without_the_first_sends_you_to_log_in(web, personas):
    response = web("localhost").get("/accounts/two-factor/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert (
        web("localhost").post("/accounts/two-factor/", {"token": "123456"})["Location"] == "/accounts/login/"
    )


def test_a_staff_member_promoted_to_admin_is_asked_from_then_on(web, personas):
    AgencyMembership.objects.filter(user=personas.nate).update(role="admin")
    _, response = password_step(web, email="nate@northwind.test")
    assert response["Location"] == "/accounts/two-factor/"
