"""A2P 10DLC registration from the app, against the fake Twilio (TrustHub, brand, messaging service, campaign): the
agency's admin fills in what carriers require, submits, and the registration moves through review to approved,
or fails with the carriers' reason and is fixed and resubmitted, redoing only the failed step. Every request is
checked against Twilio's OpenAPI. Personas: Northwind (nina admin, nate staff) serves acme; Southpeak (sara)."""

import json

import pytest

from accounts.models import Client, Onboarding
from deliverability.models import A2PRegistration
from deliverability.registration import registrations_check_all
from tests.deliverability.registration_data import DETAILS

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_number(twilio, personas):
    """Acme's number, held in the platform's account (Northwind has no account of its own here)."""
    held = twilio.add_incoming_number(str(personas.acme.phone_number))
    Client.objects.filter(pk=personas.acme.pk).update(number_sid=held["sid"])
    return held


def url(personas) -> str:
    return f"/deliverability/northwind/clients/{personas.acme.pk}/registration/"


def kinds(twilio) -> list[str]:
    return [r["operation"] for r in twilio.requests]


def test_submit_then_brand_then_campaign_then_approved(twilio, web, personas, acme_number):
    nina = web("localhost", personas.nina)
    assert "Not started" in nina.get(url(personas)).content.decode()
    response = nina.post(url(personas), DETAILS)
    assert response.status_code == 302, response.content.decode()[-2000:]
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert registration.status == "brand_review" and registration.region == "IL"
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "pending"
    assert kinds(twilio) == [
        "CreateSink",  # the account's event stream, made once (deliverability.streams)
        "CreateSubscription",
        "CreateCustomerProfile",
        "CreateEndUser",
        "CreateEndUser",
        "CreateAddress",
        "CreateSupportingDocument",
        "CreateCustomerProfileEntityAssignment",
        "CreateCustomerProfileEntityAssignment",
        "CreateCustomerProfileEntityAssignment",
        "UpdateCustomerProfile",
        "CreateTrustProduct",
        "CreateEndUser",
        "CreateTrustProductEntityAssignment",
        "CreateTrustProductEntityAssignment",
        "UpdateTrustProduct",
        "CreateBrandRegistrations",
    ]
    business = next(
        r for r in twilio.requests if r["form"].get("Type") == "customer_profile_business_information"
    )
    attributes = json.loads(business["form"]["Attributes"])
    assert attributes["business_registration_number"] == "12-3456789"
    assert attributes["business_name"] == "Acme Plumbing LLC"
    # Still in review: a check changes nothing.
    assert registrations_check_all() == 1
    assert A2PRegistration.objects.get(pk=registration.pk).status == "brand_review"
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    registrations_check_all()
    registration.refresh_from_db()
    assert registration.status == "campaign_review"
    campaign = next(r for r in twilio.requests if r["operation"] == "CreateUsAppToPerson")
    assert campaign["form"]["UsAppToPersonUsecase"] == "CUSTOMER_CARE"
    assert "answers the caller's own call" in campaign["form"]["Description"]
    samples = campaign["form"]["MessageSamples"]
    assert len(samples) >= 2 and all(
        "{" not in sample for sample in samples
    )  # the client's templates, rendered
    assert campaign["form"]["OptOutMessage"].startswith("Acme Plumbing: you're unsubscribed")
    number = next(r for r in twilio.requests if r["operation"] == "CreatePhoneNumber")
    assert number["form"]["PhoneNumberSid"] == acme_number["sid"]
    twilio.set_campaign_status(registration.campaign_sid, "VERIFIED")
    nina.post(url(personas))  # "Check with Twilio now"
    registration.refresh_from_db()
    assert registration.status == "approved"
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "approved"
    assert "Approved: texts are registered" in nina.get(url(personas)).content.decode()


def test_a_failed_brand_shows_the_reason_and_is_fixed_and_resubmitted(twilio, web, personas, acme_number):
    nina = web("localhost", personas.nina)
    nina.post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    first_brand = registration.brand_sid
    twilio.set_brand_status(first_brand, "FAILED", "The EIN does not match the legal name.")
    registrations_check_all()
    page = nina.get(url(personas)).content.decode()
    assert "The brand was not approved: The EIN does not match the legal name." in page
    assert "Fix and resubmit" in page
    fixed = {**DETAILS, "legal_name": "Acme Plumbing Holdings LLC"}
    assert nina.post(url(personas), fixed).status_code == 302
    registration.refresh_from_db()
    assert registration.status == "brand_review" and registration.brand_sid != first_brand
    assert registration.legal_name == "Acme Plumbing Holdings LLC"
    assert kinds(twilio).count("CreateBrandRegistrations") == 2


def test_a_failed_campaign_is_registered_again_alone(twilio, web, personas, acme_number):
    nina = web("localhost", personas.nina)
    nina.post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    registrations_check_all()
    registration.refresh_from_db()
    twilio.set_campaign_status(
        registration.campaign_sid, "FAILED", [{"code": 30896, "description": "Message samples do not match."}]
    )
    registrations_check_all()
    assert (
        "The campaign was not approved: Message samples do not match."
        in nina.get(url(personas)).content.decode()
    )
    nina.post(url(personas), DETAILS)
    registration.refresh_from_db()
    assert registration.status == "campaign_review"
    assert kinds(twilio).count("CreateBrandRegistrations") == 1  # the approved brand is kept
    assert kinds(twilio).count("CreateUsAppToPerson") == 2


def test_bad_details_and_twilio_refusals_are_shown_not_500(twilio, web, personas, acme_number):
    nina = web("localhost", personas.nina)
    response = nina.post(url(personas), {**DETAILS, "ein": "123", "contact_phone": "555"})
    page = response.content.decode()
    assert response.status_code == 200 and "An EIN is 9 digits" in page and "A US number in E.164" in page
    twilio.fail_next(400, code=20001, message="Email is invalid", operation="customer_profile")
    page = nina.post(url(personas), DETAILS).content.decode()
    assert "Twilio refused to create the customer profile: Email is invalid" in page
    assert A2PRegistration.objects.get(client=personas.acme).status == "draft"


def test_only_the_agency_sees_and_only_its_admins_submit(twilio, web, personas, acme_number):
    assert web("localhost", personas.sara).get(url(personas)).status_code == 404
    assert web("localhost", personas.sara).post(url(personas), DETAILS).status_code == 404
    cedar = f"/deliverability/northwind/clients/{personas.cedar.pk}/registration/"
    assert web("localhost", personas.nina).get(cedar).status_code == 404  # another agency's client
    nate = web("localhost", personas.nate)
    assert "Your agency's admins submit registrations." in nate.get(url(personas)).content.decode()
    assert nate.post(url(personas), DETAILS).status_code == 403
    assert not A2PRegistration.objects.exists()
    assert twilio.requests == []


def test_the_wizards_last_step_leads_to_the_registration(web, personas):
    Client.objects.filter(pk=personas.acme.pk).update(went_live_at=None)
    onboarding = Onboarding.objects.create(
        agency=personas.northwind,
        client=personas.acme,
        created_by=personas.nate,
        reached="live",
        progress=100,
    )
    page = web("localhost", personas.nina).get(f"/agency/onboarding/{onboarding.pk}/live/").content.decode()
    start = page.index('id="wizard-registration"')
    assert url(personas) in page[start : page.index("</dd>", start)]


# --- Toll-free numbers: verification instead of 10DLC -------------------------------------------------------------

TOLL_FREE = "+18885550100"


@pytest.fixture
def acme_toll_free(twilio, personas):
    held = twilio.add_incoming_number(TOLL_FREE, type="tollfree")
    Client.objects.filter(pk=personas.acme.pk).update(phone_number=TOLL_FREE, number_sid=held["sid"])
    return held


def test_a_toll_free_number_is_verified_rejected_fixed_and_approved(twilio, web, personas, acme_toll_free):
    nina = web("localhost", personas.nina)
    page = nina.get(url(personas)).content.decode()
    assert "toll-free verification" in page and "Opt-in proof" in page
    missing = nina.post(url(personas), DETAILS).content.decode()
    assert "Toll-free verification needs the opt-in proof" in missing
    proof = {**DETAILS, "opt_in_proof_url": "https://acme-plumbing.example/contact"}
    assert nina.post(url(personas), proof).status_code == 302
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert (registration.kind, registration.status) == ("toll_free", "verification_review")
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "pending"
    create = next(r for r in twilio.requests if r["operation"] == "CreateTollfreeVerification")
    assert create["form"]["TollfreePhoneNumberSid"] == acme_toll_free["sid"]
    assert create["form"]["UseCaseCategories"] == ["CUSTOMER_CARE"]
    assert create["form"]["OptInImageUrls"] == ["https://acme-plumbing.example/contact"]
    assert "{" not in create["form"]["ProductionMessageSample"]
    assert "CreateBrandRegistrations" not in kinds(twilio)  # no 10DLC brand for a toll-free number

    twilio.set_verification_status(
        registration.verification_sid, "TWILIO_REJECTED", "Opt-in proof not reachable."
    )
    registrations_check_all()
    page = nina.get(url(personas)).content.decode()
    assert "The verification was not approved: Opt-in proof not reachable." in page
    fixed = {**proof, "opt_in_proof_url": "https://acme-plumbing.example/texting"}
    assert nina.post(url(personas), fixed).status_code == 302
    update = next(r for r in twilio.requests if r["operation"] == "UpdateTollfreeVerification")
    assert update["form"]["OptInImageUrls"] == ["https://acme-plumbing.example/texting"]
    registration.refresh_from_db()
    assert (
        registration.status == "verification_review"
        and kinds(twilio).count("CreateTollfreeVerification") == 1
    )

    twilio.set_verification_status(registration.verification_sid, "TWILIO_APPROVED")
    registrations_check_all()
    registration.refresh_from_db()
    assert registration.status == "approved"
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "approved"
