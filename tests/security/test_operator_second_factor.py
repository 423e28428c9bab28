"""An operator's account opens every agency. Someone with the operator's password (phished, reused, guessed) still
needs the operator's authenticator, at the Django admin as everywhere else; guessing is throttled there as on every
login page; and the admin never shows anyone's authenticator key or recovery codes."""

import importlib

import pytest
from django.apps import apps
from django.test import Client as HttpClient
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.throttle import LOGIN_FAILURE_LIMIT
from accounts.two_factor import RECOVERY_DEVICE_NAME, recovery_code_use, recovery_codes_create
from tests.personas import PASSWORD

from .account_steps import authenticator, code_for

pytestmark = pytest.mark.django_db


def test_the_operators_password_alone_does_not_open_the_admin(web, personas):
    authenticator(personas.oscar)
    attacker = web("localhost")
    response = attacker.post(
        "/admin/login/?next=/admin/", {"username": personas.oscar.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/"
    assert attacker.get("/admin/")["Location"].startswith("/admin/login/")
    assert attacker.get("/agency/northwind/team/")["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in attacker.session


def test_an_operator_session_made_without_the_second_factor_counts_for_nothing(personas):
    # However it came about (a handoff link, a session table written to), it is not a login.
    browser = HttpClient(HTTP_HOST="localhost")
    browser.force_login(personas.oscar)
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")
    assert browser.get("/agency/northwind/brand/")["Location"].startswith("/accounts/login/")
    assert HttpClient(HTTP_HOST="acme.localhost").get("/admin/").status_code == 302


def test_the_operator_with_the_code_reaches_the_admin(web, personas):
    device = authenticator(personas.oscar)
    browser = web("localhost")
    browser.post("/admin/login/?next=/admin/", {"username": personas.oscar.email, "password": PASSWORD})
    assert browser.post("/accounts/two-factor/", {"token": code_for(device)})["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


def test_an_operator_without_an_authenticator_sets_one_up_before_any_session(web, personas):
    TOTPDevice.objects.filter(user=personas.oscar).delete()
    browser = web("localhost")
    browser.post("/admin/login/", {"username": personas.oscar.email, "password": PASSWORD})
    assert "Set up two-factor login" in browser.get("/accounts/two-factor/").content.decode()
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")


def test_guessing_at_the_admin_login_is_throttled(web, personas):
    attacker = web("localhost")
    for n in range(LOGIN_FAILURE_LIMIT):
        attacker.post("/admin/login/", {"username": personas.oscar.email, "password": f"guess-{n}"})
    locked = attacker.post("/admin/login/", {"username": personas.oscar.email, "password": PASSWORD})
    assert locked.status_code == 200 and "Too many failed attempts" in locked.content.decode()


def test_the_admin_shows_nobodys_authenticator_key_or_recovery_codes(web, personas):
    device = authenticator(personas.nina)
    codes = recovery_codes_create(user=personas.nina)
    oscar = web("localhost", personas.oscar)
    change = oscar.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert change.status_code == 200
    html = change.content.decode()
    assert device.key not in html and "qrcode" not in html
    listing = oscar.get("/admin/otp_totp/totpdevice/").content.decode()
    assert "qrcode" not in listing
    static = oscar.get("/admin/otp_static/staticdevice/").content.decode()
    assert not any(code.replace("-", "") in static for code in codes)


def test_recovery_codes_are_stored_only_as_keyed_hashes(personas):
    codes = recovery_codes_create(user=personas.nina)
    stored = set(StaticToken.objects.filter(device__user=personas.nina).values_list("token", flat=True))
    assert len(stored) == len(codes)
    assert not stored & {code.replace("-", "") for code in codes}
    assert recovery_code_use(user=personas.nina, code=codes[0]) is not None  # and still work, once
    assert recovery_code_use(user=personas.nina, code=codes[0]) is None


def test_codes_stored_before_hashing_are_hashed_by_the_migration_and_still_work(personas):
    recovery_codes_create(user=personas.nina)
    token = StaticToken.objects.filter(device__user=personas.nina, device__name=RECOVERY_DEVICE_NAME).first()
    token.token = "abcdefgh"  # as the old code stored it
    token.save()
    migration = importlib.import_module("accounts.migrations.0011_recovery_codes_hashed")
    migration.hash_recovery_codes(apps, None)
    migration.hash_recovery_codes(apps, None)  # run twice: a hashed code is left alone
    token.refresh_from_db()
    assert token.token != "abcdefgh" and len(token.token) == 16
    assert recovery_code_use(user=personas.nina, code="abcd-efgh") is not None
