"""Registration statuses as Twilio reports them: Event Streams (events v1) in the account a registration is made in.

Brands, campaigns and toll-free verifications take no callback URL of their own; Twilio reports their review as
events instead. At an account's first registration we make a webhook sink pointed at /hooks/twilio/events/?a=<the
account's SID> and subscribe it to the A2P brand, campaign and toll-free verification events (EVENT_TYPES); a
failure there is logged and changes nothing else (beat still polls).

Each delivery is a JSON array of CloudEvents, signed as Twilio signs JSON bodies: X-Twilio-Signature over our URL
with its bodySHA256 query parameter (the SHA-256 of the body), with the account's auth token; anything else is 403
and changes nothing. An event is a hint, never the truth: the registrations of that account's agency whose brand,
campaign or verification SID it names are checked with Twilio at once (registration_check), so a repeat, or an
event out of order, changes nothing more than a check would."""

import logging

import requests
from django.db import IntegrityError, transaction
from twilio.base.exceptions import TwilioRestException

from accounts.models import Agency
from messaging.webhooks import webhook_url

from .models import EventSink

log = logging.getLogger(__name__)

PATH = "/hooks/twilio/events/"
EVENT_TYPES = (
    "com.twilio.messaging.compliance.brand-registration.brand-registered",
    "com.twilio.messaging.compliance.brand-registration.brand-failure",
    "com.twilio.messaging.compliance.brand-registration.brand-unverified",
    "com.twilio.messaging.compliance.brand-registration.brand-verified",
    "com.twilio.messaging.compliance.campaign-registration.campaign-approved",
    "com.twilio.messaging.compliance.campaign-registration.campaign-failure",
    "com.twilio.messaging.compliance.toll-free-verification.request-approved",
    "com.twilio.messaging.compliance.toll-free-verification.rejected",
    "com.twilio.messaging.compliance.toll-free-verification.failure",
    "com.twilio.messaging.compliance.toll-free-verification.expired",
)


def events_ensure(*, agency: Agency | None, api) -> EventSink | None:
    """The account's sink and subscription, made if missing. None (logged) when Twilio refuses: polling remains."""
    account_sid = api.account_sid
    existing = EventSink.objects.filter(account_sid=account_sid).first()
    if existing is not None:
        return existing
    try:
        sink = api.events.v1.sinks.create(
            description="Textback: A2P registration events",
            sink_configuration={
                "destination": webhook_url(PATH, a=account_sid),
                "method": "POST",
                "batch_events": False,
            },
            sink_type="webhook",
        )
        subscription = api.events.v1.subscriptions.create(
            description="Textback: brand, campaign and toll-free verification reviews",
            sink_sid=sink.sid,
            types=[{"type": name} for name in EVENT_TYPES],
        )
    except (TwilioRestException, requests.RequestException) as exc:
        log.warning("no event stream in account %s (registrations are still polled): %s", account_sid, exc)
        return None
    try:
        with transaction.atomic():
            return EventSink.objects.create(
                account_sid=account_sid, agency=agency, sink_sid=sink.sid, subscription_sid=subscription.sid
            )
    except IntegrityError:  # made at the same moment by another request: keep that one
        return EventSink.objects.get(account_sid=account_sid)
