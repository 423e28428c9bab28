"""Open (agency dashboard) and the client switcher hand a person to a client's host with a one-time token.
The attacker's ways to use such a token: find it in a URL (a log line, a browser history, a mail scanner or
prefetch following a link), or make a victim's browser post one from another site (login CSRF). Each is
refused, and the refusal leaves no session behind."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _token(web, personas) -> str:
    response = web("localhost", personas.nate).post(f"/agency/clients/{personas.acme.pk}/open/")
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def _logged_in(browser) -> bool:
    return browser.get("/inbox/").status_code == 200


def test_a_token_in_a_url_logs_nobody_in(web, personas):
    token = _token(web, personas)
    scanner = web("acme.localhost")
    for path in (f"/accounts/enter/{token}/", f"/accounts/enter/?token={token}"):
        response = scanner.get(path)
        assert response.status_code in (404, 405)
    assert not _logged_in(scanner)
    # The scanner's GETs did not use the token up: its owner still arrives with it.
    owner = web("acme.localhost")
    owner.post("/accounts/enter/", {"token": token}, HTTP_ORIGIN="http://localhost:8000")
    assert _logged_in(owner)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost.evil.example:8000",
        "null",
        None,
        "http://localhost:9999",
        "https://localhost:8000",
    ],
)
def test_a_token_posted_from_another_site_logs_nobody_in(web, personas, origin):
    token = _token(web, personas)
    victim = web("acme.localhost")
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = victim.post("/accounts/enter/", {"token": token}, **headers)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not _logged_in(victim)


def test_a_token_is_never_written_into_a_link(web, personas):
    response = web("localhost", personas.nate).post(f"/agency/clients/{personas.acme.pk}/open/")
    html = response.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert response.status_code == 200 and "Location" not in response
    assert f"enter/{token}" not in html and f"token={token}" not in html
