"""The business's own team, on its host (client_settings.team_views): owners invite their staff in the agency's
brand, give them a role and remove them; everyone on the team sees it; strangers, another client's people and the
platform host get nothing of it. The invitation's own path is tested with the agency's team
(tests/accounts/test_team.py)."""

import pytest
from django.core import mail

from accounts.models import ClientMembership, Invitation, User
from tests.accounts.test_team import _send_on_commit, accept, link_in  # noqa: F401 - the fixture is autouse
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def test_an_owner_invites_staff_in_the_agencys_brand_and_they_land_in_the_inbox(web, personas):
    alice = web("acme.localhost", personas.alice)
    assert alice.post("/team/", {"email": "sam@acme.test", "role": "readonly"}).status_code == 302
    (message,) = mail.outbox
    assert "Acme Plumbing" in message.subject and "Northwind Marketing" in message.subject
    assert "Textback" not in message.subject + message.body + message.from_email
    link = link_in(message)
    assert link.startswith("http://acme.localhost:8000/accounts/invitation/")
    browser, response = accept(web, "acme.localhost", link)
    assert response["Location"] == "/inbox/"
    assert browser.get("/inbox/").status_code == 200
    assert ClientMembership.objects.get(user__email="sam@acme.test").role == "readonly"


def test_someone_with_an_account_accepts_with_their_own_password(web, personas):
    web("bolt.localhost", personas.dave).post("/team/", {"email": personas.alice.email, "role": "staff"})
    path = link_in(mail.outbox[0]).split(":8000", 1)[1]
    browser = web("bolt.localhost")
    assert "You already have an account" in browser.get(path, follow=True).content.decode()
    assert browser.post("/accounts/invitation/", {"password": PASSWORD})["Location"] == "/inbox/"
    assert ClientMembership.objects.filter(user=personas.alice, client=personas.bolt, role="staff").exists()
    assert User.objects.get(pk=personas.alice.pk).check_password(PASSWORD)  # unchanged


def test_owners_cannot_make_owners_but_their_agency_can(web, personas):
    response = web("acme.localhost", personas.alice).post(
        "/team/", {"email": "co@acme.test", "role": "owner"}
    )
    assert response.status_code == 400 and not mail.outbox
    assert (
        web("acme.localhost", personas.nina)
        .post("/team/", {"email": "co@acme.test", "role": "owner"})
        .status_code
        == 302
    )


@pytest.mark.parametrize("who", ["bob", "alice", "nina"])
def test_everyone_on_the_team_sees_it(web, personas, who):
    html = web("acme.localhost", getattr(personas, who)).get("/team/").content.decode()
    assert "alice@acme.test" in html and "bob@acme.test" in html and "dave@bolt.test" not in html


def test_staff_may_not_invite_or_remove(web, personas):
    bob = web("acme.localhost", personas.bob)
    assert bob.post("/team/", {"email": "x@acme.test", "role": "staff"}).status_code == 403
    alices = ClientMembership.objects.get(user=personas.alice, client=personas.acme)
    assert bob.post(f"/team/{alices.pk}/remove/").status_code == 403
    assert ClientMembership.objects.filter(pk=alices.pk).exists() and not Invitation.objects.exists()


@pytest.mark.parametrize("who", ["dave", "erin", "sara", "charlie", None])
def test_strangers_and_anonymous_are_sent_to_log_in(web, personas, who):
    user = getattr(personas, who) if who else None
    browser = web("acme.localhost", user)
    for response in (browser.get("/team/"), browser.post("/team/", {"email": "x@y.test", "role": "staff"})):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Invitation.objects.exists()


def test_an_owner_removes_staff_but_not_another_clients_people(web, personas):
    alice = web("acme.localhost", personas.alice)
    daves = ClientMembership.objects.get(user=personas.dave, client=personas.bolt)
    assert alice.post(f"/team/{daves.pk}/remove/").status_code == 404
    assert ClientMembership.objects.filter(pk=daves.pk).exists()
    bobs = ClientMembership.objects.get(user=personas.bob, client=personas.acme)
    assert alice.post(f"/team/{bobs.pk}/remove/").status_code == 302
    assert web("acme.localhost", personas.bob).get("/inbox/")["Location"].startswith("/accounts/login/")


def test_the_platform_host_has_no_client_team(web, personas):
    assert web("localhost", personas.nina).get("/team/").status_code == 404
