"""/contacts/: search, filters, pages, and a query count that does not grow with the rows."""

from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


def _names(response) -> list[str]:
    return [contact.display_name for contact in response.context["page"].object_list]


@pytest.fixture
def people(acme):
    pat = acme.contact("+13125550171", name="Pat Plumber", email="pat@example.com", tags=["vip", "repeat"])
    sam = acme.contact("+13125550172", name="Sam Spam", is_blocked=True, tags=["spam"])
    olly = acme.contact("+17735550173", name="Olly Out", opted_out=True)
    acme.call(pat, ago=timedelta(hours=2))
    return pat, sam, olly


@pytest.mark.parametrize(
    "query, expected",
    [
        ("pat", ["Pat Plumber"]),  # name, any case
        ("PAT@EXAMPLE", ["Pat Plumber"]),  # email
        ("(773) 555", ["Olly Out"]),  # number, as people type it
        ("5550172", ["Sam Spam"]),
        ("VIP", ["Pat Plumber"]),  # tag
        ("nobody", []),
    ],
)
def test_it_searches_names_numbers_emails_and_tags(web, personas, people, query, expected):
    response = web(HOST, personas.alice).get("/contacts/", {"q": query})
    assert _names(response) == expected


def test_it_filters_blocked_opted_out_and_by_tag(web, personas, people):
    client = web(HOST, personas.alice)
    assert _names(client.get("/contacts/", {"status": "blocked"})) == ["Sam Spam"]
    assert _names(client.get("/contacts/", {"status": "opted_out"})) == ["Olly Out"]
    assert _names(client.get("/contacts/", {"tag": "repeat"})) == ["Pat Plumber"]
    assert _names(client.get("/contacts/", {"tag": "spam", "status": "opted_out"})) == []


def test_it_lists_newest_first_with_badges_tags_and_last_call(web, personas, people):
    response = web(HOST, personas.alice).get("/contacts/")
    assert _names(response) == ["Olly Out", "Sam Spam", "Pat Plumber"]
    html = response.content.decode()
    assert "Blocked</span>" in html and "Opted out</span>" in html
    assert "(312) 555-0171" in html  # numbers as people read them
    assert "Called 2\xa0hours ago" in html and html.count("No calls") == 2
    assert '<option value="repeat">repeat</option>' in html  # the tag filter offers the tags in use


def test_it_pages_and_keeps_the_filters_on_the_page_links(web, personas, acme):
    for n in range(30):
        acme.contact(f"+1312555{1000 + n}", name=f"Caller {n:02d}", tags=["bulk"])
    client = web(HOST, personas.alice)
    first = client.get("/contacts/", {"tag": "bulk"})
    assert len(_names(first)) == 25 and first.context["page"].paginator.num_pages == 2
    assert "?tag=bulk&amp;page=2" in first.content.decode()
    second = client.get("/contacts/", {"tag": "bulk", "page": 2})
    assert _names(second) == [f"Caller {n:02d}" for n in range(4, -1, -1)]
    assert (
        client.get("/contacts/", {"page": "999"}).context["page"].number == 2
    )  # past the end: the last page


def test_it_ignores_a_nonsense_filter(web, personas, people):
    response = web(HOST, personas.alice).get("/contacts/", {"status": "everything"})
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 40])
def test_the_list_takes_the_same_queries_for_one_row_or_a_full_page(
    web, personas, acme, rows, django_assert_num_queries
):
    for n in range(rows):
        contact = acme.contact(f"+1312555{2000 + n}", name=f"Caller {n}", tags=["t"])
        acme.call(contact)
    client = web(HOST, personas.alice)
    # Two search_path switches, the host's domain and client, session, user, membership; then the count,
    # the tags in use and the page (with each row's last call as a subquery).
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get("/contacts/", {"q": "caller"}).status_code == 200


LIST_QUERIES = 10  # 9, and one to ask whether the viewer is read-only
