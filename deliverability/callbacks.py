"""Twilio's word on a registration, as it happens: a TrustHub customer profile or A2P trust product we submitted
reports its review to the StatusCallback we gave it (deliverability.registration.registration_callback_url).

The callback is signed as every Twilio webhook is (X-Twilio-Signature over our public URL, with the auth token of
the account the registration was made in: the agency's subaccount or own account, else the platform's); anything
else is 403 and changes nothing. It names the registration in its query; its body is taken as a hint, never as
the truth: a rejected profile fails the registration with Twilio's reason, and otherwise the registration is
checked with Twilio at once (registration_check), so the brand and the campaign move on without waiting for
beat's next round. Repeats are harmless: a failed registration stays failed, a check asks again."""

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from messaging.twilio_accounts import credentials_for

from .models import A2PRegistration
from .registration import RegistrationError, registration_check, registration_fail

log = logging.getLogger(__name__)

REJECTED = "twilio-rejected"
IN_REVIEW = (A2PRegistration.Status.BRAND_REVIEW, A2PRegistration.Status.CAMPAIGN_REVIEW)


def _account(registration: A2PRegistration) -> tuple[str, str]:
    """(account SID, auth token) of the account the registration's resources live in."""
    credentials = credentials_for(registration.client.agency_id)
    if credentials is None:
        return settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    return credentials.account_sid, credentials.auth_token


@csrf_exempt
@require_POST
def registration_status(request):
    raw = request.GET.get("r", "")
    registration = (
        A2PRegistration.objects.select_related("client").filter(pk=int(raw)).first()
        if raw.isdigit()
        else None
    )
    if registration is None:
        # Nothing is signed for a registration we do not have: refuse without saying whether it exists.
        return HttpResponseForbidden("Invalid signature", content_type="text/plain")
    account_sid, token = _account(registration)
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    signature = request.headers.get("X-Twilio-Signature", "")
    named = request.POST.get("AccountSid", "").strip()
    if (
        not token
        or not signature
        or (named and named != account_sid)
        or not RequestValidator(token).validate(url, request.POST.dict(), signature)
    ):
        log.warning("rejected unsigned or badly signed registration callback for %s", registration.pk)
        return HttpResponseForbidden("Invalid signature", content_type="text/plain")
    bundle = request.POST.get("BundleSid", "").strip()
    status = request.POST.get("Status", "").strip().lower()
    ours = bundle and bundle in (registration.customer_profile_sid, registration.trust_product_sid)
    if ours and status == REJECTED and registration.status in IN_REVIEW:
        which = "business profile" if bundle == registration.customer_profile_sid else "A2P profile"
        reason = request.POST.get("FailureReason", "").strip() or "no reason given"
        with transaction.atomic():
            registration_fail(
                registration=registration,
                step="brand",
                reason=f"Twilio's review rejected the {which}: {reason}",
            )
        log.info("registration %s: %s rejected by Twilio's review", registration.pk, which)
    elif (
        registration.status in IN_REVIEW or registration.status == A2PRegistration.Status.VERIFICATION_REVIEW
    ):
        try:
            registration_check(registration=registration)
        except RegistrationError as exc:  # beat asks again later
            log.warning("registration %s not checked after its callback: %s", registration.pk, exc)
    return HttpResponse(status=204)
