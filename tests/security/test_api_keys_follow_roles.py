"""An API key acts as the person who made it, with no more than they may do now. The attacker is someone who
made a key while they had the power to (an owner, an agency admin) and keeps using it after the business or
agency took that power away: demoted to read-only staff, demoted to agency staff, or removed."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import AgencyMembership, Client, ClientMembership
from api.services import apikey_create
from crm.models import Contact
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

ACME = "acme.localhost"
PLATFORM = "localhost"


def _key(owner, creator, scope="write", **where) -> str:
    _, raw = apikey_create(name="sync", scope=scope, created_by=creator, **where)
    return raw


def _no_contact(personas, number):
    with schema_context(personas.acme.schema_name):
        assert not Contact.objects.filter(phone_number=number).exists()


def test_an_owner_made_read_only_can_no_longer_write_with_their_key(personas):
    raw = _key("acme", personas.alice, client=personas.acme)
    assert Api(ACME, raw).get("/api/v1/contacts/").status_code == 200
    ClientMembership.objects.filter(user=personas.alice, client=personas.acme).update(
        role=ClientMembership.Role.READONLY
    )

    response = Api(ACME, raw).post("/api/v1/contacts/", {"phone_number": "+13125550166", "name": "Planted"})
    assert response.status_code == 401
    assert "may no longer do what the key does" in response.json()["error"]["message"]
    _no_contact(personas, "+13125550166")


def test_a_read_key_keeps_reading_for_read_only_staff(personas):
    raw = _key("acme", personas.alice, scope="read", client=personas.acme)
    ClientMembership.objects.filter(user=personas.alice, client=personas.acme).update(
        role=ClientMembership.Role.READONLY
    )
    assert Api(ACME, raw).get("/api/v1/contacts/").status_code == 200


def test_an_owner_removed_from_the_business_loses_their_key(personas):
    raw = _key("acme", personas.alice, client=personas.acme)
    ClientMembership.objects.filter(user=personas.alice, client=personas.acme).delete()
    assert Api(ACME, raw).post("/api/v1/contacts/", {"phone_number": "+13125550166"}).status_code == 401
    _no_contact(personas, "+13125550166")


def test_an_agency_admin_made_staff_can_no_longer_add_or_pause_clients(personas):
    raw = _key("northwind", personas.nina, agency=personas.northwind)
    AgencyMembership.objects.filter(user=personas.nina, agency=personas.northwind).update(
        role=AgencyMembership.Role.STAFF
    )
    agency = Api(PLATFORM, raw)
    assert agency.post("/api/v1/clients/acme/pause/").status_code == 401
    created = agency.post(
        "/api/v1/clients/",
        {
            "slug": "drip",
            "name": "Drip",
            "timezone": "America/Denver",
            "phone_number": "+17205550100",
            "forward_to": "+17205550142",
        },
    )
    assert created.status_code == 401
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE
    assert not Client.objects.filter(slug="drip").exists()


def test_an_agency_cannot_make_someone_elses_account_owner_of_its_client(
    personas, django_capture_on_commit_callbacks
):
    """owner_email naming an existing person (another agency's admin, an operator) sends them an invitation;
    nobody becomes an owner until they accept it themselves."""
    from django.core import mail

    from accounts.models import Invitation

    raw = _key("northwind", personas.nina, agency=personas.northwind)
    with django_capture_on_commit_callbacks(execute=True):
        response = Api(PLATFORM, raw).post(
            "/api/v1/clients/",
            {
                "slug": "drip",
                "name": "Drip",
                "timezone": "America/Denver",
                "phone_number": "+17205550100",
                "forward_to": "+17205550142",
                "owner_email": personas.oscar.email,
            },
        )
    assert response.status_code == 201, response.content
    client = Client.objects.get(slug="drip")
    assert not ClientMembership.objects.filter(client=client).exists()
    assert not ClientMembership.objects.filter(user=personas.oscar).exists()
    assert Invitation.objects.get(client=client).email == personas.oscar.email
    assert [m.to for m in mail.outbox] == [[personas.oscar.email]]
