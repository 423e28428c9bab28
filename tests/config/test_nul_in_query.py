"""A NUL character in a query string (a search box; the API's filters are tested in tests/api) is refused with a reason, never a 500:
PostgreSQL cannot hold or compare text containing one, so it must not reach a query."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/inbox/", "/contacts/"])
def test_a_search_for_a_nul_on_a_clients_pages_is_a_400_with_the_reason(web, personas, path):
    response = web("acme.localhost", personas.alice).get(path, {"q": "{\x00x"})
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_the_same_search_without_the_nul_works(web, personas):
    assert web("acme.localhost", personas.alice).get("/contacts/", {"q": "{x"}).status_code == 200
