"""The texts step's live preview: what the page asks for as the agency types, the text as the sample caller would
get it, for the agency's people only."""

import pytest

from accounts.models import Client, ClientMembership, Onboarding
from agency import onboarding as wizard

pytestmark = pytest.mark.django_db


@pytest.fixture
def onboarding(web, personas, monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
    monkeypatch.setattr(
        wizard,
        "onboarding_enqueue",
        lambda *, onboarding: wizard.onboarding_provision(onboarding_id=onboarding.pk),
    )
    web("localhost", personas.nate).post(
        "/agency/northwind/onboarding/new/",
        {
            "name": "Harbor Heating",
            "industry": "hvac",
            "timezone": "America/Chicago",
            "average_job_value": "1",
            "sender_name": "Hank",
        },
    )
    return Onboarding.objects.get(client__slug="harbor-heating")


def preview(browser, onboarding, **bodies):
    return browser.post(f"/agency/onboarding/{onboarding.pk}/preview/", bodies)


def test_the_preview_is_the_text_as_a_caller_gets_it(web, personas, onboarding):
    response = preview(
        web("localhost", personas.nate),
        onboarding,
        business_hours="Hi {caller_name}, {sender_name} at {business_name} here.",
        after_hours="Closed, {nme}.",
    )
    assert response.status_code == 200
    assert response.json() == {
        "business_hours": "Hi Maria, Hank at Harbor Heating here.",
        "after_hours": None,
    }
    assert preview(
        web("localhost", personas.nina), onboarding, business_hours="", after_hours="x"
    ).json() == {"after_hours": "x"}


def test_the_page_is_wired_to_it(web, personas, onboarding):
    Onboarding.objects.filter(pk=onboarding.pk).update(reached="templates")
    html = (
        web("localhost", personas.nate).get(f"/agency/onboarding/{onboarding.pk}/templates/").content.decode()
    )
    assert f'data-preview-url="/agency/onboarding/{onboarding.pk}/preview/"' in html
    assert 'data-preview-for="business_hours"' in html and 'data-preview-for="after_hours"' in html


def test_who_may_preview(web, personas, onboarding):
    body = {"business_hours": "Hi {caller_name}", "after_hours": "x"}
    assert (
        web("localhost", personas.sara).post(f"/agency/onboarding/{onboarding.pk}/preview/", body).status_code
        == 404
    )
    assert (
        web("localhost", personas.nate).get(f"/agency/onboarding/{onboarding.pk}/preview/").status_code == 405
    )
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.alice, personas.bob, readonly, None):
        response = web("localhost", user).post(f"/agency/onboarding/{onboarding.pk}/preview/", body)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    acme_host = web("acme.localhost", personas.nate).post(
        f"/agency/onboarding/{onboarding.pk}/preview/", body
    )
    assert acme_host.status_code == 404
    assert Client.objects.get(pk=onboarding.client_id).name == "Harbor Heating"
