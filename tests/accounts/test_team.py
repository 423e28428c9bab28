"""Teams: agency admins invite staff to the agency, owners invite their business's staff; the invitation link
sets a password and logs the person in on the host they were invited to. Removing someone ends their access."""

import re

import pytest
from django.core import mail

from accounts.models import AgencyMembership, ClientMembership, Invitation, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.fixture(autouse=True)
def _send_on_commit(monkeypatch):
    """Invitations are mailed once their transaction commits; a test's transaction never does, so the callback
    runs when it is registered."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())


def link_in(message) -> str:
    return re.search(r"http://\S+/accounts/invitation/\S+/", message.body).group(0)


def accept(web, host: str, link: str, **data):
    """Open the link (which only remembers the invitation and moves on to a URL without the token), then post
    the form there."""
    path = link.split(host + ":8000", 1)[1]
    browser = web(host)
    opened = browser.get(path)
    assert opened.status_code == 302 and opened["Location"] == "/accounts/invitation/"
    return browser, browser.post(
        "/accounts/invitation/",
        {"name": "New Person", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, **data},
    )


def test_an_agency_admin_invites_staff_who_set_a_password_and_land_on_the_dashboard(web, personas):
    response = web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "Newbie@Northwind.test", "role": "staff"}
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["newbie@northwind.test"]
    assert message.from_email == '"Northwind Marketing" <no-reply@localhost>'
    assert "Textback" not in message.subject + message.body
    link = link_in(message)
    assert link.startswith("http://localhost:8000/accounts/invitation/")
    browser, accepted = accept(web, "localhost", link)
    assert accepted.status_code == 302 and accepted["Location"] == "/"
    assert "Acme Plumbing" in browser.get("/").content.decode()
    newbie = User.objects.get(email="newbie@northwind.test")
    assert newbie.check_password(NEW_PASSWORD) and newbie.name == "New Person"
    assert AgencyMembership.objects.get(user=newbie).role == "staff"
    # The link is spent.
    assert web("localhost").get(link.split(":8000", 1)[1]).status_code == 404


def test_an_invited_admin_sets_up_two_factor_before_the_first_session(web, personas):
    web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "boss@northwind.test", "role": "admin"}
    )
    browser, accepted = accept(web, "localhost", link_in(mail.outbox[0]))
    assert accepted["Location"] == "/accounts/two-factor/"
    assert browser.get("/")["Location"].startswith("/accounts/login/")
    assert "Set up two-factor login" in browser.get("/accounts/two-factor/").content.decode()


def test_a_weak_password_is_refused_and_nothing_is_made(web, personas):
    web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "weak@northwind.test", "role": "staff"}
    )
    _, response = accept(web, "localhost", link_in(mail.outbox[0]), new_password1="123", new_password2="123")
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert not User.objects.filter(email="weak@northwind.test").exists()


def test_inviting_someone_already_on_the_team_says_so(web, personas):
    response = web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "nate@northwind.test", "role": "staff"}
    )
    assert response.status_code == 400 and "already on the team" in response.content.decode()
    assert not mail.outbox


def test_an_invitation_is_used_only_on_its_own_host(web, personas):
    web("localhost", personas.nina).post(
        "/agency/northwind/team/", {"email": "x@northwind.test", "role": "staff"}
    )
    path = link_in(mail.outbox[0]).split(":8000", 1)[1]
    assert web("acme.localhost").get(path).status_code == 404
    assert web("localhost").get(path, follow=True).status_code == 200


def test_team_pages_are_for_admins_of_that_agency(web, personas):
    assert web("localhost", personas.nina).get("/agency/northwind/team/").status_code == 200
    assert web("localhost", personas.oscar).get("/agency/northwind/team/").status_code == 200
    assert web("localhost", personas.nate).get("/agency/northwind/team/").status_code == 403
    assert (
        web("localhost", personas.nate)
        .post("/agency/northwind/team/", {"email": "a@b.test", "role": "admin"})
        .status_code
        == 403
    )
    assert web("localhost", personas.sara).get("/agency/northwind/team/").status_code == 404
    assert web("localhost", personas.sara).get("/agency/no-such-agency/team/").status_code == 404
    for who in (personas.alice, None):
        response = web("localhost", who).get("/agency/northwind/team/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Invitation.objects.exists()


def test_removing_agency_staff_ends_their_access(web, personas):
    membership = AgencyMembership.objects.get(user=personas.nate)
    assert (
        web("localhost", personas.sara).post(f"/agency/northwind/team/{membership.pk}/remove/").status_code
        == 404
    )
    nina = web("localhost", personas.nina)
    assert nina.post(f"/agency/northwind/team/{membership.pk}/remove/").status_code == 302
    assert not AgencyMembership.objects.filter(user=personas.nate).exists()
    assert web("localhost", personas.nate).get("/")["Location"].startswith("/accounts/login/")
    assert web("acme.localhost", personas.nate).get("/inbox/")["Location"].startswith("/accounts/login/")


def test_the_last_admin_cannot_be_removed(web, personas):
    membership = AgencyMembership.objects.get(user=personas.nina)
    response = web("localhost", personas.oscar).post(
        f"/agency/northwind/team/{membership.pk}/remove/", follow=True
    )
    assert "last admin cannot be removed" in response.content.decode()
    assert AgencyMembership.objects.filter(pk=membership.pk).exists()


# --- An owner of several businesses ---


def test_an_owner_of_two_businesses_switches_without_logging_in_again(web, personas):
    ClientMembership.objects.create(user=personas.alice, client=personas.bolt, role="owner")
    on_acme = web("acme.localhost", personas.alice)
    html = on_acme.get("/").content.decode()
    assert "Switch to another business" in html and "Bolt Electric" in html
    assert "Bolt Electric" in on_acme.get("/team/").content.decode()
    response = on_acme.post(f"/accounts/switch/{personas.bolt.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and 'action="http://bolt.localhost:8000/accounts/enter/"' in html
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    on_bolt = web("bolt.localhost")
    arrived = on_bolt.post("/accounts/enter/", {"token": token}, HTTP_ORIGIN="http://acme.localhost:8000")
    assert arrived["Location"] == "/inbox/"
    assert on_bolt.get("/inbox/").status_code == 200


def test_nobody_switches_into_a_business_they_do_not_belong_to(web, personas):
    assert "Switch to another business" not in web("acme.localhost", personas.alice).get("/").content.decode()
    assert (
        web("acme.localhost", personas.alice).post(f"/accounts/switch/{personas.bolt.pk}/").status_code == 404
    )
    assert (
        web("acme.localhost", personas.alice).post(f"/accounts/switch/{personas.cedar.pk}/").status_code
        == 404
    )
