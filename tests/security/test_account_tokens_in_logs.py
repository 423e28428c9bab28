"""Invitation and password-reset links carry a token. Whoever reads the logs (a hosting provider's support, a log
service, a leaked backup) must not find one there: the pages move the token out of the URL on first use, and every
log line, Django's and gunicorn's access log alike, has it taken out of the paths it names."""

import io
import logging
import re
from types import SimpleNamespace

import pytest
from django.core import mail
from gunicorn.config import Config

from config.gunicorn_logging import RedactingLogger
from config.redact import RedactTokensFilter

from .account_steps import link_in, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output():
    """What the configured console handler (settings.LOGGING) writes, as it writes it."""
    (handler,) = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactTokensFilter) for f in h.filters)
    ]
    output = io.StringIO()
    previous = handler.setStream(output)
    yield output
    handler.setStream(previous)


def test_no_log_line_holds_an_invitation_token(web, personas, mail_on_commit, log_output):
    web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "new@northwind.test", "role": "staff"}
    )
    path = path_of(link_in(mail.outbox[0], "/accounts/invitation/"))
    token = path.rstrip("/").rsplit("/", 1)[1]
    browser = web("localhost")
    opened = browser.get(path)
    assert opened["Location"] == "/accounts/invitation/"  # every later request is without it
    browser.post(
        "/accounts/invitation/",
        {
            "name": "N",
            "new_password1": "a-long-new-passphrase-42",
            "new_password2": "a-long-new-passphrase-42",
        },
    )
    spent = web("localhost").get(path)  # a spent link is a 404, which Django logs with its path
    assert spent.status_code == 404
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" 302 0', path)  # runserver's access log
    err = log_output.getvalue()
    assert "Not Found: /accounts/invitation/[redacted]/" in err
    assert '"GET /accounts/invitation/[redacted]/ HTTP/1.1" 302' in err
    assert token not in err


def test_no_log_line_holds_a_reset_token(web, personas, log_output):
    web("acme.localhost").post("/accounts/password/reset/", {"email": personas.alice.email})
    path = path_of(link_in(mail.outbox[0], "/accounts/password/reset/"))
    token = path.rstrip("/").rsplit("/", 1)[1]
    browser = web("acme.localhost")
    assert browser.get(path)["Location"].endswith("/set-password/")  # Django's own move out of the URL
    web("acme.localhost").get(path.replace(token, token[:-3] + "xyz") + "nope/")  # a 404 with a token in it
    err = log_output.getvalue()
    assert token not in err and token[:-3] not in err


def test_gunicorns_access_log_has_no_token():
    logger = RedactingLogger(Config())
    path = "/accounts/invitation/pLrXqEQb0Co-Ajn006yBV4eVYRqGSKTDmNB8jHGs69U/"
    request = SimpleNamespace(headers=[("REFERER", f"https://localhost{path}")], method="GET", version=(1, 1))
    response = SimpleNamespace(status="302 Found", headers=[], sent=0, response_length=0)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
    }
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=1000))
    line = logger.cfg.access_log_format % atoms
    assert "pLrXqEQb0Co" not in line
    assert re.search(r"GET /accounts/invitation/\[redacted\]/ HTTP/1.1", line)
