"""Acting on a client from the agency dashboard: pause, resume, offboard (typed confirmation), and opening the
client's app, which the audit log records. Staff of another agency get 404, people of no agency are sent to log in."""

import re

import pytest
from django.core.cache import cache

from accounts.models import AuditEntry, Client
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

AGENCY_PEOPLE = ["nina", "nate", "oscar"]


@pytest.fixture(autouse=True)
def _audit_log_so_far():
    """The audit log's last entry before the test: the stack tests commit entries of their own (pausing acme
    through the API), and a reused test database keeps them."""
    global _last_entry
    _last_entry = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


_last_entry = 0


def this_tests_entries():
    return AuditEntry.objects.filter(pk__gt=_last_entry)


def status_of(client) -> str:
    return Client.objects.get(pk=client.pk).status


@pytest.mark.parametrize("who", AGENCY_PEOPLE)
def test_agency_people_pause_and_resume_and_it_is_logged(web, personas, who):
    browser = web("localhost", getattr(personas, who))
    assert browser.post(f"/agency/clients/{personas.acme.pk}/pause/").status_code == 302
    assert status_of(personas.acme) == Client.Status.PAUSED
    assert browser.post(f"/agency/clients/{personas.acme.pk}/resume/").status_code == 302
    assert status_of(personas.acme) == Client.Status.LIVE
    actions = list(this_tests_entries().filter(client=personas.acme).values_list("action", "actor__email"))
    assert actions == [("resume", getattr(personas, who).email), ("pause", getattr(personas, who).email)]


def test_a_paused_client_says_so_on_its_pages(web, personas):
    web("localhost", personas.nina).post(f"/agency/clients/{personas.acme.pk}/pause/")
    for page in ["/", "/inbox/", "/settings/", "/team/"]:
        html = web("acme.localhost", personas.alice).get(page).content.decode()
        assert "Text-backs are paused for Acme Plumbing" in html, page
    assert "paused" not in web("bolt.localhost", personas.dave).get("/").content.decode()


def test_pausing_twice_is_refused_with_a_reason(web, personas):
    nina = web("localhost", personas.nina)
    nina.post(f"/agency/clients/{personas.acme.pk}/pause/")
    response = nina.post(f"/agency/clients/{personas.acme.pk}/pause/", follow=True)
    assert "Only a live client can be paused" in response.content.decode()


@pytest.mark.parametrize("action", ["pause", "resume", "offboard", "open"])
def test_another_agencys_staff_get_404_and_nothing_changes(web, personas, action):
    response = web("localhost", personas.sara).post(
        f"/agency/clients/{personas.acme.pk}/{action}/", {"confirmation": "acme"}
    )
    assert response.status_code == 404
    assert status_of(personas.acme) == Client.Status.LIVE
    assert not this_tests_entries().filter(client=personas.acme).exists()


@pytest.mark.parametrize("who", ["alice", "charlie", None])
@pytest.mark.parametrize("action", ["pause", "offboard", "open"])
def test_client_people_and_anonymous_are_sent_to_log_in(web, personas, who, action):
    user = getattr(personas, who) if who else None
    response = web("localhost", user).post(
        f"/agency/clients/{personas.acme.pk}/{action}/", {"confirmation": "acme"}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert status_of(personas.acme) == Client.Status.LIVE


def test_a_client_host_has_no_agency_pages(web, personas):
    assert (
        web("acme.localhost", personas.nina).post(f"/agency/clients/{personas.acme.pk}/pause/").status_code
        == 404
    )


def test_offboarding_needs_the_typed_slug_and_an_admin(web, personas):
    nate = web("localhost", personas.nate)
    assert nate.get(f"/agency/clients/{personas.acme.pk}/offboard/").status_code == 403
    nina = web("localhost", personas.nina)
    page = nina.get(f"/agency/clients/{personas.acme.pk}/offboard/")
    assert page.status_code == 200 and "Type <kbd>acme</kbd> to confirm" in page.content.decode()
    response = nina.post(f"/agency/clients/{personas.acme.pk}/offboard/", {"confirmation": "Acme Plumbing"})
    assert response.status_code == 400 and "Type acme exactly" in response.content.decode()
    assert status_of(personas.acme) == Client.Status.LIVE


def test_an_offboarded_client_is_gone_from_its_host_and_its_number(web, personas):
    response = web("localhost", personas.nina).post(
        f"/agency/clients/{personas.acme.pk}/offboard/", {"confirmation": "acme"}
    )
    assert response.status_code == 302
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.status, acme.phone_number, acme.archived_at is not None) == ("archived", None, True)
    assert web("acme.localhost", personas.alice).get("/").status_code == 404
    cache.delete(f"webhook-seen:{acme.pk}")
    params = call_params(personas.acme, "+13125550177")  # to the number acme had
    assert post_signed(web("localhost"), "/hooks/twilio/voice/incoming/", params).status_code == 404
    entry = this_tests_entries().get(client=acme, action="offboard")
    assert entry.actor == personas.nina and "+13125550100 released" in entry.detail


def _handoff(response) -> tuple[str, str]:
    """The page Open (or the switcher) answers with: where its form posts, and the one-time token it carries."""
    assert response.status_code == 200
    html = response.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" id="handoff">', html).group(1)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    return action, token


def _arrive(web, host: str, token: str, origin: str = "http://localhost:8000"):
    return web(host).post("/accounts/enter/", {"token": token}, HTTP_ORIGIN=origin)


def test_opening_a_client_hands_the_person_over_once_and_is_logged(web, personas):
    response = web("localhost", personas.nate).post(f"/agency/clients/{personas.acme.pk}/open/")
    action, token = _handoff(response)
    assert action == "http://acme.localhost:8000/accounts/enter/"
    assert token not in action  # the token is in the form's body, in no URL
    entry = this_tests_entries().get(client=personas.acme, action="open_client")
    assert entry.actor == personas.nate and entry.ip_address == "127.0.0.1"
    on_acme = web("acme.localhost")
    arrived = on_acme.post("/accounts/enter/", {"token": token}, HTTP_ORIGIN="http://localhost:8000")
    assert arrived.status_code == 302 and arrived["Location"] == "/inbox/"
    assert on_acme.get("/inbox/").status_code == 200  # logged in on acme's host now
    again = _arrive(web, "acme.localhost", token)  # the same token a second time
    assert again.status_code == 302 and again["Location"] == "/accounts/login/"


def test_a_handoff_for_one_client_does_not_open_another(web, personas):
    _, token = _handoff(web("localhost", personas.nina).post(f"/agency/clients/{personas.acme.pk}/open/"))
    response = _arrive(web, "bolt.localhost", token)
    assert response["Location"] == "/accounts/login/"
    assert web("bolt.localhost").get("/inbox/")["Location"].startswith("/accounts/login/")


def test_a_forged_handoff_token_is_refused(web, personas):
    response = _arrive(web, "acme.localhost", "not-a-token")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_the_audit_log_is_for_the_agencys_admins(web, personas):
    web("localhost", personas.nate).post(f"/agency/clients/{personas.acme.pk}/open/")
    html = web("localhost", personas.nina).get("/agency/northwind/audit/").content.decode()
    assert (
        "nate@northwind.test" in html and "Opened the client&#x27;s app" in html and "Acme Plumbing" in html
    )
    assert web("localhost", personas.nate).get("/agency/northwind/audit/").status_code == 403
    assert web("localhost", personas.sara).get("/agency/northwind/audit/").status_code == 404
    assert web("localhost", personas.alice).get("/agency/northwind/audit/").status_code == 302
    assert web("localhost").get("/agency/northwind/audit/").status_code == 302
