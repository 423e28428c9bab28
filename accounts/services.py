"""Writes: agencies, clients, people. Keyword-only, typed, named <entity>_<action> (see shared/STYLE.md)."""

import hashlib
import logging
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_otp.models import Device

from events.bus import ask

from .events import ClientNumberClaim
from .hours import HoursError, parse_hours
from .models import Agency, AgencyMembership, AuditEntry, Client, ClientMembership, Domain, Invitation, User
from .schemas import client_schema_create, client_schema_drop
from .selectors import host_served, user_may_enter_client

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
    booking_url: str = "",
    followup_after_hours: int = 3,
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
        booking_url=booking_url,
        followup_after_hours=followup_after_hours,
        status=Client.Status.PROVISIONING,
    )
    client.full_clean()
    if client.call_mode == Client.CallMode.FORWARD and not client.forward_to:
        raise ValidationError({"forward_to": "Forward mode needs the business's phone to ring (forward-to)."})
    if client.forward_to and client.forward_to == client.phone_number:
        raise ValidationError({"forward_to": "The forward-to phone cannot be the text-back number itself."})
    client.save()
    if client.phone_number:
        # Telephony checks who holds the number and records it as this agency's (config/subscribers.py).
        refused = ask(ClientNumberClaim(client=client, phone_number=str(client.phone_number)))
        if refused:
            raise ValidationError({"phone_number": refused})
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
    """The client's own URL, on its agency's verified domain when it has one (Client.branded_host), with the
    scheme and port of the platform's public URL (so that in development a client on port 8000 is linked as
    http://acme.localhost:8000/). Every link to a client's pages, in pages and emails, is made here."""
    public = urlsplit(settings.PUBLIC_BASE_URL)
    port = f":{public.port}" if public.port else ""
    return f"{public.scheme}://{client.branded_host}{port}/"


# --- Webhook heartbeat ------------------------------------------------------------------------------------

WEBHOOK_STAMP_SECONDS = 60
# By client id: until when (time.monotonic()) this process does not ask Redis about the client's stamp again. One
# number per client that had a webhook here.
_stamp_asked_until: dict[int, float] = {}


def client_webhook_seen(*, client: Client) -> None:
    """Record that Twilio reached us for this client, at most one UPDATE a minute per client: webhooks are the
    hottest path we have, and the dashboard only needs to know "recently" from "never" or "days ago".

    Never a reason for a webhook to fail or wait: with Redis down, or the client's row locked (pausing it,
    say), the stamp is skipped and the next webhook makes it.

    Redis decides which webhook stamps; each process asks it about a client at most once a minute too (a round
    trip on every webhook cost about 0.1 ms of CPU), so a stamp may lag by up to two minutes."""
    asked = time.monotonic()
    if asked < _stamp_asked_until.get(client.pk, 0.0):
        return
    _stamp_asked_until[client.pk] = asked + WEBHOOK_STAMP_SECONDS
    try:
        if not cache.add(f"webhook-seen:{client.pk}", 1, timeout=WEBHOOK_STAMP_SECONDS):
            return
    except Exception:  # the cache is Redis; the call must be answered whatever it does
        log.warning("could not reach the cache to stamp client %s's last webhook", client.pk)
        return
    # One statement, outside any transaction, that skips a row someone else holds rather than waiting for it.
    table = Client._meta.db_table
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_webhook_at = %s WHERE id = "
                f"(SELECT id FROM {table} WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED)",
                [timezone.now(), client.pk],
            )
    except DatabaseError:
        log.warning("could not stamp client %s's last webhook", client.pk)


# --- Audit log --------------------------------------------------------------------------------------------


def audit_record(
    *,
    agency: Agency,
    actor: User | None,
    action: str,
    client: Client | None = None,
    detail: str = "",
    ip_address: str | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        agency=agency, actor=actor, action=action, client=client, detail=detail[:255], ip_address=ip_address
    )


# --- Pausing and offboarding -------------------------------------------------------------------------------


class ClientStateError(ValueError):
    """The client is not in a state this change applies to; the message says why."""


@transaction.atomic
def client_pause(
    *, client: Client, actor: User | None, ip_address: str | None = None, detail: str = ""
) -> Client:
    """Stop text-backs for this client (messaging re-checks the status at send time, so texts already queued
    are skipped too). Calls still ring through to the business. No actor: the platform paused it (`detail` says
    why)."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status != Client.Status.LIVE:
        raise ClientStateError(
            f"Only a live client can be paused; {client.name} is {client.get_status_display()}."
        )
    client.status = Client.Status.PAUSED
    client.save(update_fields=["status"])
    audit_record(
        agency=client.agency,
        actor=actor,
        action=AuditEntry.Action.PAUSE,
        client=client,
        detail=detail,
        ip_address=ip_address,
    )
    return client


@transaction.atomic
def client_resume(*, client: Client, actor: User | None, ip_address: str | None = None) -> Client:
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status != Client.Status.PAUSED:
        raise ClientStateError(
            f"Only a paused client can be resumed; {client.name} is {client.get_status_display()}."
        )
    client.status = Client.Status.LIVE
    client.save(update_fields=["status"])
    audit_record(
        agency=client.agency,
        actor=actor,
        action=AuditEntry.Action.RESUME,
        client=client,
        ip_address=ip_address,
    )
    return client


# --- Links and mail in an agency's brand ------------------------------------------------------------------


def brand_from_email(agency: Agency | None) -> str:
    """The From: of mail sent on an agency's behalf: its brand's name, never the platform's."""
    address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
    if agency is None:
        return settings.DEFAULT_FROM_EMAIL
    name = agency.display_name.replace('"', "").replace("\n", " ")
    return f'"{name}" <{address}>'


def agency_url(agency: Agency) -> str:
    """Where an agency's people log in: its own domain once verified, else the platform host."""
    public = urlsplit(settings.PUBLIC_BASE_URL)
    if agency.verified_domain:
        port = f":{public.port}" if public.port else ""
        return f"{public.scheme}://{agency.verified_domain}{port}/"
    return f"{settings.PUBLIC_BASE_URL}/"


def host_base_url(request) -> str:
    """The absolute URL of the host this request came in on, for links in emails, built from what we know
    (the client's host, the agency's verified domain, PUBLIC_BASE_URL) and never from the request's Host header,
    which whoever sends the request writes."""
    tenant = getattr(request, "tenant", None)
    if isinstance(tenant, Client):
        return client_url(tenant)
    agency = getattr(request, "agency", None)
    return agency_url(agency) if agency is not None else f"{settings.PUBLIC_BASE_URL}/"


# --- Invitations and team -----------------------------------------------------------------------------------

INVITATION_DAYS = 7


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *,
    email: str,
    role: str,
    invited_by: User,
    agency: Agency | None = None,
    client: Client | None = None,
) -> tuple[Invitation, str]:
    """Invite someone to an agency or a client; returns the invitation and the one-time token for its link.
    The email (invitation_send) goes once the invitation has committed: a refused or rolled-back one sends
    nothing."""
    email = User.objects.normalize_email(email.strip()).lower()
    try:
        EmailValidator()(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid email address."}) from None
    if agency is not None:
        if role not in AgencyMembership.Role.values:
            raise ValidationError({"role": "Choose admin or staff."})
        if AgencyMembership.objects.filter(agency=agency, user__email=email).exists():
            raise ValidationError({"email": f"{email} is already on the team."})
    else:
        assert client is not None  # the callers invite to an agency or to a client
        if role not in ClientMembership.Role.values:
            raise ValidationError({"role": "Choose owner, staff or read-only staff."})
        if ClientMembership.objects.filter(client=client, user__email=email).exists():
            raise ValidationError({"email": f"{email} already has access to {client.name}."})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        agency=agency,
        client=client,
        invited_by=invited_by,
        token_hash=invitation_token_hash(token),
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit_record(
        agency=invitation.owning_agency,
        actor=invited_by,
        action=AuditEntry.Action.INVITE,
        client=client,
        detail=f"{email} as {role}",
    )
    transaction.on_commit(lambda: invitation_send(invitation=invitation, token=token))
    return invitation, token


def invitation_url(invitation: Invitation, token: str) -> str:
    base = (
        client_url(invitation.client)
        if invitation.client is not None
        else agency_url(invitation.owning_agency)
    )
    return f"{base}accounts/invitation/{token}/"


def invitation_send(*, invitation: Invitation, token: str) -> None:
    """The invitation email, in the agency's brand."""
    agency = invitation.owning_agency
    where = invitation.where
    context = {
        "invitation": invitation,
        "url": invitation_url(invitation, token),
        "where": where,
        "brand_name": agency.display_name,
        "agency": agency,
        "inviter": invitation.invited_by.name or invitation.invited_by.email if invitation.invited_by else "",
    }
    send_mail(
        subject=f"You are invited to {where} on {agency.display_name}",
        message=render_to_string("registration/invitation_email.txt", context),
        from_email=brand_from_email(agency),
        recipient_list=[invitation.email],
    )


def invitation_find(*, token_hash: str) -> Invitation | None:
    """The open invitation with this token's hash (invitation_token_hash), or None (unknown, used or expired: all
    look the same)."""
    return (
        Invitation.objects.select_related("agency", "client__agency")
        .filter(token_hash=token_hash, accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str | None, name: str = "") -> User:
    """Join the team the invitation names. A new person chooses a password; someone who already has an
    account keeps theirs (password is then ignored: the caller has checked that they typed it, see
    accounts.forms.InvitationConfirmForm). Raises ValidationError for a weak password."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been used.")
    user = User.objects.filter(email=invitation.email).first()
    if user is not None and password is not None:
        # The form was for a new person, and the account appeared since: accepting now would let the link alone
        # into it. They reload and confirm with that account's password.
        raise ValidationError(
            "An account with this email exists now: reload the page and enter its password."
        )
    if user is None:
        user = User(email=invitation.email, name=name.strip())
        try:
            validate_password(password or "", user)
        except ValidationError as exc:
            raise ValidationError({"password1": exc.messages}) from None
        user.set_password(password)
        user.save()
    if invitation.agency_id:
        AgencyMembership.objects.get_or_create(
            user=user, agency=invitation.agency, defaults={"role": invitation.role}
        )
    else:
        ClientMembership.objects.get_or_create(
            user=user, client=invitation.client, defaults={"role": invitation.role}
        )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return user


@transaction.atomic
def agency_member_remove(*, membership: AgencyMembership, actor: User) -> None:
    """Take someone off an agency's team. The last admin stays: an agency nobody can manage is stuck."""
    if (
        membership.role == AgencyMembership.Role.ADMIN
        and not AgencyMembership.objects.filter(
            agency_id=membership.agency_id, role=AgencyMembership.Role.ADMIN
        )
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ClientStateError("The agency's last admin cannot be removed; make someone else admin first.")
    audit_record(
        agency=membership.agency,
        actor=actor,
        action=AuditEntry.Action.REMOVE_MEMBER,
        detail=membership.user.email,
    )
    membership.delete()


@transaction.atomic
def client_member_remove(*, membership: ClientMembership, actor: User) -> None:
    if (
        membership.role == ClientMembership.Role.OWNER
        and not ClientMembership.objects.filter(
            client_id=membership.client_id, role=ClientMembership.Role.OWNER
        )
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ClientStateError("The business's last owner cannot be removed.")
    audit_record(
        agency=membership.client.agency,
        actor=actor,
        action=AuditEntry.Action.REMOVE_MEMBER,
        client=membership.client,
        detail=membership.user.email,
    )
    membership.delete()


# --- Moving between hosts -------------------------------------------------------------------------------------
# Sessions are per host (no shared cookie domain), so going from the agency dashboard into a client's app, or
# from one client to another, hands the person over with a signed, single-use token that lives a minute.

HANDOFF_SALT = "accounts.handoff"
HANDOFF_SECONDS = 60


def handoff_token_create(*, user: User, client: Client) -> str:
    """The token; it carries the second factor this session was verified with (django-otp's `user.otp_device`),
    so that an operator or admin arrives verified and is not asked again on every client's host."""
    device = getattr(user, "otp_device", None)
    return signing.dumps(
        {
            "u": user.pk,
            "c": client.pk,
            "n": secrets.token_urlsafe(12),
            "d": device.persistent_id if device else "",
        },
        salt=HANDOFF_SALT,
    )


def handoff_origin_allowed(origin: str) -> bool:
    """Whether a handoff POST comes from one of our own hosts (accounts.selectors.host_served), on the platform's
    scheme and port. Browsers send Origin with every cross-site POST; one without it (or "null") is refused."""
    public = urlsplit(settings.PUBLIC_BASE_URL)
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if not parts.hostname or parts.scheme != public.scheme or port != public.port:
        return False
    return host_served(parts.hostname)


def handoff_token_use(*, token: str, client: Client) -> User | None:
    """The person a token hands over to this client, once; None if the token is bad, old, used, for another
    client, or for someone who may no longer enter it."""
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_SECONDS)
    except signing.BadSignature:
        return None
    if data.get("c") != client.pk or not cache.add(
        f"handoff:{data.get('n')}", 1, timeout=HANDOFF_SECONDS * 2
    ):
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not user_may_enter_client(user, client):
        return None
    device = Device.from_persistent_id(data["d"]) if data.get("d") else None
    user.otp_device = device if device is not None and device.user_id == user.pk else None
    return user
