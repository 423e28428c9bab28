"""Who the API lets in: a key of the client on its host, or of its agency; nobody else."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import ClientMembership
from api.models import ApiKey
from api.services import apikey_revoke
from crm.models import Contact

from .conftest import ACME, BOLT, PLATFORM, Api, error_of

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"


def test_no_key_is_401_with_the_scheme_to_use(api):
    response = api(owner=None).get(CONTACTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"


def test_a_key_sent_some_other_way_is_401_saying_how(make_key):
    response = Api(ACME, None, Authorization=f"Token {make_key('acme')}").get(CONTACTS)
    assert response.status_code == 401
    assert "Bearer" in error_of(response)["message"]


@pytest.mark.parametrize("key", ["tb_nope_nope", "garbage", "tb_" + "a" * 60])
def test_an_unknown_key_is_401(key):
    response = Api(ACME, key).get(CONTACTS)
    assert response.status_code == 401
    assert error_of(response)["message"] == "This API key is not valid."


def test_a_key_with_a_wrong_secret_is_401(make_key):
    raw = make_key("acme")
    response = Api(ACME, raw[:-4] + "AAAA").get(CONTACTS)
    assert response.status_code == 401


def test_a_revoked_key_is_401(make_key):
    raw = make_key("acme")
    assert Api(ACME, raw).get(CONTACTS).status_code == 200
    apikey_revoke(api_key=ApiKey.objects.get(prefix=raw.split("_")[1]))
    response = Api(ACME, raw).get(CONTACTS)
    assert response.status_code == 401
    assert error_of(response)["message"] == "This API key has been revoked."


def test_a_read_only_key_reads_but_may_not_write(api, personas):
    reader = api(scope="read")
    assert reader.get(CONTACTS).status_code == 200
    response = reader.post(CONTACTS, {"phone_number": "+13125550111"})
    assert response.status_code == 403
    assert "read-only" in error_of(response)["message"]
    with schema_context(personas.acme.schema_name):
        assert not Contact.objects.filter(phone_number="+13125550111").exists()


@pytest.mark.parametrize("owner", ["bolt", "cedar", "southpeak"])
def test_another_clients_or_agencys_key_finds_nothing_here(api, owner):
    response = api(ACME, owner=owner).get(CONTACTS)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_agencys_key_works_on_each_of_its_clients_hosts(api, personas):
    with schema_context(personas.bolt.schema_name):
        Contact.objects.create(phone_number="+12025550123", name="Bolt caller")
    agency = api(ACME, owner="northwind")
    assert agency.get(CONTACTS).status_code == 200
    on_bolt = Api(BOLT, None)
    on_bolt.headers = agency.headers
    names = [c["name"] for c in on_bolt.get(CONTACTS).json()["results"]]
    assert names == ["Bolt caller"]


def test_a_clients_key_does_nothing_on_the_platform_host(api):
    assert api(PLATFORM, owner="acme").get("/api/v1/clients/").status_code == 404


def test_a_key_stops_working_when_the_person_who_made_it_leaves(make_key, personas):
    raw = make_key("acme", by=personas.bob)
    assert Api(ACME, raw).get(CONTACTS).status_code == 200
    ClientMembership.objects.filter(user=personas.bob, client=personas.acme).delete()
    response = Api(ACME, raw).get(CONTACTS)
    assert response.status_code == 401
    assert "no longer has access" in error_of(response)["message"]


def test_the_secret_is_not_stored(make_key):
    raw = make_key("acme")
    key = ApiKey.objects.get(prefix=raw.split("_")[1])
    assert raw not in (key.secret_hash, key.prefix, key.name)
    assert len(key.secret_hash) == 64


def test_using_a_key_records_when(make_key):
    raw = make_key("acme")
    Api(ACME, raw).get(CONTACTS)
    assert ApiKey.objects.get(prefix=raw.split("_")[1]).last_used_at is not None
