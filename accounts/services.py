"""Writes: agencies, clients, people. Keyword-only, typed, named <entity>_<action> (see shared/STYLE.md)."""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .hours import HoursError, parse_hours
from .models import Agency, AgencyMembership, Client, ClientMembership, Domain, User
from .schemas import client_schema_create, client_schema_drop

log = logging.getLogger(__name__)


def user_get_or_create(*, email: str, password: str | None = None, name: str = "") -> User:
    """The person with this email, created if new. A password given for an existing person is not changed:
    adding someone to a second client must never reset what they log in with."""
    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    user = User(email=email, name=name)
    user.full_clean(exclude=["password"])
    if password is not None:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def agency_create(*, slug: str, name: str, admin_email: str, admin_password: str | None = None) -> Agency:
    agency = Agency(slug=slug, name=name)
    agency.full_clean()
    agency.save()
    admin = user_get_or_create(email=admin_email, password=admin_password)
    AgencyMembership.objects.create(user=admin, agency=agency, role=AgencyMembership.Role.ADMIN)
    return agency


def hours_from_text(spec: str) -> dict:
    try:
        return parse_hours(spec)
    except HoursError as exc:
        raise ValidationError({"business_hours": str(exc)}) from None


@transaction.atomic
def client_create(
    *,
    agency: Agency,
    slug: str,
    name: str,
    timezone_name: str,
    phone_number: str | None,
    forward_to: str | None = None,
    call_mode: str = Client.CallMode.FORWARD,
    text_delay_seconds: int = 0,
    business_hours: dict | None = None,
    suppress_hours: int = 24,
    min_ring_seconds: int = 5,
    owner_email: str | None = None,
    owner_password: str | None = None,
) -> Client:
    """Record a new client and its host; its schema comes from client_provision, inline or in a task.

    Raises ValidationError naming each field that is wrong; nothing is written then."""
    client = Client(
        agency=agency,
        slug=slug,
        name=name,
        schema_name=Client.schema_name_for(slug),
        timezone=timezone_name,
        phone_number=phone_number or None,
        forward_to=forward_to or None,
        call_mode=call_mode,
        text_delay_seconds=text_delay_seconds,
        business_hours=business_hours if business_hours is not None else parse_hours("mon-fri 09:00-17:00"),
        suppress_hours=suppress_hours,
        min_ring_seconds=min_ring_seconds,
        status=Client.Status.PROVISIONING,
    )
    client.full_clean()
    if client.call_mode == Client.CallMode.FORWARD and not client.forward_to:
        raise ValidationError({"forward_to": "Forward mode needs the business's phone to ring (forward-to)."})
    if client.forward_to and client.forward_to == client.phone_number:
        raise ValidationError({"forward_to": "The forward-to phone cannot be the Textback number itself."})
    client.save()
    Domain.objects.create(domain=client.host, tenant=client, is_primary=True)
    if owner_email:
        owner = user_get_or_create(email=owner_email, password=owner_password)
        ClientMembership.objects.create(user=owner, client=client, role=ClientMembership.Role.OWNER)
    return client


def client_provision(*, client: Client) -> Client:
    """Give the client its schema (cloned from the template) and make it live. Safe to call again after a
    failure: a half-made schema is dropped first."""
    if client.status not in (Client.Status.PROVISIONING, Client.Status.FAILED):
        return client
    try:
        client_schema_drop(client.schema_name)
        client_schema_create(client.schema_name)
    except Exception as exc:
        log.exception("Provisioning client %s failed", client.slug)
        Client.objects.filter(pk=client.pk).update(status=Client.Status.FAILED, provisioning_error=str(exc))
        client.refresh_from_db()
        raise
    Client.objects.filter(pk=client.pk).update(status=Client.Status.LIVE, provisioning_error="")
    client.refresh_from_db()
    log.info("Client %s is live at %s (%s)", client.slug, client.host, timezone.now().isoformat())
    return client


def client_url(client: Client) -> str:
    """The client's own URL, with the scheme and port of the platform's public URL (so that in development
    a client on port 8000 is linked as http://acme.localhost:8000/)."""
    public = urlsplit(settings.PUBLIC_BASE_URL)
    port = f":{public.port}" if public.port else ""
    return f"{public.scheme}://{client.host}{port}/"
