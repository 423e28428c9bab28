"""A2P registration, continued: the business's address goes to Twilio as an Address and is the customer profile's
supporting document; a sole proprietor without an EIN registers through Twilio's sole-proprietor path (starter
profile, sole-proprietor trust product, SOLE_PROPRIETOR brand) and confirms the brand by answering the one-time
code carriers text to the contact's mobile; TrustHub's review reaches us by its signed status callback, once,
whatever the repeats. Against the fake Twilio, every request checked against Twilio's OpenAPI.
Personas: Northwind (nina admin) serves acme; Southpeak (sara)."""

import json

import pytest

from accounts.models import Client
from deliverability.models import A2PRegistration, BusinessAddress
from deliverability.registration import (
    SOLE_PROPRIETOR_A2P_POLICY,
    STARTER_PROFILE_POLICY,
    registrations_check_all,
)
from tests.deliverability.registration_data import DETAILS

pytestmark = pytest.mark.django_db

SOLE = {**DETAILS, "legal_name": "Alice Owner", "business_type": "Sole Proprietorship", "ein": ""}
CALLBACK = "/hooks/twilio/registration/status/"


@pytest.fixture
def acme_number(twilio, personas):
    held = twilio.add_incoming_number(str(personas.acme.phone_number))
    Client.objects.filter(pk=personas.acme.pk).update(number_sid=held["sid"])
    return held


def url(personas) -> str:
    return f"/deliverability/northwind/clients/{personas.acme.pk}/registration/"


def request_of(twilio, operation: str, **form) -> dict:
    return next(
        r
        for r in twilio.requests
        if r["operation"] == operation and all(r["form"].get(k) == v for k, v in form.items())
    )


# --- The address ------------------------------------------------------------------------------------------------


def test_the_address_is_a_twilio_address_attached_to_the_customer_profile(twilio, web, personas, acme_number):
    assert web("localhost", personas.nina).post(url(personas), DETAILS).status_code == 302
    registration = A2PRegistration.objects.get(client=personas.acme)
    address = request_of(twilio, "CreateAddress")["form"]
    assert address == {
        "CustomerName": "Acme Plumbing LLC",
        "Street": "1 Main St",
        "City": "Chicago",
        "Region": "IL",
        "PostalCode": "60601",
        "IsoCountry": "US",
        "FriendlyName": "Acme Plumbing (Textback)",
    }
    kept = BusinessAddress.objects.get(client=personas.acme)
    document = request_of(twilio, "CreateSupportingDocument")["form"]
    assert document["Type"] == "customer_profile_address"
    assert json.loads(document["Attributes"]) == {"address_sids": kept.address_sid}
    [doc] = [r for r in twilio.registrations if r["sid"].startswith("RD")]
    assigned = [
        r["object_sid"]
        for r in twilio.registrations
        if r.get("bundle_sid") == registration.customer_profile_sid
    ]
    assert doc["sid"] in assigned


def test_a_resubmission_with_the_same_address_reuses_it_and_a_new_one_is_sent(
    twilio, web, personas, acme_number
):
    nina = web("localhost", personas.nina)
    nina.post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "FAILED", "Name mismatch")
    registrations_check_all()
    nina.post(url(personas), {**DETAILS, "legal_name": "Acme Plumbing LLC"})
    assert [r["operation"] for r in twilio.requests].count("CreateAddress") == 1  # same address: kept
    twilio.set_brand_status(A2PRegistration.objects.get(pk=registration.pk).brand_sid, "FAILED", "Address")
    registrations_check_all()
    nina.post(url(personas), {**DETAILS, "street": "2 Main St"})
    assert [r["operation"] for r in twilio.requests].count("CreateAddress") == 2
    assert BusinessAddress.objects.get(client=personas.acme).street == "2 Main St"


# --- Sole proprietors ---------------------------------------------------------------------------------------------


def test_an_ein_is_needed_unless_a_sole_proprietorship(twilio, web, personas, acme_number):
    response = web("localhost", personas.nina).post(url(personas), {**DETAILS, "ein": ""})
    assert "only a sole proprietorship without one registers without it" in response.content.decode()
    assert twilio.requests == []


def test_a_sole_proprietor_registers_confirms_by_otp_then_gets_a_campaign(twilio, web, personas, acme_number):
    nina = web("localhost", personas.nina)
    assert nina.post(url(personas), SOLE).status_code == 302
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert registration.status == "brand_review" and registration.brand_type == "SOLE_PROPRIETOR"
    assert request_of(twilio, "CreateCustomerProfile")["form"]["PolicySid"] == STARTER_PROFILE_POLICY
    person = request_of(twilio, "CreateEndUser", Type="starter_customer_profile_information")
    assert json.loads(person["form"]["Attributes"])["phone_number"] == "+13125550142"
    assert request_of(twilio, "CreateTrustProduct")["form"]["PolicySid"] == SOLE_PROPRIETOR_A2P_POLICY
    info = request_of(twilio, "CreateEndUser", Type="sole_proprietor_information")
    assert json.loads(info["form"]["Attributes"]) == {
        "brand_name": "Alice Owner",
        "vertical": "CONSTRUCTION",
        "mobile_phone_number": "+13125550142",
    }
    assert request_of(twilio, "CreateBrandRegistrations")["form"]["BrandType"] == "SOLE_PROPRIETOR"
    assert not any(
        r["form"].get("Type") == "customer_profile_business_information" for r in twilio.requests
    )  # no EIN asked of anyone

    # Approved, but the OTP is not answered yet: the page says what Alice must do, and no campaign yet.
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    registrations_check_all()
    registration.refresh_from_db()
    assert registration.status == "brand_review" and registration.awaiting_otp
    page = nina.get(url(personas)).content.decode()
    assert "Next, for Alice:" in page and "+13125550142" in page and "Reply YES" in page
    assert nina.post(url(personas), {"action": "otp"}).status_code == 302
    assert [r["operation"] for r in twilio.requests].count("CreateBrandRegistrationOtp") == 1
    assert "CreateUsAppToPerson" not in [r["operation"] for r in twilio.requests]

    twilio.answer_brand_otp(registration.brand_sid)
    registrations_check_all()
    registration.refresh_from_db()
    assert registration.status == "campaign_review" and registration.brand_identity == "VERIFIED"
    campaign = request_of(twilio, "CreateUsAppToPerson")["form"]
    assert campaign["UsAppToPersonUsecase"] == "SOLE_PROPRIETOR"
    assert "Next, for Alice" not in nina.get(url(personas)).content.decode()


def test_a_standard_brand_never_waits_for_an_otp(twilio, web, personas, acme_number):
    nina = web("localhost", personas.nina)
    nina.post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert registration.brand_type == "STANDARD" and not registration.awaiting_otp
    response = nina.post(url(personas), {"action": "otp"})
    assert "No one-time code is awaited" in response.content.decode()


# --- Statuses by callback ------------------------------------------------------------------------------------------


def _deliver(web, callback: tuple[str, dict, str], *, signature: str | None = None):
    url, params, signed = callback
    path = url.split("://", 1)[1].split("/", 1)[1]
    return web("localhost").post(f"/{path}", params, HTTP_X_TWILIO_SIGNATURE=signature or signed)


def test_a_rejected_profile_reported_by_callback_fails_the_registration_once(
    twilio, web, personas, acme_number
):
    web("localhost", personas.nina).post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    profile = request_of(twilio, "CreateCustomerProfile")["form"]
    assert CALLBACK in profile["StatusCallback"] and f"r={registration.pk}" in profile["StatusCallback"]
    callback = twilio.bundle_review(
        registration.customer_profile_sid, "twilio-rejected", "The address could not be verified"
    )
    before = len(twilio.requests)
    assert _deliver(web, callback).status_code == 204
    registration.refresh_from_db()
    assert registration.status == "failed" and registration.failed_step == "brand"
    assert registration.failure_reason == (
        "Twilio's review rejected the business profile: The address could not be verified"
    )
    assert _deliver(web, callback).status_code == 204  # Twilio's retry: nothing more happens
    assert A2PRegistration.objects.get(pk=registration.pk).failure_reason == registration.failure_reason
    assert len(twilio.requests) == before  # a rejection needs no question to Twilio
    page = web("localhost", personas.nina).get(url(personas)).content.decode()
    assert "The address could not be verified" in page and "Fix and resubmit" in page


def test_an_approved_profile_callback_moves_the_registration_at_once(twilio, web, personas, acme_number):
    web("localhost", personas.nina).post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    callback = twilio.bundle_review(registration.trust_product_sid, "twilio-approved")
    assert _deliver(web, callback).status_code == 204
    assert A2PRegistration.objects.get(pk=registration.pk).status == "campaign_review"
    assert _deliver(web, callback).status_code == 204  # again: checked again, nothing made twice
    assert [r["operation"] for r in twilio.requests].count("CreateUsAppToPerson") == 1


def test_a_badly_signed_or_foreign_callback_is_403_and_changes_nothing(twilio, web, personas, acme_number):
    web("localhost", personas.nina).post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    callback = twilio.bundle_review(registration.customer_profile_sid, "twilio-rejected", "No")
    assert _deliver(web, callback, signature="forged").status_code == 403
    # Signed by another account (Southpeak's own Twilio account) for Northwind's registration.
    other = twilio.add_account(friendly_name="Southpeak's own")
    from twilio.request_validator import RequestValidator

    url_, params, _ = callback
    foreign = {**params, "AccountSid": other["sid"]}
    signed = RequestValidator(other["auth_token"]).compute_signature(url_, foreign)
    assert _deliver(web, (url_, foreign, signed)).status_code == 403
    # A registration that does not exist.
    missing = (url_.replace(f"r={registration.pk}", "r=999999"), params, callback[2])
    assert _deliver(web, missing).status_code == 403
    assert A2PRegistration.objects.get(pk=registration.pk).status == "brand_review"
