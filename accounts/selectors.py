"""Reads about who may go where. Every host-level access decision goes through user_may_use_host."""

from django.http import HttpRequest

from .models import Agency, AgencyMembership, Client, ClientMembership, User


def request_client(request: HttpRequest) -> Client | None:
    """The client whose host this request came in on, or None on the platform host or an agency's domain."""
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, Client) else None


def user_may_enter_client(user: User, client: Client) -> bool:
    """Members of the client, staff of the agency that owns it, and platform operators."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return (
        ClientMembership.objects.filter(user=user, client=client).exists()
        or AgencyMembership.objects.filter(user=user, agency_id=client.agency_id).exists()
    )


def user_may_enter_agency_host(user: User, agency: Agency | None) -> bool:
    """The platform host admits operators and any agency's people; an agency's own domain only its people."""
    if not user.is_active:
        return False
    if user.is_superuser or (agency is None and user.is_staff):
        return True
    memberships = AgencyMembership.objects.filter(user=user)
    if agency is not None:
        memberships = memberships.filter(agency=agency)
    return memberships.exists()


def user_may_use_host(user: User, request: HttpRequest) -> bool:
    client = request_client(request)
    if client is not None:
        return user_may_enter_client(user, client)
    return user_may_enter_agency_host(user, getattr(request, "agency", None))


def agencies_of_user(user: User):
    if user.is_superuser:
        return Agency.objects.all()
    return Agency.objects.filter(memberships__user=user).distinct()
