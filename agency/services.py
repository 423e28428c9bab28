"""Writes of the agency's pages: offboarding a client (which gives a bought number back to Twilio), and the
brand (with the logo fetched from a URL). Keyword-only, typed, named <entity>_<action> (see shared/STYLE.md).

They sit here, above telephony and config.outbound, so that accounts (the tenancy core) imports neither."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.domains import domain_token_new
from accounts.models import Agency, AuditEntry, Client, User
from accounts.services import ClientStateError, audit_record
from config import outbound
from deliverability.hosting import (
    OPEN as HOSTING_OPEN,
)
from deliverability.hosting import (
    HostingError,
    hosting_cancel,
    hosting_release,
)
from deliverability.models import HostedNumberOrder
from telephony.numbers import NumberError, numbers_for

log = logging.getLogger(__name__)
# Said in the offboarding's audit entry when something stays at Twilio for the agency to finish there.
LEFT_AT_TWILIO = "NOT "


@transaction.atomic
def client_offboard(
    *, client: Client, actor: User, confirmation: str, ip_address: str | None = None
) -> Client:
    """Archive a client: its host and webhooks answer 404 from now on, its number no longer routes here (so it
    can be given to another client), its people lose access. Its schema and every row in it are kept: nothing
    is deleted, and the operator can still export or restore it. The typed confirmation must be the client's
    slug, exactly."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status == Client.Status.ARCHIVED:
        raise ClientStateError(f"{client.name} is already offboarded.")
    if confirmation.strip() != client.slug:
        raise ValidationError({"confirmation": f"Type {client.slug} exactly to offboard {client.name}."})
    released = client.phone_number
    detail = f"number {released} released from routing" if released else "no number"
    if client.number_bought and client.number_sid:
        # Bought for this client through the wizard: give it back, or the agency pays for it every month.
        numbers = numbers_for(client.agency)
        try:
            numbers.release(sid=client.number_sid)
        except NumberError as exc:
            raise ValidationError(f"{exc} Nothing was changed; try again.") from None
        carrier = "Telnyx" if numbers.name == "telnyx" else "Twilio"
        detail = f"number {released} released from routing and given back to {carrier}"
    hosting = _hosting_end(client)
    if hosting:
        detail = f"{detail}; {hosting}"
    client.status = Client.Status.ARCHIVED
    client.archived_at = timezone.now()
    client.phone_number = None
    client.number_sid, client.number_bought = "", False
    client.hosted_sms_number = None
    client.save(
        update_fields=[
            "status",
            "archived_at",
            "phone_number",
            "number_sid",
            "number_bought",
            "hosted_sms_number",
        ]
    )
    audit_record(
        agency=client.agency,
        actor=actor,
        action=AuditEntry.Action.OFFBOARD,
        client=client,
        detail=detail,
        ip_address=ip_address,
    )
    return client


def _hosting_end(client: Client) -> str:
    """The business's own number hosted for texting (deliverability.hosting) is given back with the client:
    a completed hosting is released (its number deleted from the agency's Twilio account, so it stops being
    held and billed), an order on its way is cancelled. Twilio failing does not stop the offboarding (the
    client's texting stops either way); what is left at Twilio is said, for the audit log and the page."""
    order = (
        HostedNumberOrder.objects.filter(
            client=client, status__in=[*HOSTING_OPEN, HostedNumberOrder.Status.COMPLETED]
        )
        .order_by("-pk")
        .first()
    )
    if order is None:
        return ""
    number = order.phone_number
    completed = order.status == HostedNumberOrder.Status.COMPLETED
    try:
        if completed:
            hosting_release(order=order)
        else:
            hosting_cancel(order=order)
    except HostingError as exc:
        log.warning("client %s offboarded; hosting of %s left at Twilio: %s", client.slug, number, exc)
        if completed:
            return (
                f"hosted number {number} {LEFT_AT_TWILIO}released at Twilio (Twilio failed); delete it in the "
                "agency's Twilio console"
            )
        # Not followed any more (beat would otherwise text-enable an archived client when it completes).
        order.status = HostedNumberOrder.Status.CANCELED
        order.failure_reason = f"Offboarded; the order was left at Twilio: {exc}"[:500]
        order.save()
        return (
            f"hosting order {order.order_sid} for {number} {LEFT_AT_TWILIO}cancelled at Twilio; cancel it in "
            "the agency's Twilio console"
        )
    if completed:
        return f"hosted number {number} released at Twilio (its texting goes back to its carrier)"
    return f"hosting order for {number} cancelled"


# --- Brand --------------------------------------------------------------------------------------------------

LOGO_MAX_BYTES = 256 * 1024
# Raster images only: an SVG can carry script, and we serve logos from our own origin.
LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


def logo_content_type(data: bytes) -> str:
    """The image type of an uploaded logo by its first bytes, or ValidationError."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": f"The logo must be at most {LOGO_MAX_BYTES // 1024} KB."})
    for signature, content_type in LOGO_SIGNATURES.items():
        if data.startswith(signature) and (content_type != "image/webp" or data[8:12] == b"WEBP"):
            return content_type
    raise ValidationError({"logo": "Upload a PNG, JPEG or WebP image."})


LOGO_FETCH_TIMEOUT = 5.0


def logo_fetch(url: str) -> bytes:
    """The image at an https URL, for the brand's logo: fetched once and kept, never hot-linked (the CSP admits
    images from 'self' only, and a client's pages must not tell a third party who looks at them). Fetched
    through config.outbound, the one door for user-given URLs: only public addresses outside development, from
    the address that was checked, no redirects, at most LOGO_MAX_BYTES read."""
    try:
        answer = outbound.request(
            "GET",
            url,
            headers={"Accept": "image/png, image/jpeg, image/webp"},
            # Development fetches from its own machine, over plain http too.
            schemes=("https", "http") if settings.DEBUG else ("https",),
            allow_private=settings.DEBUG,
            connect_timeout=LOGO_FETCH_TIMEOUT,
            read_timeout=LOGO_FETCH_TIMEOUT,
            deadline=LOGO_FETCH_TIMEOUT,
            max_bytes=LOGO_MAX_BYTES,
        )
    except outbound.OutboundRefused as exc:
        message = str(exc)
        if message.startswith("Use an"):
            message = "Use an https:// address of the image."
        raise ValidationError({"logo_url": message}) from None
    except outbound.OutboundError as exc:
        raise ValidationError({"logo_url": str(exc)}) from None
    if answer.is_redirect:
        raise ValidationError({"logo_url": "That address redirects; use the image's own address."})
    if answer.status != 200:
        raise ValidationError({"logo_url": f"The image could not be fetched (HTTP {answer.status})."})
    try:
        logo_content_type(answer.body)
    except ValidationError as exc:
        raise ValidationError({"logo_url": exc.message_dict["logo"]}) from None
    return answer.body


def agency_brand_update(
    *,
    agency: Agency,
    actor: User,
    brand_name: str,
    brand_color: str,
    support_email: str,
    support_phone: str,
    custom_domain: str | None,
    logo: bytes | None = None,
    remove_logo: bool = False,
    logo_url: str = "",
) -> Agency:
    """Save the brand. The logo comes as an upload, or as an https URL it is fetched from once (before the row
    is locked: a slow image host must not hold it); an upload wins over a URL, removing wins over both."""
    logo_url = logo_url.strip()
    fetched = None
    if logo is None and not remove_logo and logo_url and logo_url != agency.logo_url:
        fetched = logo_fetch(logo_url)
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        agency.brand_name = brand_name.strip()
        agency.brand_color = brand_color.strip().lower()
        agency.support_email = support_email.strip().lower()
        agency.support_phone = support_phone or ""
        domain = (custom_domain or "").strip().lower() or None
        if domain != agency.custom_domain:
            # A new domain starts pending, with a token of its own (accounts.domains); the old one stops serving.
            agency.custom_domain = domain
            agency.custom_domain_token = domain_token_new() if domain else ""
            agency.custom_domain_verified_at = agency.custom_domain_checked_at = None
            agency.custom_domain_check_error = ""
        if remove_logo:
            agency.logo, agency.logo_content_type, agency.logo_url = None, "", ""
            agency.logo_updated_at = timezone.now()
        elif logo is not None or fetched is not None:
            image = logo if logo is not None else fetched
            assert image is not None  # one of the two is, by the test above
            agency.logo_content_type = logo_content_type(image)
            agency.logo, agency.logo_updated_at = image, timezone.now()
            agency.logo_url = "" if logo is not None else logo_url
        else:
            agency.logo_url = logo_url  # unchanged, or emptied: the logo stays until it is removed
        if agency.custom_domain and (
            agency.custom_domain in settings.PLATFORM_HOSTS
            or agency.custom_domain.endswith("." + settings.BASE_DOMAIN)
        ):
            raise ValidationError(
                {"custom_domain": "Use a domain of your own, not one of the platform's hosts."}
            )
        agency.full_clean()
        agency.save()
        audit_record(agency=agency, actor=actor, action=AuditEntry.Action.BRAND)
    return agency
