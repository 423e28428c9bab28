"""/accounts/login/ on every host admits exactly the people who belong there, and tells everyone else
the same thing it tells a wrong password."""

import pytest

from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

# host → who may log in there
ADMITTED = {
    "acme.localhost": {"alice", "bob", "nina", "nate", "oscar"},
    "bolt.localhost": {"dave", "nina", "nate", "oscar"},
    "cedar.localhost": {"erin", "sara", "oscar"},
    "localhost": {"nina", "nate", "sara", "oscar"},
}
EVERYONE = ["alice", "bob", "dave", "erin", "nina", "nate", "sara", "charlie", "oscar"]


def _login(web, host, email, password):
    return web(host).post("/accounts/login/", {"username": email, "password": password})


def _wrong_password_answer(web, host, email):
    response = _login(web, host, email, "not-the-password")
    assert response.status_code == 200
    return response.context["form"].non_field_errors()


@pytest.mark.parametrize("host", list(ADMITTED))
@pytest.mark.parametrize("who", EVERYONE)
def test_it_admits_members_and_refuses_everyone_else_like_a_wrong_password(web, personas, host, who):
    user = getattr(personas, who)
    response = _login(web, host, user.email, PASSWORD)
    if who in ADMITTED[host]:
        assert response.status_code == 302
        # Agency admins and operators go on to their second factor (tests/accounts/test_two_factor.py); agency
        # staff land on the dashboard; on a client's host everyone lands in the inbox.
        if who in ("nina", "sara", "oscar"):
            assert response["Location"] == "/accounts/two-factor/"
        else:
            assert response["Location"] == ("/" if host == "localhost" else "/inbox/")
    else:
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == _wrong_password_answer(web, host, user.email)


def test_it_takes_the_email_in_any_case(web, personas):
    assert _login(web, "acme.localhost", "Alice@ACME.test", PASSWORD).status_code == 302


def test_the_login_form_has_the_fields_a_password_manager_expects(web, personas):
    html = web("acme.localhost").get("/accounts/login/").content.decode()
    assert 'name="username"' in html and 'type="email"' in html
    assert 'name="password"' in html and 'type="password"' in html
