"""The Django admin on a client's host: the client's owners and its agency change its settings, templates and
canned replies there, with the same checks as the settings page; nobody else gets in, and another client's
row does not exist here."""

import pytest
from django_tenants.utils import schema_context

from accounts.models import Client
from messaging.models import Template

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


def _template(client, kind="business_hours") -> Template:
    with schema_context(client.schema_name):
        return Template.objects.get(kind=kind)


def _settings_post(**overrides) -> dict:
    data = {
        "business_hours": "mon-fri 08:00-17:00",
        "closures": "2026-12-25 Christmas",
        "timezone": "America/Chicago",
        "text_delay_seconds": "0",
        "suppress_hours": "24",
        "min_ring_seconds": "5",
        "ring_timeout_seconds": "20",
        "voicemail": "on",
        "voicemail_max_seconds": "120",
        "response_target_minutes": "15",
        "messaging_registration": "not_needed",
    }
    return {**data, **overrides}


@pytest.mark.parametrize("who", ["alice", "nina", "nate", "oscar"])
def test_owners_and_the_agency_get_in(web, personas, who):
    page = web(HOST, getattr(personas, who)).get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Plumbing: settings" in html and "Templates" in html and "Canned replies" in html


@pytest.mark.parametrize("who", ["dave", "erin", "sara", "charlie", None])
def test_strangers_and_anonymous_are_sent_to_log_in_and_back(web, personas, who):
    response = web(HOST, getattr(personas, who) if who else None).get(
        "/admin/messaging/template/", follow=True
    )
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2Fmessaging%2Ftemplate%2F"


@pytest.mark.parametrize("who", ["bob", "rita"])
def test_the_clients_staff_are_told_they_may_not(web, personas, reader, who):
    user = reader if who == "rita" else personas.bob
    response = web(HOST, user).get("/admin/messaging/template/", follow=True)
    assert response.status_code == 403


def test_a_template_is_previewed_and_saved_with_the_settings_pages_checks(web, personas):
    template = _template(personas.acme)
    browser = web(HOST, personas.alice)
    url = f"/admin/messaging/template/{template.pk}/change/"
    html = browser.get(url).content.decode()
    assert "segment(s)" in html and "Acme Plumbing" in html  # the rendered preview

    refused = browser.post(url, {"body": "Hi {caler_name}", "is_active": "on"})
    assert refused.status_code == 200
    assert "is not a placeholder" in refused.content.decode()
    assert _template(personas.acme).body == template.body

    assert (
        browser.post(url, {"body": "Sorry we missed you, {caller_name}!", "is_active": "on"}).status_code
        == 302
    )
    assert _template(personas.acme).body == "Sorry we missed you, {caller_name}!"
    assert _template(personas.bolt).body != "Sorry we missed you, {caller_name}!"


def test_hours_and_holidays_are_edited_as_text_and_refused_when_they_overlap(web, personas):
    browser = web(HOST, personas.nina)
    url = f"/admin/accounts/client/{personas.acme.pk}/change/"
    assert browser.post(url, _settings_post(business_hours="mon 08:00-12:00,11:00-17:00")).status_code == 200
    assert Client.objects.get(pk=personas.acme.pk).business_hours != {"mon": [["08:00", "12:00"]]}
    assert browser.post(url, _settings_post()).status_code == 302
    saved = Client.objects.get(pk=personas.acme.pk)
    assert saved.business_hours["fri"] == [["08:00", "17:00"]]
    assert saved.closures == [{"start": "2026-12-25", "end": "2026-12-25", "label": "Christmas"}]


def test_another_clients_row_and_templates_do_not_exist_here(web, personas):
    browser = web(HOST, personas.nina)  # nina's agency has both acme and bolt
    bolt_before = Client.objects.get(pk=personas.bolt.pk).business_hours
    response = browser.post(f"/admin/accounts/client/{personas.bolt.pk}/change/", _settings_post())
    assert response.status_code == 302 and response["Location"] == "/admin/"  # "doesn't exist"
    assert Client.objects.get(pk=personas.bolt.pk).business_hours == bolt_before
    listing = browser.get("/admin/accounts/client/").content.decode()
    assert "Acme Plumbing" in listing and "Bolt Electric" not in listing


def test_templates_cannot_be_added_or_deleted_only_turned_off(web, personas):
    browser = web(HOST, personas.alice)
    assert browser.get("/admin/messaging/template/add/").status_code == 403
    template = _template(personas.acme)
    assert (
        browser.post(f"/admin/messaging/template/{template.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_the_owner_cannot_change_the_messaging_registration_in_the_admin(web, personas):
    url = f"/admin/accounts/client/{personas.acme.pk}/change/"
    page = web(HOST, personas.alice).get(url).content.decode()
    assert "Messaging registration (US A2P 10DLC)" in page and 'name="messaging_registration"' not in page
    assert (
        web(HOST, personas.alice).post(url, _settings_post(messaging_registration="approved")).status_code
        == 302
    )
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "not_needed"
    assert (
        web(HOST, personas.nina).post(url, _settings_post(messaging_registration="pending")).status_code
        == 302
    )
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "pending"
