"""Rate limits per key: past the limit, 429 with Retry-After; other keys are not slowed."""

import pytest

from .conftest import Api, error_of

pytestmark = pytest.mark.django_db


def test_past_the_limit_a_key_gets_429_with_retry_after(make_key, settings):
    settings.API_RATE_LIMIT = "3/minute"
    busy, other = Api("acme.localhost", make_key("acme")), Api("acme.localhost", make_key("acme"))
    assert [busy.get("/api/v1/contacts/").status_code for _ in range(3)] == [200, 200, 200]
    response = busy.get("/api/v1/contacts/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert error_of(response)["code"] == "throttled"
    assert other.get("/api/v1/contacts/").status_code == 200


def test_an_agency_key_has_one_budget_across_its_clients_hosts(make_key, settings):
    settings.API_RATE_LIMIT = "2/minute"
    raw = make_key("northwind")
    acme, bolt = Api("acme.localhost", raw), Api("bolt.localhost", raw)
    assert acme.get("/api/v1/contacts/").status_code == 200
    assert bolt.get("/api/v1/contacts/").status_code == 200
    assert acme.get("/api/v1/contacts/").status_code == 429
    assert bolt.get("/api/v1/contacts/").status_code == 429
