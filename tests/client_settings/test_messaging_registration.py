"""US A2P 10DLC: a local number's texts are filtered by carriers until its campaign is registered. The agency
records where each client stands (in the wizard's number step and on the client's settings page); the dashboard
warns while it is pending. The client's owner sees it but cannot change it."""

import pytest

from accounts.models import Client, ClientMembership
from tests.client_settings.test_settings_page import valid_post

pytestmark = pytest.mark.django_db

WARNING = "Messaging registration pending: US carriers may filter its texts"


def row_of(html: str, client: Client) -> str:
    start = html.index(f'id="client-{client.pk}"')
    return html[start : html.index("</tr>", start)]


def registration(client: Client) -> str:
    return Client.objects.get(pk=client.pk).messaging_registration


def test_the_dashboard_warns_while_registration_is_pending(web, personas):
    dashboard = web("localhost", personas.nina)
    assert WARNING not in row_of(dashboard.get("/").content.decode(), personas.acme)
    Client.objects.filter(pk=personas.acme.pk).update(messaging_registration="pending")
    html = dashboard.get("/").content.decode()
    assert WARNING in row_of(html, personas.acme) and WARNING not in row_of(html, personas.bolt)
    assert "Acme Plumbing" in dashboard.get("/?health=warnings").content.decode()
    Client.objects.filter(pk=personas.acme.pk).update(messaging_registration="approved")
    assert WARNING not in row_of(dashboard.get("/").content.decode(), personas.acme)


@pytest.mark.parametrize("who", ["nina", "nate", "oscar"])
def test_the_agency_sets_it_on_the_clients_settings_page(web, personas, who):
    response = web("acme.localhost", getattr(personas, who)).post(
        "/settings/", valid_post(messaging_registration="pending")
    )
    assert response.status_code == 302
    assert registration(personas.acme) == "pending"


def test_the_owner_sees_it_but_what_they_post_for_it_is_ignored(web, personas):
    owner = web("acme.localhost", personas.alice)
    page = owner.get("/settings/").content.decode()
    assert "Messaging registration (US A2P 10DLC)" in page
    assert owner.post("/settings/", valid_post(messaging_registration="approved")).status_code == 302
    assert registration(personas.acme) == "not_needed"


def test_staff_and_read_only_staff_change_nothing_and_strangers_get_nothing(web, personas):
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.bob, readonly):
        assert (
            web("acme.localhost", user)
            .post("/settings/", valid_post(messaging_registration="pending"))
            .status_code
            == 403
        )
    stranger = web("acme.localhost", personas.sara).post(
        "/settings/", valid_post(messaging_registration="pending")
    )
    assert stranger.status_code == 302 and stranger["Location"].startswith("/accounts/login/")
    assert (
        web("cedar.localhost", personas.nina).get("/settings/").status_code == 302
    )  # another agency's client
    assert registration(personas.acme) == "not_needed"


def test_a_value_outside_the_choices_is_a_form_error(web, personas):
    response = web("acme.localhost", personas.nina).post(
        "/settings/", valid_post(messaging_registration="maybe")
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert registration(personas.acme) == "not_needed"
