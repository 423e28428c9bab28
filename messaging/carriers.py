"""Which carrier serves a client: its agency's choice (accounts.Agency.carrier), else the platform's default
(TELEPHONY_PROVIDER: console or twilio; Telnyx only ever by the agency's choice). Everything above the provider interface (the ledger, retries, reconciliation, keywords,
status, metering) asks here and is the same for every carrier."""

import functools

from django.conf import settings

from accounts.models import Client

from . import twilio_accounts
from .providers import Provider, status_callback_url
from .telnyx import TelnyxProvider, TelnyxSettings

TELNYX = "telnyx"


def carrier_name(client: Client) -> str:
    return client.agency.carrier or settings.TELEPHONY_PROVIDER


def provider_for(client: Client) -> Provider:
    """Telnyx's, or Twilio's in the agency's own account when it has one (messaging.twilio_accounts)."""
    return telnyx_provider() if carrier_name(client) == TELNYX else twilio_accounts.provider_for(client)


@functools.cache
def telnyx_provider() -> TelnyxProvider:
    return TelnyxProvider(
        TelnyxSettings(
            api_key=settings.TELNYX_API_KEY,
            base_url=settings.TELNYX_API_BASE_URL,
            timeout=settings.TELNYX_TIMEOUT_SECONDS,
            messaging_profile_id=settings.TELNYX_MESSAGING_PROFILE_ID,
            texml_app_id=settings.TELNYX_TEXML_APP_ID,
        )
    )


def status_callback_for(client: Client) -> str:
    """Where the carrier reports a text's delivery (messaging/urls.py, messaging/telnyx_webhooks.py)."""
    if carrier_name(client) == TELNYX:
        return f"{settings.PUBLIC_BASE_URL}/hooks/telnyx/sms/"
    return status_callback_url()
