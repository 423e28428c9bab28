"""The onboarding wizard: resumable steps, each validated before the next opens, with the client's schema
provisioned by a task meanwhile (run inline here; tests/browser/test_agency_onboarding.py runs it on the real
worker), a failure shown with its reason and retried, and the client live at the end."""

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import Client, Onboarding
from agency import onboarding as wizard
from messaging.models import Template

pytestmark = pytest.mark.django_db

PROFILE = {
    "name": "Drip Drop Plumbing",
    "industry": "plumbing",
    "timezone": "America/Chicago",
    "average_job_value": "275.00",
}


@pytest.fixture(autouse=True)
def _provision_inline(monkeypatch):
    """on_commit callbacks run at once (a test's transaction never commits), and the provisioning task's work
    runs in-process instead of on a worker."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
    monkeypatch.setattr(
        wizard,
        "onboarding_enqueue",
        lambda *, onboarding: wizard.onboarding_provision(onboarding_id=onboarding.pk),
    )


def start(web, personas, who="nate", **profile):
    browser = web("localhost", getattr(personas, who))
    response = browser.post("/agency/northwind/onboarding/new/", {**PROFILE, **profile})
    return browser, response


def step_url(onboarding, step):
    return f"/agency/onboarding/{onboarding.pk}/{step}/"


def test_the_whole_wizard_to_a_live_client(web, personas):
    browser, response = start(web, personas)
    onboarding = Onboarding.objects.get(client__slug="drip-drop-plumbing")
    assert response["Location"] == step_url(onboarding, "hours")
    client = onboarding.client
    assert (client.status, client.industry, str(client.average_job_value)) == ("live", "plumbing", "275.00")
    assert Onboarding.objects.get(pk=onboarding.pk).progress == 100
    # On the dashboard it is onboarding, with a way back in.
    row = browser.get("/").content.decode()
    assert "Continue setup" in row and step_url(onboarding, "hours") in row

    # A later step does not open before the earlier ones are done.
    assert browser.get(step_url(onboarding, "templates")).status_code == 404

    bad = browser.post(step_url(onboarding, "hours"), {"hours": "mon-fri 17:00-09:00"})
    assert bad.status_code == 400
    assert browser.post(step_url(onboarding, "hours"), {"hours": "mon-fri 07:00-16:00"})[
        "Location"
    ] == step_url(onboarding, "number")

    taken = browser.post(
        step_url(onboarding, "number"),
        {
            "phone_number": "+13125550100",
            "call_mode": "forward",
            "forward_to": "+13125550901",
            "messaging_registration": "not_needed",
        },
    )
    assert taken.status_code == 400 and "Another client already uses this number." in taken.content.decode()
    no_phone = browser.post(
        step_url(onboarding, "number"),
        {"phone_number": "+13125550900", "call_mode": "forward", "messaging_registration": "not_needed"},
    )
    assert no_phone.status_code == 400 and "Forward mode needs" in no_phone.content.decode()
    carrier = browser.post(
        step_url(onboarding, "number"),
        {"phone_number": "+13125550900", "call_mode": "carrier", "messaging_registration": "not_needed"},
    )
    assert carrier["Location"] == step_url(onboarding, "templates")
    page = browser.get(step_url(onboarding, "number")).content.decode()
    assert "*923125550900" in page and "*713125550900" in page  # the codes, for this number
    assert "http://localhost:8000/hooks/twilio/voice/incoming/" in page

    texts = browser.get(step_url(onboarding, "templates")).content.decode()
    assert "Is it a leak" in texts  # prefilled for plumbing, in the client's own schema
    assert "Hi Maria, sorry we missed your call at Drip Drop Plumbing!" in texts  # the preview
    body = "Hi {caller_name}, {business_name} here. What's up?"
    preview = browser.post(
        step_url(onboarding, "templates"),
        {"business_hours": body, "after_hours": "Closed, {caller_name}.", "action": "preview"},
    )
    assert "Hi Maria, Drip Drop Plumbing here. What&#x27;s up?" in preview.content.decode()
    assert Onboarding.objects.get(pk=onboarding.pk).reached == "templates"  # a preview saves nothing
    wrong = browser.post(
        step_url(onboarding, "templates"), {"business_hours": "Hi {name}", "after_hours": "x"}
    )
    assert wrong.status_code == 400 and "{name} is not a placeholder" in wrong.content.decode()
    saved = browser.post(
        step_url(onboarding, "templates"),
        {"business_hours": body, "after_hours": "Closed, {caller_name}.", "action": "save"},
    )
    assert saved["Location"] == step_url(onboarding, "owner")
    with schema_context(client.schema_name):
        assert Template.objects.get(kind="business_hours").body == body

    assert browser.post(step_url(onboarding, "owner"), {"email": "owner@dripdrop.test"})[
        "Location"
    ] == step_url(onboarding, "test")
    (invitation,) = mail.outbox
    assert (
        invitation.to == ["owner@dripdrop.test"]
        and "http://drip-drop-plumbing.localhost:8000/accounts/invitation/" in invitation.body
    )

    test_page = browser.get(step_url(onboarding, "test")).content.decode()
    assert "No test phone yet" in test_page  # carrier mode: no forward-to phone to test with
    assert (
        browser.post(step_url(onboarding, "test"), {"action": "add", "number": "+13125550177"}).status_code
        == 302
    )
    test_page = browser.get(step_url(onboarding, "test")).content.decode()
    assert "./run manage simulate_call --client drip-drop-plumbing --from +13125550177" in test_page
    assert Client.objects.get(pk=client.pk).went_live_at is None
    assert browser.post(step_url(onboarding, "test"))["Location"] == step_url(onboarding, "registration")
    assert browser.get(step_url(onboarding, "live")).status_code == 404  # not before the registration step
    later = browser.post(step_url(onboarding, "registration"), {"action": "later"})
    assert later["Location"] == step_url(onboarding, "live")
    live = browser.post(step_url(onboarding, "live"))
    assert live.status_code == 302
    assert Onboarding.objects.get(pk=onboarding.pk).completed_at is not None
    assert Client.objects.get(pk=client.pk).went_live_at is not None
    row = browser.get("/?status=live").content.decode()
    assert "Drip Drop Plumbing" in row and "Continue setup" not in row


def test_the_templates_are_not_overwritten_by_a_second_provisioning_run(web, personas):
    _, _ = start(web, personas)
    onboarding = Onboarding.objects.get(client__slug="drip-drop-plumbing")
    Onboarding.objects.filter(pk=onboarding.pk).update(templates_saved=True)
    with schema_context(onboarding.client.schema_name):
        Template.objects.filter(kind="business_hours").update(body="Mine, {caller_name}")
    assert wizard.onboarding_provision(onboarding_id=onboarding.pk) == "ready"
    with schema_context(onboarding.client.schema_name):
        assert Template.objects.get(kind="business_hours").body == "Mine, {caller_name}"


def test_a_failed_provisioning_shows_its_reason_and_can_be_retried(web, personas, monkeypatch):
    from accounts import services

    def broken(schema_name):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "client_schema_create", broken)
    browser, response = start(web, personas)
    onboarding = Onboarding.objects.get(client__slug="drip-drop-plumbing")
    assert Client.objects.get(pk=onboarding.client_id).status == "failed"
    page = browser.get(step_url(onboarding, "hours")).content.decode()
    assert "Setting up the business's database failed" in page and "disk full" in page and "Try again" in page
    progress = browser.get(f"/agency/onboarding/{onboarding.pk}/progress/").json()
    assert progress["status"] == "failed" and progress["error"] == "disk full" and not progress["ready"]
    monkeypatch.undo()
    _provision_again(monkeypatch)
    assert browser.post(f"/agency/onboarding/{onboarding.pk}/retry/").status_code == 302
    assert Client.objects.get(pk=onboarding.client_id).status == "live"
    assert browser.get(f"/agency/onboarding/{onboarding.pk}/progress/").json()["ready"] is True


def _provision_again(monkeypatch):
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
    monkeypatch.setattr(
        wizard,
        "onboarding_enqueue",
        lambda *, onboarding: wizard.onboarding_provision(onboarding_id=onboarding.pk),
    )


def test_bad_profile_input_is_a_form_error_and_creates_nothing(web, personas):
    _, response = start(web, personas, name="", average_job_value="-5")
    assert response.status_code == 400
    assert not Client.objects.filter(name="").exists() and not Onboarding.objects.exists()


def test_two_clients_with_the_same_name_get_different_hosts(web, personas):
    start(web, personas)
    start(web, personas)
    assert sorted(Client.objects.filter(name=PROFILE["name"]).values_list("slug", flat=True)) == [
        "drip-drop-plumbing",
        "drip-drop-plumbing-2",
    ]


def test_who_may_use_the_wizard(web, personas):
    _, _ = start(web, personas, who="nina")
    onboarding = Onboarding.objects.get()
    for who in ("nina", "nate", "oscar"):
        assert web("localhost", getattr(personas, who)).get(step_url(onboarding, "hours")).status_code == 200
    sara = web("localhost", personas.sara)
    assert sara.get(step_url(onboarding, "hours")).status_code == 404
    assert sara.post(step_url(onboarding, "hours"), {"hours": "24/7"}).status_code == 404
    assert sara.get(f"/agency/onboarding/{onboarding.pk}/progress/").status_code == 404
    assert sara.get("/agency/northwind/onboarding/new/").status_code == 404
    assert sara.post("/agency/northwind/onboarding/new/", PROFILE).status_code == 404
    for who in ("alice", None):
        response = web("localhost", getattr(personas, who) if who else None).get(
            step_url(onboarding, "hours")
        )
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert web("acme.localhost", personas.nina).get(step_url(onboarding, "hours")).status_code == 404
    assert Client.objects.get(pk=onboarding.client_id).business_hours != {"mon": [], "tue": []}
