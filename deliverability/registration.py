"""US A2P 10DLC registration from the app, in the agency's Twilio account (messaging.twilio_accounts.client_for):

1. submit: the business's TrustHub customer profile (its business information and authorised contact) and its A2P
   trust product, each submitted for review, then the brand registration. Status: brand_review.
2. check (polled by beat, or on demand): once the brand is approved, a messaging service holding the client's
   number and the US A2P campaign (use case customer care; the description says the texts answer the caller's own
   call; the samples are the client's own templates; the opt-out and help wording are ours). Status:
   campaign_review, then approved when the campaign is verified. A failed brand or campaign is "failed" with the
   carriers' reason; the agency fixes the details and submits again, and only the failed step is done again.

Each Twilio resource's SID is kept as soon as it exists, so a submission interrupted half-way resumes without
making a second profile or brand. The client's messaging_registration follows (pending, then approved), which is
what holding text-backs until approval (deliverability.receivers) and the dashboard read."""

import logging
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Client
from messaging.keywords import Keyword
from messaging.models import Template
from messaging.placeholders import render
from messaging.services import keyword_reply_text, placeholder_context
from messaging.twilio_accounts import client_for
from messaging.webhooks import webhook_url

from .addresses import address_ensure
from .errors import RegistrationError, twilio_step
from .models import A2PRegistration, HostedNumberOrder
from .streams import events_ensure

log = logging.getLogger(__name__)

# Twilio's policies for an ISV's secondary customer profile and for the A2P messaging profile (trust product).
CUSTOMER_PROFILE_POLICY = "RNdfbf3fae0e1107f8aded0e7cead80bf5"
A2P_PROFILE_POLICY = "RNb0d4771c2c98518d916a3d4cd70a8f8b"
# A sole proprietor without an EIN: Twilio's starter customer profile and its sole-proprietor A2P trust product.
STARTER_PROFILE_POLICY = "RN806dd6cd175f314e1f96a9727ee271f4"
SOLE_PROPRIETOR_A2P_POLICY = "RN670d5d2e282a6130ae063b234b6019c8"
SOLE_PROPRIETOR = "SOLE_PROPRIETOR"
Status = A2PRegistration.Status


TOLL_FREE = re.compile(r"^\+18(00|33|44|55|66|77|88)\d{7}$")


def texting_number_sid(client: Client) -> str:
    """The Twilio sid (PN…) of the number the client's texts go from: the business's own number once hosted for
    texting (its order made the number at Twilio), else the Textback number."""
    if client.hosted_sms_number:
        order = (
            HostedNumberOrder.objects.filter(
                client=client,
                phone_number=str(client.hosted_sms_number),
                status=HostedNumberOrder.Status.COMPLETED,
            )
            .exclude(incoming_number_sid="")
            .order_by("-pk")
            .first()
        )
        if order is not None:
            return order.incoming_number_sid
    return client.number_sid


def kind_for(client: Client) -> str:
    """Toll-free numbers are verified (toll-free verification); local ones registered (A2P 10DLC). The number that
    counts is the one texts go from (a hosted number, once there is one)."""
    if TOLL_FREE.match(client.texts_from):
        return A2PRegistration.Kind.TOLL_FREE
    return A2PRegistration.Kind.TEN_DLC


def registration_submit(*, registration: A2PRegistration) -> A2PRegistration:
    """Step 1, or the failed step again. RegistrationError if Twilio refuses (what was made is kept)."""
    client = Client.objects.select_related("agency").get(pk=registration.client_id)
    api = client_for(client.agency)
    # Twilio reports the reviews as events to us (deliverability.streams); beat still polls whatever happens here.
    own = api.account_sid != settings.TWILIO_ACCOUNT_SID
    events_ensure(agency=client.agency if own else None, api=api)
    registration.kind = kind_for(client)
    if registration.kind == A2PRegistration.Kind.TOLL_FREE:
        return _toll_free_submit(registration, client, api)
    if registration.status == Status.FAILED and registration.failed_step == "campaign":
        registration.campaign_sid = ""
        return _campaign(registration, client, api)
    if registration.status == Status.FAILED:  # the brand: fresh profiles with the fixed details, a new brand
        registration.customer_profile_sid = registration.trust_product_sid = registration.brand_sid = ""
    trusthub = api.trusthub.v1
    sole = registration.sole_proprietor
    callback = registration_callback_url(registration)
    if not registration.customer_profile_sid:
        with twilio_step("create the customer profile"):
            profile = trusthub.customer_profiles.create(
                friendly_name=registration.legal_name[:64],
                email=registration.contact_email,
                policy_sid=STARTER_PROFILE_POLICY if sole else CUSTOMER_PROFILE_POLICY,
                status_callback=callback,
            )
            entities = _profile_entities(registration, trusthub, sole=sole)
        # The business's address, as an Address in the same account, is the profile's supporting document.
        address_sid = address_ensure(
            client=client,
            api=api,
            customer_name=registration.legal_name,
            street=registration.street,
            city=registration.city,
            region=registration.region,
            postal_code=registration.postal_code,
        )
        with twilio_step("attach the business's address to the customer profile"):
            document = trusthub.supporting_documents.create(
                friendly_name=f"{registration.legal_name} address"[:64],
                type="customer_profile_address",
                attributes={"address_sids": address_sid},
            )
            for object_sid in (*entities, document.sid):
                trusthub.customer_profiles(profile.sid).customer_profiles_entity_assignments.create(
                    object_sid=object_sid
                )
            trusthub.customer_profiles(profile.sid).update(status="pending-review")
        registration.customer_profile_sid = profile.sid
        _save(registration)
    if not registration.trust_product_sid:
        with twilio_step("create the A2P trust product"):
            product = trusthub.trust_products.create(
                friendly_name=f"{registration.legal_name} A2P"[:64],
                email=registration.contact_email,
                policy_sid=SOLE_PROPRIETOR_A2P_POLICY if sole else A2P_PROFILE_POLICY,
                status_callback=callback,
            )
            if sole:
                profile_info = trusthub.end_users.create(
                    friendly_name=f"{registration.legal_name} sole proprietor"[:64],
                    type="sole_proprietor_information",
                    attributes={
                        "brand_name": registration.legal_name,
                        "vertical": registration.vertical,
                        "mobile_phone_number": registration.contact_phone,
                    },
                )
            else:
                profile_info = trusthub.end_users.create(
                    friendly_name=f"{registration.legal_name} messaging profile"[:64],
                    type="us_a2p_messaging_profile_information",
                    attributes={"company_type": "private"},
                )
            for object_sid in (profile_info.sid, registration.customer_profile_sid):
                trusthub.trust_products(product.sid).trust_products_entity_assignments.create(
                    object_sid=object_sid
                )
            trusthub.trust_products(product.sid).update(status="pending-review")
        registration.trust_product_sid = product.sid
        _save(registration)
    if not registration.brand_sid:
        with twilio_step("register the brand"):
            brand = api.messaging.v1.brand_registrations.create(
                customer_profile_bundle_sid=registration.customer_profile_sid,
                a2p_profile_bundle_sid=registration.trust_product_sid,
                **({"brand_type": SOLE_PROPRIETOR} if sole else {}),
            )
        registration.brand_sid = brand.sid
        registration.brand_type = brand.brand_type or (SOLE_PROPRIETOR if sole else "STANDARD")
        registration.brand_identity = brand.identity_status or ""
        # For a sole proprietor, carriers text the contact's mobile a one-time code as the brand is made.
        registration.otp_sent_at = timezone.now() if sole else None
    registration.status, registration.failed_step, registration.failure_reason = Status.BRAND_REVIEW, "", ""
    registration.submitted_at = timezone.now()
    _save(registration)
    _client_registration(client, Client.Registration.PENDING)
    return registration


def _profile_entities(registration: A2PRegistration, trusthub, *, sole: bool) -> list[str]:
    """The customer profile's end users: a sole proprietor's own details (starter profile), or the business's
    information and its authorised representative."""
    if sole:
        person = trusthub.end_users.create(
            friendly_name=f"{registration.contact_first_name} {registration.contact_last_name}"[:64],
            type="starter_customer_profile_information",
            attributes={
                "first_name": registration.contact_first_name,
                "last_name": registration.contact_last_name,
                "email": registration.contact_email,
                "phone_number": registration.contact_phone,
            },
        )
        return [person.sid]
    business = trusthub.end_users.create(
        friendly_name=f"{registration.legal_name} business information"[:64],
        type="customer_profile_business_information",
        attributes={
            "business_name": registration.legal_name,
            "business_identity": "direct_customer",
            "business_type": registration.business_type,
            "business_industry": registration.vertical,
            "business_registration_identifier": "EIN",
            "business_registration_number": registration.ein,
            "business_regions_of_operation": "USA_AND_CANADA",
            "website_url": registration.website,
        },
    )
    contact = trusthub.end_users.create(
        friendly_name=f"{registration.contact_first_name} {registration.contact_last_name}"[:64],
        type="authorized_representative_1",
        attributes={
            "first_name": registration.contact_first_name,
            "last_name": registration.contact_last_name,
            "email": registration.contact_email,
            "phone_number": registration.contact_phone,
            "business_title": "Owner",
            "job_position": "Other",
        },
    )
    return [business.sid, contact.sid]


def registration_otp_resend(*, registration: A2PRegistration) -> A2PRegistration:
    """A sole proprietor's brand: carriers text the contact's mobile the one-time code again (it lasts 24 hours)."""
    if not registration.awaiting_otp:
        raise RegistrationError("No one-time code is awaited for this registration.")
    api = client_for(Client.objects.select_related("agency").get(pk=registration.client_id).agency)
    with twilio_step("send the one-time code again"):
        api.messaging.v1.brand_registrations(registration.brand_sid).brand_registration_otps.create()
    registration.otp_sent_at = timezone.now()
    _save(registration)
    return registration


def registration_check(*, registration: A2PRegistration) -> A2PRegistration:
    """Step 2: ask Twilio where the brand or the campaign stands, and go on when it moved."""
    client = Client.objects.select_related("agency").get(pk=registration.client_id)
    api = client_for(client.agency)
    registration.checked_at = timezone.now()
    if registration.status == Status.VERIFICATION_REVIEW:
        with twilio_step("look the toll-free verification up"):
            verification = api.messaging.v1.tollfree_verifications(registration.verification_sid).fetch()
        if verification.status == "TWILIO_REJECTED":
            return _failed(
                registration,
                "verification",
                verification.rejection_reason or "The verification was rejected.",
            )
        if verification.status == "TWILIO_APPROVED":
            registration.status = Status.APPROVED
            _save(registration)
            _client_registration(client, Client.Registration.APPROVED)
            return registration
    elif registration.status == Status.BRAND_REVIEW:
        with twilio_step("look the brand up"):
            brand = api.messaging.v1.brand_registrations(registration.brand_sid).fetch()
        registration.brand_identity = brand.identity_status or registration.brand_identity
        if brand.status == "FAILED":
            return _failed(registration, "brand", brand.failure_reason or "The brand was not approved.")
        if brand.status == "APPROVED" and not registration.awaiting_otp:
            return _campaign(registration, client, api)
    elif registration.status == Status.CAMPAIGN_REVIEW:
        with twilio_step("look the campaign up"):
            campaign = (
                api.messaging.v1.services(registration.messaging_service_sid)
                .us_app_to_person(registration.campaign_sid)
                .fetch()
            )
        if campaign.campaign_status == "FAILED":
            reasons = "; ".join(
                e.get("description", "") for e in (campaign.errors or []) if isinstance(e, dict)
            )
            return _failed(registration, "campaign", reasons or "The campaign was not approved.")
        if campaign.campaign_status == "VERIFIED":
            registration.status = Status.APPROVED
            _save(registration)
            _client_registration(client, Client.Registration.APPROVED)
            return registration
    _save(registration)
    return registration


def registrations_check_all() -> int:
    """Beat: every registration in review, checked once; one Twilio failure does not stop the others."""
    count = 0
    in_review = [Status.BRAND_REVIEW, Status.CAMPAIGN_REVIEW, Status.VERIFICATION_REVIEW]
    for registration in A2PRegistration.objects.filter(status__in=in_review):
        try:
            registration_check(registration=registration)
        except RegistrationError as exc:
            log.warning("registration of client %s not checked: %s", registration.client_id, exc)
        count += 1
    return count


def _campaign(registration: A2PRegistration, client: Client, api) -> A2PRegistration:
    """The messaging service with the client's number in it, and the campaign, once the brand is approved."""
    service = api.messaging.v1
    if not registration.messaging_service_sid:
        with twilio_step("create the messaging service"):
            made = service.services.create(
                friendly_name=f"{client.name} text-backs"[:64], use_inbound_webhook_on_number=True
            )
        registration.messaging_service_sid = made.sid
        _save(registration)
        number_sid = texting_number_sid(client)
        if number_sid:
            with twilio_step("add the number to the messaging service"):
                service.services(made.sid).phone_numbers.create(phone_number_sid=number_sid)
    if not registration.campaign_sid:
        with twilio_step("register the campaign"):
            campaign = service.services(registration.messaging_service_sid).us_app_to_person.create(
                brand_registration_sid=registration.brand_sid,
                description=(
                    f"{client.name} texts back callers whose phone call to the business was missed, so that "
                    "they can get help by text (customer care). Every text answers the caller's own call; "
                    "no marketing, no purchased lists."
                ),
                message_flow=(
                    f"A caller phones {client.name}. When nobody answers, the caller gets one text from the number "
                    "they called, and the conversation continues by text if they reply. Reply STOP to opt out, "
                    "HELP for help."
                ),
                message_samples=_samples(client),
                # A sole proprietor's brand has one campaign, of its own use case.
                us_app_to_person_usecase=(
                    SOLE_PROPRIETOR if registration.brand_type == SOLE_PROPRIETOR else "CUSTOMER_CARE"
                ),
                has_embedded_links=False,
                has_embedded_phone=False,
                opt_out_message=keyword_reply_text(client=client, keyword=Keyword.OPT_OUT),
                help_message=keyword_reply_text(client=client, keyword=Keyword.HELP),
                opt_out_keywords=["STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"],
                help_keywords=["HELP", "INFO"],
            )
        registration.campaign_sid = campaign.sid
    registration.status, registration.failed_step, registration.failure_reason = (
        Status.CAMPAIGN_REVIEW,
        "",
        "",
    )
    _save(registration)
    return registration


def _toll_free_submit(registration: A2PRegistration, client: Client, api) -> A2PRegistration:
    """Toll-free verification: one request with the business's details, the use case and a sample; after a
    rejection the same verification is edited and so resubmitted (UpdateTollfreeVerification)."""
    if not registration.opt_in_proof_url:
        raise RegistrationError("Toll-free verification needs the opt-in proof: a public page or image URL.")
    number_sid = texting_number_sid(client)
    if not number_sid:
        raise RegistrationError(
            "The client's toll-free number is not in Twilio yet (the wizard's number step)."
        )
    details = {
        "business_name": registration.legal_name,
        "business_website": registration.website,
        "notification_email": registration.contact_email,
        "use_case_categories": ["CUSTOMER_CARE"],
        "use_case_summary": (
            f"{client.name} texts back callers whose phone call to the business was missed, so that they can get "
            "help by text. Every text answers the caller's own call; no marketing."
        ),
        "production_message_sample": _samples(client)[0],
        "opt_in_image_urls": [registration.opt_in_proof_url],
        "opt_in_type": "VERBAL",
        "message_volume": "1,000",
        "business_street_address": registration.street,
        "business_city": registration.city,
        "business_state_province_region": registration.region,
        "business_postal_code": registration.postal_code,
        "business_country": "US",
        "business_contact_first_name": registration.contact_first_name,
        "business_contact_last_name": registration.contact_last_name,
        "business_contact_email": registration.contact_email,
        "business_contact_phone": registration.contact_phone,
        "business_registration_number": registration.ein,
        "business_registration_authority": "EIN",
        "business_registration_country": "US",
        "help_message_sample": keyword_reply_text(client=client, keyword=Keyword.HELP),
    }
    verifications = api.messaging.v1.tollfree_verifications
    if registration.verification_sid and registration.status == Status.FAILED:
        with twilio_step("resubmit the toll-free verification"):
            verifications(registration.verification_sid).update(**details)
    elif not registration.verification_sid:
        with twilio_step("submit the toll-free verification"):
            made = verifications.create(tollfree_phone_number_sid=number_sid, **details)
        registration.verification_sid = made.sid
    registration.status, registration.failed_step, registration.failure_reason = (
        Status.VERIFICATION_REVIEW,
        "",
        "",
    )
    registration.submitted_at = timezone.now()
    _save(registration)
    _client_registration(client, Client.Registration.PENDING)
    return registration


def registration_callback_url(registration: A2PRegistration) -> str:
    """Where Twilio reports a TrustHub profile's review (signed with the account's token): the registration is
    then checked at once rather than at beat's next round (deliverability.callbacks)."""
    return webhook_url("/hooks/twilio/registration/status/", r=str(registration.pk))


def _samples(client: Client) -> list[str]:
    """The client's own active templates as a caller gets them (two at least: the help reply makes up the rest)."""
    context = placeholder_context(client=client, caller_name="Maria")
    with schema_context(client.schema_name):
        bodies = list(Template.objects.filter(is_active=True).order_by("kind").values_list("body", flat=True))
    samples = [render(body, context=context)[:1024] for body in bodies][:5]
    if len(samples) < 2:
        samples.append(keyword_reply_text(client=client, keyword=Keyword.HELP))
    return samples


def registration_fail(*, registration: A2PRegistration, step: str, reason: str) -> A2PRegistration:
    """The registration failed at `step` for `reason` (a callback told us); fixed and resubmitted like any failure."""
    return _failed(registration, step, reason)


def _failed(registration: A2PRegistration, step: str, reason: str) -> A2PRegistration:
    registration.status, registration.failed_step, registration.failure_reason = (
        Status.FAILED,
        step,
        reason[:500],
    )
    _save(registration)
    return registration


def _save(registration: A2PRegistration) -> None:
    with transaction.atomic():
        registration.save()


def _client_registration(client: Client, status: str) -> None:
    Client.objects.filter(pk=client.pk).update(messaging_registration=status)
