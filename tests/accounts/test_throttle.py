"""Failed logins: after five for one email from one address, the form stops checking passwords for a while."""

import pytest

from accounts.throttle import LOGIN_FAILURE_LIMIT
from tests.personas import PASSWORD

from .conftest import clear_login_failures

pytestmark = pytest.mark.django_db


def attempt(web, password, *, email="alice@acme.test", ip="127.0.0.1"):
    return web("acme.localhost").post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_it_locks_an_account_from_one_address_after_repeated_failures(web, personas):
    for _ in range(LOGIN_FAILURE_LIMIT):
        assert attempt(web, "wrong").status_code == 200
    locked = attempt(web, PASSWORD)
    assert locked.status_code == 200
    assert "Too many failed attempts" in locked.content.decode()
    # Another address, or another account from this one, is not held up.
    assert attempt(web, PASSWORD, ip="10.0.0.9").status_code == 302
    assert attempt(web, PASSWORD, email="bob@acme.test").status_code == 302


def test_a_success_clears_the_count(web, personas):
    for _ in range(LOGIN_FAILURE_LIMIT - 1):
        attempt(web, "wrong")
    assert attempt(web, PASSWORD).status_code == 302
    for _ in range(LOGIN_FAILURE_LIMIT - 1):
        attempt(web, "wrong")
    assert attempt(web, PASSWORD).status_code == 302


def test_an_unknown_address_is_locked_the_same_way(web, personas):
    clear_login_failures("ghost@nowhere.test")
    for _ in range(LOGIN_FAILURE_LIMIT):
        attempt(web, "wrong", email="ghost@nowhere.test")
    assert "Too many failed attempts" in attempt(web, "x", email="ghost@nowhere.test").content.decode()
