"""Who may open the contacts pages: members of the client and its agency's staff; everyone else is sent to log
in, and a contact of another client is a 404 even for someone who may see both clients. Read-only staff see
every page and change nothing."""

import pytest

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


@pytest.fixture
def urls(acme):
    contact = acme.contact("+13125550177", name="Pat Caller")
    other = acme.contact("+13125550178")
    return contact, [
        "/contacts/",
        "/contacts/?q=pat&status=blocked&tag=vip&page=2",
        f"/contacts/{contact.pk}/",
        f"/contacts/{contact.pk}/merge/?q=555",
        f"/contacts/{contact.pk}/merge/{other.pk}/",
        "/contacts/export.csv",
        "/contacts/import/",
    ]


@pytest.mark.parametrize("who", ["alice", "bob", "nate", "nina"])
def test_it_lets_owners_staff_and_the_owning_agencys_staff_in(web, personas, urls, who):
    _, paths = urls
    client = web(HOST, getattr(personas, who))
    for path in paths:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("who", ["dave", "sara", "charlie", None])
def test_it_sends_strangers_and_anonymous_visitors_to_log_in(web, personas, urls, who):
    _, paths = urls
    client = web(HOST, getattr(personas, who) if who else None)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path


@pytest.mark.parametrize("who", ["dave", "sara", None])
def test_it_changes_nothing_for_a_strangers_post(web, personas, acme, urls, who):
    contact, _ = urls
    client = web(HOST, getattr(personas, who) if who else None)
    for path, data in [
        (f"/contacts/{contact.pk}/edit/", {"name": "Hacked", "email": "", "tags": "", "notes": ""}),
        (f"/contacts/{contact.pk}/block/", {"blocked": "1"}),
        (f"/contacts/{contact.pk}/consent/", {"action": "opt_out"}),
    ]:
        response = client.post(path, data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    fresh = acme.get(contact.pk)
    assert (fresh.name, fresh.is_blocked, fresh.opted_out) == ("Pat Caller", False, False)


def test_a_contact_of_another_client_is_not_found_even_for_an_agency_admin_of_both(web, personas, acme, bolt):
    theirs = bolt.contact("+12025550177", name="Bolt caller", pk=990_001)  # an id Acme's schema does not have
    assert acme.get(theirs.pk) is None
    client = web(HOST, personas.nina)  # nina may use both clients' hosts
    for path in ["/", "/merge/", "/edit/", "/block/", "/consent/"]:
        method = client.get if path in ("/", "/merge/") else client.post
        assert method(f"/contacts/{theirs.pk}{path}").status_code == 404, path
    mine = acme.contact("+13125550190")
    assert client.get(f"/contacts/{mine.pk}/merge/{theirs.pk}/").status_code == 404
    assert "Bolt caller" not in client.get("/contacts/?q=Bolt").content.decode()
    assert web("bolt.localhost", personas.nina).get(f"/contacts/{theirs.pk}/").status_code == 200


def test_the_contacts_pages_are_not_served_on_the_platform_host(web, personas):
    assert web("localhost", personas.nina).get("/contacts/").status_code == 404


def test_read_only_staff_see_every_page_and_change_nothing(web, personas, urls, reader):
    contact, paths = urls
    client = web(HOST, reader)
    for path in paths:
        assert client.get(path).status_code == 200, path
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Pat Caller" in html and "Save</button>" not in html and "Block</button>" not in html
    posts = [
        (f"/contacts/{contact.pk}/edit/", {"name": "Someone Else", "email": "", "tags": "", "notes": ""}),
        (f"/contacts/{contact.pk}/block/", {"blocked": "1"}),
        (f"/contacts/{contact.pk}/consent/", {"action": "opt_out"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    contact.refresh_from_db()
    assert (contact.name, contact.is_blocked, contact.opted_out) == ("Pat Caller", False, False)
