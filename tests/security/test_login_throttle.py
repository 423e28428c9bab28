"""Password guessing. Failures count per account across every host (one client's login page and another's are the
same account), per account from any number of addresses, and per address; and the address is the one the request
came from, unless it came through the proxy we were told about, so a forged X-Forwarded-For picks nothing. A forged
X-Forwarded-Proto does not pass plain http for https either."""

import pytest

from accounts.throttle import ACCOUNT_FAILURE_LIMIT, LOGIN_FAILURE_LIMIT
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"


def login(web, host: str, email: str, password: str, **headers):
    return web(host).post("/accounts/login/", {"username": email, "password": password}, **headers)


def locked(response) -> bool:
    return response.status_code == 200 and "Too many failed attempts" in response.content.decode()


def test_guesses_spread_over_hosts_count_together(web, personas):
    # Nina's account may log in on the platform host and on both of her agency's clients' hosts.
    hosts = ["acme.localhost", "bolt.localhost", "localhost"]
    for n in range(LOGIN_FAILURE_LIMIT):
        login(web, hosts[n % 3], personas.nina.email, f"guess-{n}")
    assert locked(login(web, "bolt.localhost", personas.nina.email, PASSWORD))
    assert locked(login(web, "localhost", personas.nina.email, PASSWORD))


def test_guesses_from_many_addresses_lock_the_account(web, personas):
    for n in range(ACCOUNT_FAILURE_LIMIT):
        login(web, "acme.localhost", personas.alice.email, f"guess-{n}", REMOTE_ADDR=f"203.0.113.{n + 1}")
    assert locked(login(web, "acme.localhost", personas.alice.email, PASSWORD, REMOTE_ADDR="203.0.113.39"))


def test_a_forged_x_forwarded_for_picks_no_address(web, personas, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    for n in range(LOGIN_FAILURE_LIMIT):
        # Not from the proxy: each guess claims another client address.
        login(
            web, "acme.localhost", personas.alice.email, f"guess-{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        )
    assert locked(
        login(web, "acme.localhost", personas.alice.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    )


def test_behind_the_trusted_proxy_each_client_is_counted_by_its_own_address(web, personas, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    for n in range(LOGIN_FAILURE_LIMIT):
        login(
            web,
            "acme.localhost",
            personas.alice.email,
            f"guess-{n}",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    # The guesser is held up; Alice, behind the same proxy from her own address, is not.
    assert locked(
        login(
            web,
            "acme.localhost",
            personas.alice.email,
            PASSWORD,
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    )
    alice = login(
        web,
        "acme.localhost",
        personas.alice.email,
        PASSWORD,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.8, 198.51.100.7",
    )  # the left entry is the client's to write
    assert locked(alice)
    alice = login(
        web,
        "acme.localhost",
        personas.alice.email,
        PASSWORD,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7, 198.51.100.8",
    )
    assert alice.status_code == 302


def test_a_forged_x_forwarded_proto_does_not_pass_for_https(web, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = web("localhost").get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    # From the proxy named in FORWARDED_ALLOW_IPS it is believed.
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert (
        web("localhost")
        .get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR=PROXY)
        .status_code
        == 200
    )
    assert web("localhost").get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 301
