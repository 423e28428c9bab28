from django.conf import settings

from .selectors import request_client

PLATFORM_NAME = "Textback"


def brand(request):
    """The brand a page carries: on a client's host and an agency's domain, the agency's, never ours."""
    client = request_client(request)
    agency = client.agency if client is not None else getattr(request, "agency", None)
    return {
        "brand_name": agency.display_name if agency else PLATFORM_NAME,
        "brand_color": agency.brand_color if agency else "#2563eb",
        "current_client": client,
        "base_domain": settings.BASE_DOMAIN,
    }
