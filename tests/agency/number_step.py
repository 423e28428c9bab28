"""A client brought to the onboarding wizard's number step, for the number step's tests (Twilio's and Telnyx's)."""

from django.db import transaction

from accounts.models import Client, Onboarding
from agency import onboarding as wizard


def at_the_number_step(web, personas, monkeypatch) -> Onboarding:
    """nate starts Drip Drop Plumbing for northwind and sets its hours; its schema is provisioned in-process."""
    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
    monkeypatch.setattr(
        wizard,
        "onboarding_enqueue",
        lambda *, onboarding: wizard.onboarding_provision(onboarding_id=onboarding.pk),
    )
    browser = web("localhost", personas.nate)
    browser.post(
        "/agency/northwind/onboarding/new/",
        {
            "name": "Drip Drop Plumbing",
            "industry": "plumbing",
            "timezone": "America/Chicago",
            "average_job_value": "275",
        },
    )
    onboarding = Onboarding.objects.get(client__slug="drip-drop-plumbing")
    browser.post(f"/agency/onboarding/{onboarding.pk}/hours/", {"hours": "mon-fri 08:00-17:00"})
    return onboarding


def url(onboarding) -> str:
    return f"/agency/onboarding/{onboarding.pk}/number/"


def client_of(onboarding) -> Client:
    return Client.objects.get(pk=onboarding.client_id)
