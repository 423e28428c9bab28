"""Twilio's word on a registration, as it happens: a TrustHub customer profile or A2P trust product we submitted
reports its review to the StatusCallback we gave it (deliverability.registration.registration_callback_url).

The callback is signed as every Twilio webhook is (X-Twilio-Signature over our public URL, with the auth token of
the account the registration was made in: the agency's subaccount or own account, else the platform's); anything
else is 403 and changes nothing. It names the registration in its query; its body is taken as a hint, never as
the truth: a rejected profile fails the registration with Twilio's reason, and otherwise the registration is
checked with Twilio at once (registration_check), so the brand and the campaign move on without waiting for
beat's next round. Repeats are harmless: a failed registration stays failed, a check asks again."""

import json
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from messaging.models import TwilioAccount
from messaging.twilio_accounts import credentials_for

from .models import A2PRegistration, EventSink
from .registration import RegistrationError, registration_check, registration_fail
from .streams import EVENT_TYPES

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


# --- Event Streams (deliverability.streams): brand, campaign and toll-free verification reviews ---------------------

EVENTS_IN_REVIEW = (*IN_REVIEW, A2PRegistration.Status.VERIFICATION_REVIEW)


def _token(sink: EventSink) -> str:
    if sink.account_sid == settings.TWILIO_ACCOUNT_SID:
        return settings.TWILIO_AUTH_TOKEN
    account = TwilioAccount.objects.filter(account_sid=sink.account_sid).first()
    return account.auth_token if account is not None else ""


def _sids(data) -> set[str]:
    """Every SID-looking string an event's data carries (brandsid, campaignsid, the verification's …)."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return set()
    found: set[str] = set()
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, str) and len(value) == 34 and value[:2].isalpha():
                found.add(value)
    return found


@csrf_exempt
@require_POST
def events_webhook(request):
    sink = EventSink.objects.filter(account_sid=request.GET.get("a", "")).first()
    signature = request.headers.get("X-Twilio-Signature", "")
    body = request.body.decode("utf-8", "replace")
    token = _token(sink) if sink is not None else ""
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    if (
        sink is None
        or not token
        or not signature
        or "bodySHA256" not in request.GET
        or not RequestValidator(token).validate(url, body, signature)
    ):
        log.warning("rejected unsigned or badly signed Twilio event delivery")
        return HttpResponseForbidden("Invalid signature", content_type="text/plain")
    try:
        events = json.loads(body)
    except ValueError:
        return HttpResponse("The body must be a JSON array of events", status=400, content_type="text/plain")
    events = events if isinstance(events, list) else [events]
    sids: set[str] = set()
    for event in events:
        if isinstance(event, dict) and event.get("type") in EVENT_TYPES:
            sids |= _sids(event.get("data"))
    if not sids:
        return HttpResponse(status=204)
    named = Q(brand_sid__in=sids) | Q(campaign_sid__in=sids) | Q(verification_sid__in=sids)
    registrations = A2PRegistration.objects.filter(named, status__in=EVENTS_IN_REVIEW)
    if sink.agency_id is not None:  # an agency's own account speaks for its registrations only
        registrations = registrations.filter(client__agency_id=sink.agency_id)
    else:  # the platform's account: the agencies sharing it
        registrations = registrations.exclude(client__agency_id__in=TwilioAccount.objects.values("agency_id"))
    for registration in registrations:
        try:
            registration_check(registration=registration)
        except RegistrationError as exc:  # beat asks again later
            log.warning("registration %s not checked after an event: %s", registration.pk, exc)
    return HttpResponse(status=204)
