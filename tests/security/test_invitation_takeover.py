"""An agency admin invites the platform operator's email address as agency staff, and reads the link on the way
(a host it runs, a mail scanner's log, a forwarded message). Today's chain: the link alone logged the invitee in,
as whoever they already were. Now someone who already has an account accepts with their own password (and second
factor), opening the link changes nothing, and the token leaves the URL at once."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import AgencyMembership, ClientMembership, Invitation
from accounts.services import invitation_accept, user_get_or_create
from accounts.throttle import LOGIN_FAILURE_LIMIT
from tests.personas import PASSWORD

from .account_steps import authenticator, code_for, link_in, path_of

pytestmark = pytest.mark.django_db


def invite(web, inviter, host: str, url: str, email: str, role: str = "staff") -> str:
    assert web(host, inviter).post(url, {"email": email, "role": role}).status_code == 302
    (message,) = mail.outbox
    mail.outbox.clear()
    return path_of(link_in(message, "/accounts/invitation/"))


def nothing_changed(browser, invitation: Invitation) -> None:
    assert "_auth_user_id" not in browser.session
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_link_alone_does_not_make_an_operator_session(web, personas, mail_on_commit):
    path = invite(web, personas.nina, "localhost", "/agency/northwind/team/", personas.oscar.email)
    invitation = Invitation.objects.get(email=personas.oscar.email)
    attacker = web("localhost")
    # Posting straight to the link, as the old form did, accepts nothing.
    assert attacker.post(path, {}).status_code == 405
    # Nor does the form without the operator's password, or with a guess.
    attacker.get(path)
    assert attacker.post("/accounts/invitation/", {}).status_code == 200
    refused = attacker.post("/accounts/invitation/", {"password": "a-guess"})
    assert "not the password" in refused.content.decode()
    nothing_changed(attacker, invitation)
    assert attacker.get("/admin/")["Location"].startswith("/admin/login/")
    assert not AgencyMembership.objects.filter(user=personas.oscar).exists()


def test_opening_the_link_changes_nothing_and_leaves_no_token_in_the_url(web, personas, mail_on_commit):
    path = invite(web, personas.dave, "bolt.localhost", "/team/", personas.alice.email)
    invitation = Invitation.objects.get(email=personas.alice.email, client=personas.bolt)
    scanner = web("bolt.localhost")
    for _ in range(2):  # a mail scanner fetching every link, twice
        opened = scanner.get(path)
        assert opened.status_code == 302 and opened["Location"] == "/accounts/invitation/"
        assert scanner.head(path).status_code == 302
        assert scanner.get("/accounts/invitation/").status_code == 200
    nothing_changed(scanner, invitation)
    assert not ClientMembership.objects.filter(user=personas.alice, client=personas.bolt).exists()
    # The person invited still accepts, with their own password.
    alice = web("bolt.localhost")
    alice.get(path)
    assert alice.post("/accounts/invitation/", {"password": PASSWORD})["Location"] == "/inbox/"
    assert ClientMembership.objects.filter(user=personas.alice, client=personas.bolt).exists()


def test_a_stolen_password_and_the_link_are_not_enough_without_the_second_factor(
    web, personas, mail_on_commit
):
    device = authenticator(personas.sara)
    path = invite(web, personas.alice, "acme.localhost", "/team/", personas.sara.email)
    invitation = Invitation.objects.get(email=personas.sara.email)
    attacker = web("acme.localhost")
    attacker.get(path)
    assert "Code from your authenticator app" in attacker.get("/accounts/invitation/").content.decode()
    for code in ("", "000000", "abcd-efgh"):
        refused = attacker.post("/accounts/invitation/", {"password": PASSWORD, "code": code})
        assert refused.status_code == 200
    nothing_changed(attacker, invitation)
    # With the code, she is in, and her session counts as verified (a while later: django-otp slows a device
    # down after a wrong code, and the attacker's guess did that).
    device.refresh_from_db()
    device.throttle_reset()
    sara = web("acme.localhost")
    sara.get(path)
    accepted = sara.post("/accounts/invitation/", {"password": PASSWORD, "code": code_for(device)})
    assert accepted["Location"] == "/inbox/"
    assert sara.get("/inbox/").status_code == 200


def test_guessing_the_password_on_the_invitation_form_is_throttled(web, personas, mail_on_commit):
    path = invite(web, personas.dave, "bolt.localhost", "/team/", personas.bob.email)
    attacker = web("bolt.localhost")
    attacker.get(path)
    for n in range(LOGIN_FAILURE_LIMIT):
        attacker.post("/accounts/invitation/", {"password": f"guess-{n}"})
    locked = attacker.post("/accounts/invitation/", {"password": PASSWORD})
    assert "Too many failed attempts" in locked.content.decode()
    nothing_changed(attacker, Invitation.objects.get(email=personas.bob.email))
    # The same count holds on the login page of any host.
    login = web("acme.localhost").post(
        "/accounts/login/", {"username": personas.bob.email, "password": PASSWORD}
    )
    assert login.status_code == 200 and "Too many failed attempts" in login.content.decode()


def test_a_new_persons_form_does_not_open_an_account_made_meanwhile(web, personas, mail_on_commit):
    path = invite(web, personas.nina, "localhost", "/agency/northwind/team/", "late@northwind.test")
    attacker = web("localhost")
    attacker.get(path)
    assert "Choose a password" in attacker.get("/accounts/invitation/").content.decode()
    # Before the form is sent, the address gets an account of its own (another invitation, say).
    victim = user_get_or_create(email="late@northwind.test", password="the-victims-own-passphrase")
    response = attacker.post(
        "/accounts/invitation/",
        {"name": "X", "new_password1": "attacker-passphrase-1", "new_password2": "attacker-passphrase-1"},
    )
    assert "enter its password to accept" in response.content.decode()  # the account's own password, now
    invitation = Invitation.objects.get(email="late@northwind.test")
    nothing_changed(attacker, invitation)
    # And if the account appears while that very request is on its way, the service refuses too.
    with pytest.raises(ValidationError, match="exists now"):
        invitation_accept(invitation=invitation, password="attacker-passphrase-1", name="X")
    victim.refresh_from_db()
    assert victim.check_password("the-victims-own-passphrase")
    assert not AgencyMembership.objects.filter(user=victim).exists()
