"""An agency's clients through the API on the agency's host: list, create (provisioned like any new client),
pause and resume. Another agency's clients do not exist there."""

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Client, ClientMembership, Invitation

from .conftest import PLATFORM, error_of

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"
NEW = {
    "slug": "drip",
    "name": "Drip Plumbing",
    "timezone": "America/Denver",
    "phone_number": "+17205550100",
    "forward_to": "+17205550142",
    "business_hours": "mon-fri 08:00-17:00",
    "owner_email": "olive@drip.test",
}


def test_lists_only_the_agencys_own_clients(api):
    slugs = {c["slug"] for c in api(PLATFORM, owner="northwind", scope="read").get(CLIENTS).json()["results"]}
    assert slugs == {"acme", "bolt"}
    assert api(PLATFORM, owner="southpeak").get(f"{CLIENTS}acme/").status_code == 404


def test_create_provisions_the_client(api, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(PLATFORM, owner="northwind").post(CLIENTS, NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["host"], body["phone_number"]) == ("live", "drip.localhost", "+17205550100")
    client = Client.objects.get(slug="drip")
    assert client.agency == personas.northwind
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [client.schema_name]
        )
        assert cursor.fetchone()
    # The owner is invited (an email with a link), not made owner outright.
    assert not ClientMembership.objects.filter(client=client).exists()
    assert Invitation.objects.get(client=client).email == "olive@drip.test"
    assert [m.to for m in mail.outbox] == [["olive@drip.test"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"slug": "acme"}, "slug"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"forward_to": None}, "forward_to"),
        ({"business_hours": "whenever"}, "business_hours"),
        ({"owner_email": "nope"}, "owner_email"),
        ({"text_delay_seconds": 99999}, "text_delay_seconds"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, change, field):
    response = api(PLATFORM, owner="northwind").post(CLIENTS, {**NEW, **change})
    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"]
    assert not Client.objects.filter(slug="drip").exists()


def test_pause_and_resume(api, personas):
    agency = api(PLATFORM, owner="northwind")
    response = agency.post(f"{CLIENTS}acme/pause/")
    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    assert Client.objects.get(pk=personas.acme.pk).status == "paused"
    assert agency.post(f"{CLIENTS}acme/resume/").json()["status"] == "live"


def test_another_agency_cannot_pause_a_client(api, personas):
    assert api(PLATFORM, owner="southpeak").post(f"{CLIENTS}acme/pause/").status_code == 404
    assert Client.objects.get(pk=personas.acme.pk).status == "live"


def test_a_read_only_agency_key_cannot_create(api):
    assert api(PLATFORM, owner="northwind", scope="read").post(CLIENTS, NEW).status_code == 403


def test_an_agency_key_on_another_agencys_domain_is_404(api, personas):
    personas.southpeak.custom_domain = "app.southpeak.test"
    personas.southpeak.custom_domain_verified_at = timezone.now()  # a pending domain serves nothing at all
    personas.southpeak.save()
    response = api("app.southpeak.test", owner="northwind").get(CLIENTS)
    assert response.status_code == 404
    assert api("app.southpeak.test", owner="southpeak").get(CLIENTS).status_code == 200


def test_an_agency_key_reads_and_changes_the_booking_link_of_its_own_clients_only(api, personas):
    northwind = api(PLATFORM, owner="northwind")
    response = northwind.patch(
        "/api/v1/clients/acme/", {"booking_url": "https://book.example.com/acme", "followup_after_hours": 0}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["booking_url"], response.json()["followup_after_hours"]) == (
        "https://book.example.com/acme",
        0,
    )
    assert Client.objects.get(pk=personas.acme.pk).followup_after_hours == 0
    bad = northwind.patch("/api/v1/clients/acme/", {"booking_url": "https://u:p@book.example.com/"})
    assert bad.status_code == 400 and "booking_url" in error_of(bad)["fields"]
    assert (
        api(PLATFORM, owner="southpeak").patch("/api/v1/clients/acme/", {"booking_url": ""}).status_code
        == 404
    )
    assert (
        api(PLATFORM, owner="northwind", scope="read")
        .patch("/api/v1/clients/acme/", {"booking_url": ""})
        .status_code
        == 403
    )
    assert Client.objects.get(pk=personas.acme.pk).booking_url == "https://book.example.com/acme"


def test_an_agency_key_sets_the_facts_suggested_replies_may_use(api, personas):
    northwind = api(PLATFORM, owner="northwind")
    facts = {"facts_services": "Drain cleaning", "facts_area": "Chicago", "facts_prices": "Service call $89"}
    response = northwind.patch("/api/v1/clients/acme/", facts)
    assert response.status_code == 200, response.content
    assert {name: response.json()[name] for name in facts} == facts
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.facts_services, acme.facts_area, acme.facts_prices) == tuple(facts.values())
    too_long = northwind.patch("/api/v1/clients/acme/", {"facts_area": "x" * 301})
    assert too_long.status_code == 400 and "facts_area" in error_of(too_long)["fields"]
    assert api(PLATFORM, owner="southpeak").patch("/api/v1/clients/acme/", facts).status_code == 404


def test_an_agency_key_switches_the_ai_receptionist_within_limits(api, personas):
    northwind = api(PLATFORM, owner="northwind")
    response = northwind.patch(
        "/api/v1/clients/acme/", {"receptionist_on": True, "receptionist_max_replies": 2}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["receptionist_on"], response.json()["receptionist_max_replies"]) == (True, 2)
    too_many = northwind.patch("/api/v1/clients/acme/", {"receptionist_max_replies": 50})
    assert too_many.status_code == 400 and "receptionist_max_replies" in error_of(too_many)["fields"]
    assert (
        api(PLATFORM, owner="southpeak")
        .patch("/api/v1/clients/acme/", {"receptionist_on": False})
        .status_code
        == 404
    )
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.receptionist_on, acme.receptionist_max_replies, acme.receptionist_prices) == (True, 2, False)
