"""Reads about who may go where. Every host-level access decision goes through user_may_use_host."""

import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest

from config.db import columns_of, fetch_model

from . import client_cache
from .models import Agency, AgencyMembership, Client, ClientMembership, Domain, User


def request_client(request: HttpRequest) -> Client | None:
    """The client whose host this request came in on, or None on the platform host or an agency's domain."""
    tenant = getattr(request, "tenant", None)
    return tenant if isinstance(tenant, Client) else None


def request_user(request: HttpRequest) -> User:
    """The person logged in on this request, for code behind login_required (or a check like it): the type
    checker cannot see that the decorator turned anonymous requests away, so this says it once."""
    user = request.user
    assert isinstance(user, User), "an anonymous request reached a page that needs a login"
    return user


def user_is_operator(user: User) -> bool:
    """A platform operator: may use the Django admin (is_staff) or everything (is_superuser)."""
    return user.is_staff or user.is_superuser


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
    """The platform host admits operators and any agency's people; an agency's own domain only its people. Not
    operators there: the agency decides where its domain points, so it could read what is typed into it."""
    if not user.is_active:
        return False
    if agency is None and user_is_operator(user):
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


def agencies_on_host(request: HttpRequest):
    """The agencies whose pages this person may see on this host: their own, narrowed to the agency whose
    domain this is."""
    agencies = agencies_of_user(request_user(request))
    agency = getattr(request, "agency", None)  # set by TextbackTenantMiddleware on an agency's own domain
    if agency is not None:
        agencies = agencies.filter(pk=agency.pk)
    return agencies


def agency_role(user: User, agency: Agency) -> str | None:
    """admin, staff, or None. Platform operators count as admins of every agency."""
    if user.is_superuser:
        return AgencyMembership.Role.ADMIN
    membership = AgencyMembership.objects.filter(user=user, agency=agency).only("role").first()
    return membership.role if membership else None


def agency_for_user(request: HttpRequest, slug: str, *, admin: bool = False) -> Agency:
    """The one way agency pages find their agency: 404 for a stranger exactly as for a missing agency, and
    PermissionDenied for agency staff on an admin-only page."""
    agency = agencies_on_host(request).filter(slug=slug).first()
    if agency is None or request_client(request) is not None:
        raise Http404("No such agency")
    if admin and agency_role(request_user(request), agency) != AgencyMembership.Role.ADMIN:
        raise PermissionDenied("Only the agency's admins may do this.")
    return agency


def client_for_agency_user(request: HttpRequest, pk: int, *, admin: bool = False) -> Client:
    """A client of one of this person's agencies, seen from the agency's host; 404 otherwise."""
    client = (
        Client.objects.select_related("agency").filter(pk=pk, agency__in=agencies_on_host(request)).first()
        if request_client(request) is None
        else None
    )
    if client is None:
        raise Http404("No such client")
    if admin and agency_role(request_user(request), client.agency) != AgencyMembership.Role.ADMIN:
        raise PermissionDenied("Only the agency's admins may do this.")
    return client


def client_role(user: User, client: Client) -> str | None:
    """How this person may act in a client's app: "agency" (its agency's people and operators manage it like an
    owner), a ClientMembership role, or None."""
    if user.is_superuser or AgencyMembership.objects.filter(user=user, agency_id=client.agency_id).exists():
        return "agency"
    membership = ClientMembership.objects.filter(user=user, client=client).only("role").first()
    return membership.role if membership else None


def clients_of_member(user: User):
    """Every live or paused client this person belongs to directly (owners and staff, not via an agency)."""
    return Client.objects.filter(
        memberships__user=user, status__in=[Client.Status.LIVE, Client.Status.PAUSED]
    ).order_by("name")


# --- Twilio webhooks ----------------------------------------------------------------------------------------


@functools.cache
def _client_where(column: str) -> str:
    columns = ", ".join(columns_of(Client))
    return f'SELECT {columns} FROM "{Client._meta.db_table}" WHERE "{column}" = %s LIMIT 1'


def client_for_webhook(*, number: str | None = None, slug: str | None = None) -> Client | None:
    """The client a Twilio webhook is for, by our number or by the slug in our callback URLs: from Redis when
    it was read within the last minute and no client row changed since (accounts.client_cache), else one
    query. The SQL is written out once: building the same ORM query each time cost about a millisecond of
    CPU, as much as the rest of a webhook's own reads together. Its agency is loaded if used."""
    column, value = ("phone_number", number) if number is not None else ("slug", slug)
    if not value:
        return None
    return client_cache.cached_client(column, value, lambda: _client_read(column, value))


def _client_read(column: str, value: str) -> Client | None:
    found = fetch_model(Client, _client_where(column), [value])
    if found is None and column == "phone_number":
        # Not one of our numbers: a business's own number hosted for texting (a text to it, a status from it).
        # Asked only after a miss, so a webhook for one of our numbers costs the one query it always did.
        found = fetch_model(Client, _client_where("hosted_sms_number"), [value])
    return found


def client_for_task(client_id: int) -> Client:
    """The client a task was queued for: the one tenant-schemas-celery already put on the connection to choose
    the schema (cached for CELERY_TASK_TENANT_CACHE_SECONDS), or else read."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Client) and tenant.pk == client_id:
        return tenant
    return Client.objects.get(pk=client_id)


def client_of_branded_host(host: str) -> Client | None:
    """The live or paused client served at `<slug>.<its agency's verified domain>`, if this host is one. Only the
    agency's own clients, and only once its domain is verified: another agency's client, or a domain merely
    typed in, is nobody's."""
    slug, _, parent = host.strip().lower().rstrip(".").partition(".")
    if not slug or not parent:
        return None
    return (
        Client.objects.select_related("agency")
        .filter(
            slug=slug,
            status__in=[Client.Status.LIVE, Client.Status.PAUSED],
            agency__custom_domain=parent,
            agency__custom_domain_verified_at__isnull=False,
        )
        .first()
    )


def host_served(host: str) -> bool:
    """Whether this host name is one of ours: the platform host, a live or paused client's host (on the platform's
    domain, or on its agency's verified one), or an agency's own domain once verified (a pending one serves nothing). The reverse proxy asks before getting a
    certificate (config/tls.py), and a client's host asks before taking a hand-over posted from another host."""
    host = host.strip().lower().rstrip(".")
    if not host:
        return False
    return (
        host in settings.PLATFORM_HOSTS
        or Domain.objects.filter(
            domain=host, tenant__status__in=[Client.Status.LIVE, Client.Status.PAUSED]
        ).exists()
        or Agency.objects.filter(custom_domain=host, custom_domain_verified_at__isnull=False).exists()
        or client_of_branded_host(host) is not None
    )
