import hashlib

from django.conf import settings

from .models import Agency
from .selectors import clients_of_member, request_client

PLATFORM_NAME = "Textback"
DEFAULT_BRAND_COLOR = "#2563eb"


def agency_of_request(request) -> Agency | None:
    """The agency whose brand this host wears: the client's agency on a client's host, the agency on its own
    domain; None on the platform host."""
    client = request_client(request)
    return client.agency if client is not None else getattr(request, "agency", None)


def _agency_of_person(request) -> Agency | None:
    """On the platform host, the one agency a logged-in person works for: its people see their own brand on
    their dashboard there too, not the platform's. Operators, and people of several agencies, see ours."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_superuser:
        return None
    agencies = list(Agency.objects.filter(memberships__user=user)[:2])
    return agencies[0] if len(agencies) == 1 else None


def brand_version(agency: Agency | None) -> str:
    """Changes whenever what brand.css or the logo would serve changes."""
    if agency is None:
        return "0"
    seed = f"{agency.brand_color}|{agency.logo_updated_at}"
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


def brand(request):
    """The brand a page carries: on a client's host and an agency's domain, the agency's, never ours; on the
    platform host, a logged-in agency person's own agency's."""
    client = request_client(request)
    agency = agency_of_request(request)
    # brand.css and the logo learn which agency from ?agency= where the host does not say it.
    named = None
    if agency is None and client is None:
        agency = named = _agency_of_person(request)
    return {
        "brand_query": f"&agency={named.slug}" if named else "",
        "brand_name": agency.display_name if agency else PLATFORM_NAME,
        "brand_color": agency.brand_color if agency else DEFAULT_BRAND_COLOR,
        "brand_version": brand_version(agency),
        "brand_has_logo": bool(agency and agency.logo_content_type),
        "brand_support_email": agency.support_email if agency else "",
        "brand_support_phone": agency.support_phone if agency else "",
        "current_client": client,
        "base_domain": settings.BASE_DOMAIN,
        "other_clients": lambda: _other_clients(request, client),
    }


def _other_clients(request, client) -> list:
    """On a client's host, the other clients this person belongs to (an owner of several businesses switches
    between them). Called by the template only where the switcher is shown."""
    user = getattr(request, "user", None)
    if client is None or user is None or not user.is_authenticated:
        return []
    return list(clients_of_member(user).exclude(pk=client.pk))
