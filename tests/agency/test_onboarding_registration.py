"""The onboarding wizard's registration step (between Test and Go live): the A2P 10DLC details carriers require,
on deliverability's own form, submitted to the (fake) Twilio exactly as the client's registration page submits
them; or "register later", which leaves the client's registration pending, so the agency's hold-until-registered
choice still applies to its text-backs. Admins submit (as on the page); another agency never reaches the step.

Personas: Northwind (nina admin, nate staff) serves acme; Southpeak (sara admin) serves cedar."""

import html

import pytest

from accounts.models import Client, Onboarding
from deliverability.models import A2PRegistration, DeliverabilityPolicy
from deliverability.selectors import textbacks_held

pytestmark = pytest.mark.django_db

DETAILS = {
    "action": "register",
    "legal_name": "Acme Plumbing LLC",
    "business_type": "Limited Liability Corporation",
    "ein": "12-3456789",
    "vertical": "CONSTRUCTION",
    "website": "acme-plumbing.example",
    "street": "1 Main St",
    "city": "Chicago",
    "region": "il",
    "postal_code": "60601",
    "contact_first_name": "Alice",
    "contact_last_name": "Owner",
    "contact_email": "alice@acme.test",
    "contact_phone": "+13125550142",
}


@pytest.fixture
def onboarding(twilio, personas) -> Onboarding:
    """Acme as the wizard leaves it after the test step, its new local number waiting to be registered."""
    held = twilio.add_incoming_number(str(personas.acme.phone_number))
    Client.objects.filter(pk=personas.acme.pk).update(
        went_live_at=None, number_sid=held["sid"], messaging_registration="pending"
    )
    return Onboarding.objects.create(
        agency=personas.northwind,
        client=personas.acme,
        created_by=personas.nate,
        reached="registration",
        progress=100,
    )


def step(onboarding, name="registration") -> str:
    return f"/agency/onboarding/{onboarding.pk}/{name}/"


def shown(response) -> str:
    return html.unescape(response.content.decode())


def reached(onboarding) -> str:
    return Onboarding.objects.get(pk=onboarding.pk).reached


def test_the_step_shows_the_registration_form_and_submits_it_as_the_page_does(
    twilio, web, personas, onboarding
):
    nina = web("localhost", personas.nina)
    page = shown(nina.get(step(onboarding)))
    assert "Register for US texting" in page and "Step 7 of 8" in page
    for label in ("Legal business name", "EIN", "Vertical", "Website", "State (2 letters)", "Contact email"):
        assert f">{label}</label>" in page, label
    assert nina.get(step(onboarding, "live")).status_code == 404  # Go live opens after this step

    response = nina.post(step(onboarding), DETAILS)
    assert response.status_code == 302 and response["Location"] == step(onboarding, "live")
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert (registration.status, registration.region, registration.website) == (
        "brand_review",
        "IL",
        "https://acme-plumbing.example",
    )
    operations = [r["operation"] for r in twilio.requests]
    # The same submission as the client's registration page (tests/deliverability/test_registration.py).
    assert operations[:3] == ["CreateSink", "CreateSubscription", "CreateCustomerProfile"]
    assert "CreateBrandRegistrations" in operations
    assert reached(onboarding) == "live"
    assert "carriers review the brand first" in shown(nina.get(step(onboarding, "live")))

    # Back at the step: in review, nothing to edit; it says where it stands and goes on.
    again = shown(nina.get(step(onboarding)))
    assert "Status: <strong>Brand in review</strong>" in again or "in review" in again.lower()
    assert 'name="legal_name"' not in again
    assert nina.post(step(onboarding), {"action": "continue"})["Location"] == step(onboarding, "live")
    assert A2PRegistration.objects.count() == 1
    # And the wizard ends as before.
    assert nina.post(step(onboarding, "live")).status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).went_live_at is not None


def test_register_later_keeps_it_pending_and_the_hold_applies(twilio, web, personas, onboarding):
    DeliverabilityPolicy.objects.update_or_create(
        agency=personas.northwind, defaults={"hold_until_registered": True}
    )
    nate = web("localhost", personas.nate)  # any of the agency's people may leave it for later
    page = shown(nate.get(step(onboarding)))
    assert "text-backs are <strong>held</strong>" in page
    response = nate.post(step(onboarding), {"action": "later"})
    assert response["Location"] == step(onboarding, "live")
    assert not A2PRegistration.objects.exists() and twilio.requests == []
    acme = Client.objects.get(pk=personas.acme.pk)
    assert acme.messaging_registration == "pending" and textbacks_held(acme)
    assert reached(onboarding) == "live"


def test_without_the_hold_the_step_says_texts_go_anyway(twilio, web, personas, onboarding):
    page = shown(web("localhost", personas.nina).get(step(onboarding)))
    assert "sent anyway" in page and "held" not in page.split('id="wizard-hold"')[1].split("</p>")[0]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"ein": ""}, "Enter the EIN"),
        ({"ein": "123"}, "An EIN is 9 digits"),
        ({"region": "I1"}, "The state's two letters"),
        ({"contact_phone": "312-555"}, "A US number in E.164"),
        ({"legal_name": ""}, "This field is required."),
    ],
)
def test_bad_details_are_shown_on_the_step_and_nothing_reaches_twilio(
    twilio, web, personas, onboarding, change, error
):
    response = web("localhost", personas.nina).post(step(onboarding), {**DETAILS, **change})
    assert response.status_code == 400
    page = shown(response)
    assert error in page and 'class="field-errors"' in page
    assert 'value="Acme Plumbing LLC"' in page or not change.get("legal_name", True)  # what was typed is kept
    assert twilio.requests == [] and not A2PRegistration.objects.exists()
    assert reached(onboarding) == "registration"


def test_twilio_refusing_is_said_on_the_step_not_a_500(twilio, web, personas, onboarding):
    twilio.fail_next(400, code=20001, message="Email is invalid", operation="customer_profile")
    response = web("localhost", personas.nina).post(step(onboarding), DETAILS)
    assert response.status_code == 400
    assert "Email is invalid" in shown(response)
    assert reached(onboarding) == "registration"


def test_only_admins_submit_as_on_the_registration_page(twilio, web, personas, onboarding):
    nate = web("localhost", personas.nate)
    page = shown(nate.get(step(onboarding)))
    assert "Your agency's admins submit registrations" in page and 'name="legal_name"' not in page
    assert "Register later" in page
    assert nate.post(step(onboarding), DETAILS).status_code == 403
    assert not A2PRegistration.objects.exists() and twilio.requests == []


def test_an_unknown_action_is_a_400(twilio, web, personas, onboarding):
    assert web("localhost", personas.nina).post(step(onboarding), {"action": "nope"}).status_code == 400
    assert reached(onboarding) == "registration"


def test_cross_agency_another_agency_cannot_register_or_skip_the_client(twilio, web, personas, onboarding):
    sara = web("localhost", personas.sara)
    assert sara.get(step(onboarding)).status_code == 404
    assert sara.post(step(onboarding), DETAILS).status_code == 404
    assert sara.post(step(onboarding), {"action": "later"}).status_code == 404
    assert not A2PRegistration.objects.exists() and twilio.requests == []
    assert reached(onboarding) == "registration"
    # Nor through Southpeak's own onboarding of cedar: the step only ever registers the onboarding's client.
    cedar = Onboarding.objects.create(
        agency=personas.southpeak, client=personas.cedar, created_by=personas.sara, reached="registration"
    )
    assert web("localhost", personas.nina).get(step(cedar)).status_code == 404
