"""Contacts through the API: list, search, create, change; another client's contacts are not there."""

import pytest
from django_tenants.utils import schema_context

from crm.models import Contact

from .conftest import error_of

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"


@pytest.fixture
def carl(personas):
    with schema_context(personas.acme.schema_name):
        return Contact.objects.create(phone_number="+13125550177", name="Carl Caller", tags=["vip"])


def test_list_and_search(api, carl, personas):
    with schema_context(personas.acme.schema_name):
        Contact.objects.create(phone_number="+13125550178", name="Dana")
    client = api(scope="read")
    assert [c["name"] for c in client.get(CONTACTS).json()["results"]] == ["Dana", "Carl Caller"]
    for query in ["carl", "555-0177", "(312) 555 0177", "vip"]:
        assert [c["id"] for c in client.get(CONTACTS, {"q": query}).json()["results"]] == [carl.pk], query
    assert client.get(CONTACTS, {"tag": "VIP"}).json()["results"][0]["id"] == carl.pk


def test_retrieve(api, carl):
    body = api(scope="read").get(f"{CONTACTS}{carl.pk}/").json()
    assert body["phone_number"] == "+13125550177"
    assert body["tags"] == ["vip"]


def test_create(api, personas):
    response = api().post(
        CONTACTS,
        {
            "phone_number": "(312) 555-0199",
            "name": "Nia",
            "email": "nia@example.com",
            "tags": ["Repeat", "repeat ", "VIP"],
            "notes": "Gate code 1234",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone_number"] == "+13125550199"
    assert body["tags"] == ["repeat", "vip"]
    with schema_context(personas.acme.schema_name):
        contact = Contact.objects.get(pk=body["id"])
    assert (contact.name, contact.email, contact.notes) == ("Nia", "nia@example.com", "Gate code 1234")


def test_create_with_bad_input_names_each_field(api):
    response = api().post(CONTACTS, {"phone_number": "12", "email": "not-an-email", "tags": "x"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"phone_number", "email", "tags"}
    assert "E.164" in error["fields"]["phone_number"][0]


def test_create_needs_a_number(api):
    error = error_of(api().post(CONTACTS, {"name": "Nobody"}))
    assert error["fields"] == {"phone_number": ["This field is required."]}


def test_a_number_already_known_is_refused_naming_the_contact(api, carl):
    response = api().post(CONTACTS, {"phone_number": "+1 312 555 0177"})
    assert response.status_code == 400
    assert f"id {carl.pk}" in error_of(response)["fields"]["phone_number"][0]


def test_update(api, carl, personas):
    response = api().patch(f"{CONTACTS}{carl.pk}/", {"name": "Carl C.", "is_blocked": True})
    assert response.status_code == 200, response.content
    with schema_context(personas.acme.schema_name):
        carl.refresh_from_db()
    assert (carl.name, carl.tags, carl.is_blocked) == ("Carl C.", ["vip"], True)


def test_update_with_bad_input(api, carl):
    response = api().patch(f"{CONTACTS}{carl.pk}/", {"email": "nope", "name": "x" * 200})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"email", "name"}


def test_the_number_cannot_be_changed(api, carl, personas):
    api().patch(f"{CONTACTS}{carl.pk}/", {"phone_number": "+13125550100"})
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(pk=carl.pk).phone_number == "+13125550177"


def test_another_clients_contact_is_not_found(api, personas):
    with schema_context(personas.bolt.schema_name):
        bolts = Contact.objects.create(phone_number="+12025550177", name="Bolt's")
    client = api()
    assert client.get(f"{CONTACTS}{bolts.pk}/").status_code == 404
    assert client.get(f"{CONTACTS}{bolts.pk}/").json() == client.get(f"{CONTACTS}987654/").json()
    assert client.patch(f"{CONTACTS}{bolts.pk}/", {"name": "Mine now"}).status_code == 404
    with schema_context(personas.bolt.schema_name):
        assert Contact.objects.get(pk=bolts.pk).name == "Bolt's"


def test_a_malformed_body_is_400_not_500(api):
    response = api().http.post(CONTACTS, "{not json", content_type="application/json", **api().headers)
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_search_holding_a_nul_is_a_400_with_the_reason(api):
    """PostgreSQL cannot compare text holding a NUL; the fuzz test (test_schema.py) found it was a 500."""
    response = api().get("/api/v1/contacts/", {"q": "{\x00x"})
    assert response.status_code == 400
    assert b"NUL" in response.content
