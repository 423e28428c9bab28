"""Lists come in pages linked by cursor: following `next` visits every row once, newest first."""

import pytest
from django_tenants.utils import schema_context

from crm.models import Contact

pytestmark = pytest.mark.django_db


def test_following_next_visits_every_contact_once_newest_first(api, personas):
    with schema_context(personas.acme.schema_name):
        made = [Contact.objects.create(phone_number=f"+1312555{n:04d}").pk for n in range(200, 207)]
    client = api(scope="read")
    seen, url, pages = [], "/api/v1/contacts/?page_size=3", 0
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert seen == list(reversed(made))
    assert pages == 3


def test_a_bad_cursor_is_404_with_the_error_shape(api):
    response = api().get("/api/v1/contacts/", {"cursor": "garbage"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid cursor"


def test_an_unknown_endpoint_answers_in_the_apis_own_shape(api):
    response = api().get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/v1/contacts/", "/api/v1/conversations/", "/api/v1/messages/"])
def test_a_page_costs_the_same_few_queries_however_many_rows(
    api, personas, path, django_assert_max_num_queries
):
    from tests.inbox.conftest import add_conversation

    for n in range(60):
        add_conversation(personas.acme, number=f"+1312555{300 + n:04d}")
    client = api(scope="read")
    client.get(path)  # the key's first use records when it was used
    with django_assert_max_num_queries(6):
        assert len(client.get(path).json()["results"]) == 50
