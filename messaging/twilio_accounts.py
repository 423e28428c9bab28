"""Which Twilio account an agency's numbers live in, and the clients and providers that act in it.

An agency has a TwilioAccount row when it has an account of its own: a subaccount of the platform's account made
through the API (subaccount_create, with its first number when TWILIO_SUBACCOUNTS is on, or by
`manage.py twilio_subaccounts` for an existing agency), or its own Twilio account, whose SID and token an agency
admin entered and we checked against the API (own_account_connect). Without a row it shares the platform's
account. Texts go out, numbers are bought and released, and webhooks are checked with the credentials of the
account the agency's numbers are in: a subaccount signs its webhooks with its own token.

The agency → account lookup sits on the send path, so it is cached in the platform cache (Redis: no SQL statement
per text) and dropped whenever a row is written here."""

import functools
import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client as TwilioClient

from accounts.models import Agency, Client
from config.crypto import reencrypt

from .models import TwilioAccount
from .providers import ConsoleProvider, Provider, TwilioProvider, get_provider, twilio_client

log = logging.getLogger(__name__)

CACHE_SECONDS = 300
_NONE = "-"  # cached: the agency has no account of its own


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    auth_token: str


def _cache_key(agency_id: int) -> str:
    return f"twilio-account:{agency_id}"


def credentials_for(agency_id: int) -> Credentials | None:
    """The agency's own or sub- account's credentials, or None when it shares the platform's account."""
    cache = caches["platform"]
    cached = cache.get(_cache_key(agency_id))
    if cached is None:
        account = TwilioAccount.objects.filter(agency_id=agency_id).first()
        cached = (account.account_sid, account.auth_token_encrypted) if account else _NONE
        cache.set(_cache_key(agency_id), cached, CACHE_SECONDS)
    if cached == _NONE:
        return None
    sid, encrypted = cached
    return Credentials(sid, TwilioAccount(auth_token_encrypted=encrypted).auth_token)


def _forget(agency_id: int) -> None:
    caches["platform"].delete(_cache_key(agency_id))


def client_for(agency: Agency | None) -> TwilioClient:
    """twilio-python's client acting in the agency's account (the platform's when it has none)."""
    credentials = credentials_for(agency.pk) if agency is not None else None
    if credentials is None:
        return twilio_client()
    return twilio_client(credentials.account_sid, credentials.auth_token)


@functools.lru_cache(maxsize=1024)
def _provider(account_sid: str, auth_token: str) -> Provider:
    # One provider (one kept-alive HTTP session) per account and process, like get_provider's for the platform's.
    return TwilioProvider(twilio_client(account_sid, auth_token))


def provider_for(client: Client) -> Provider:
    """The provider that sends this client's texts: in its agency's account, when it has one of its own."""
    provider = get_provider()
    if isinstance(provider, ConsoleProvider):
        return provider
    credentials = credentials_for(client.agency_id)
    if credentials is None:
        return provider
    return _provider(credentials.account_sid, credentials.auth_token)


def provider_cache_clear() -> None:
    _provider.cache_clear()


@dataclass(frozen=True)
class Signer:
    """Who signs a webhook: the auth token to check it with, and the agency whose account it is (None for the
    platform's account, which owns every subaccount and so may speak for any agency's number)."""

    auth_token: str
    agency_id: int | None


def signer_for(account_sid: str) -> Signer | None:
    """The signer of a webhook naming this AccountSid (one query, none for the platform's); None for an account
    we do not know (the webhook is refused)."""
    if not account_sid or account_sid == settings.TWILIO_ACCOUNT_SID:
        return Signer(settings.TWILIO_AUTH_TOKEN, None) if settings.TWILIO_AUTH_TOKEN else None
    account = TwilioAccount.objects.filter(account_sid=account_sid).first()
    return Signer(account.auth_token, account.agency_id) if account is not None else None


# --- Making and connecting accounts ------------------------------------------------------------------------


class AccountError(Exception):
    """Twilio refused or could not be reached; the message can be shown to the agency."""


def subaccount_create(*, agency: Agency) -> TwilioAccount:
    """A subaccount of the platform's account for this agency, made through the REST API (CreateAccount). Returns
    the one it has if it has one already. Its SID and token are stored, the token encrypted."""
    existing = TwilioAccount.objects.filter(agency=agency).first()
    if existing is not None:
        return existing
    try:
        made = twilio_client().api.v2010.accounts.create(friendly_name=f"{agency.name} ({agency.slug})"[:64])
    except TwilioRestException as exc:
        raise AccountError(f"Twilio would not create a subaccount: {exc.msg} (error {exc.code}).") from exc
    except requests.RequestException as exc:
        raise AccountError("Could not reach Twilio to create a subaccount; try again in a moment.") from exc
    account = TwilioAccount(
        agency=agency,
        kind=TwilioAccount.Kind.SUBACCOUNT,
        account_sid=made.sid,
        friendly_name=made.friendly_name,
    )
    account.auth_token = made.auth_token
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        # Another request made one for this agency meanwhile: keep theirs. Ours stays empty at Twilio; close it.
        _close_quietly(made.sid)
        return TwilioAccount.objects.get(agency=agency)
    _forget(agency.pk)
    log.info("agency %s: Twilio subaccount %s created", agency.slug, made.sid)
    return account


def _close_quietly(account_sid: str) -> None:
    try:
        twilio_client().api.v2010.accounts(account_sid).update(status="closed")
    except (TwilioRestException, requests.RequestException) as exc:
        log.warning("could not close the spare subaccount %s: %s", account_sid, exc)


def account_ensure(*, agency: Agency) -> None:
    """Before an agency's number is bought or adopted: with TWILIO_SUBACCOUNTS on, an agency without an account
    of its own gets its subaccount now."""
    wanted = settings.TWILIO_SUBACCOUNTS and settings.TELEPHONY_PROVIDER == "twilio"
    if wanted and credentials_for(agency.pk) is None:
        subaccount_create(agency=agency)


def own_account_connect(*, agency: Agency, account_sid: str, auth_token: str) -> TwilioAccount:
    """The agency's own Twilio account, after Twilio accepted these credentials (FetchAccount with them).
    ValidationError saying what is wrong otherwise; nothing is stored then."""
    account_sid, auth_token = account_sid.strip(), auth_token.strip()
    if not (account_sid.startswith("AC") and len(account_sid) == 34):
        raise ValidationError({"account_sid": "An Account SID is AC followed by 32 letters and digits."})
    if not auth_token:
        raise ValidationError({"auth_token": "Enter the account's auth token."})
    if account_sid == settings.TWILIO_ACCOUNT_SID:
        raise ValidationError({"account_sid": "That is the platform's own account."})
    taken = TwilioAccount.objects.filter(account_sid=account_sid).exclude(agency=agency).exists()
    if taken:
        raise ValidationError({"account_sid": "That account is already connected to another agency."})
    current = TwilioAccount.objects.filter(agency=agency).first()
    if current is not None and current.kind == TwilioAccount.Kind.SUBACCOUNT:
        raise ValidationError(
            {"account_sid": "This agency's numbers are in a subaccount of ours; ask us to move them first."}
        )
    if settings.TELEPHONY_PROVIDER == "twilio":
        try:
            fetched = twilio_client(account_sid, auth_token).api.v2010.accounts(account_sid).fetch()
        except TwilioRestException as exc:
            if exc.status in (401, 403, 404):
                raise ValidationError(
                    {"auth_token": "Twilio did not accept this Account SID and auth token."}
                ) from exc
            raise ValidationError(f"Twilio answered {exc.status}: {exc.msg}; try again in a moment.") from exc
        except requests.RequestException as exc:
            raise ValidationError(
                "Could not reach Twilio to check the account; try again in a moment."
            ) from exc
        if fetched.status != "active":
            raise ValidationError({"account_sid": f"That Twilio account is {fetched.status}, not active."})
        friendly = fetched.friendly_name or ""
    else:
        friendly = "Console (development)"
    account = current or TwilioAccount(agency=agency, kind=TwilioAccount.Kind.OWN)
    account.account_sid, account.friendly_name = account_sid, friendly[:64]
    account.auth_token = auth_token
    account.save()
    _forget(agency.pk)
    return account


def own_account_disconnect(*, agency: Agency) -> None:
    """Back to the platform's account (the agency's numbers stay in its own account: it moves them)."""
    TwilioAccount.objects.filter(agency=agency, kind=TwilioAccount.Kind.OWN).delete()
    _forget(agency.pk)


def numbers_move_to_subaccount(*, agency: Agency) -> list[str]:
    """The migration of an existing agency from the platform's account: its subaccount (made now if needed), then
    each of its clients' numbers moved into it with Twilio's number exchange (UpdateIncomingPhoneNumber with
    AccountSid, asked of the parent). Idempotent: a number already moved is 404 in the platform's account and
    skipped. Returns the numbers moved."""
    account = subaccount_create(agency=agency)
    parent = twilio_client()
    moved = []
    for client in Client.objects.filter(agency=agency).exclude(number_sid=""):
        try:
            parent.incoming_phone_numbers(client.number_sid).update(account_sid=account.account_sid)
        except TwilioRestException as exc:
            if exc.status == 404:
                continue
            raise AccountError(
                f"Twilio would not move {client.phone_number}: {exc.msg} (error {exc.code})."
            ) from exc
        moved.append(str(client.phone_number))
    return moved


@transaction.atomic
def credentials_rotate() -> int:
    """Every stored token re-encrypted with the newest key in CREDENTIALS_KEYS; returns how many."""
    count = 0
    for account in TwilioAccount.objects.select_for_update().all():
        account.auth_token_encrypted = reencrypt(account.auth_token_encrypted)
        account.save(update_fields=["auth_token_encrypted", "updated_at"])
        _forget(account.agency_id)
        count += 1
    return count
