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
    assert response.json()["error"]["message"]


def test_an_unknown_endpoint_answers_in_the_apis_own_shape(api):
    response = api().get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
