from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django_tenants.middleware.main import TenantMainMiddleware

from config.db import tenant_connection

from .models import Agency, Client
from .selectors import client_of_branded_host, user_is_operator, user_may_use_host


class TextbackTenantMiddleware(TenantMainMiddleware):
    """Picks the schema and URLconf from the host.

    - ``<slug>.<BASE_DOMAIN>`` (a Domain row) → that client's schema and the client URLconf, if it is live or
      paused; a client still provisioning has no usable schema yet and answers 404 like an unknown host.
    - ``<slug>.<agency's verified domain>`` → the same, for that agency's own clients only.
    - the platform host (BASE_DOMAIN, or the host of PUBLIC_BASE_URL) → public schema, public URLconf.
    - an agency's own domain, once verified → public schema, public URLconf, with ``request.agency`` set.
    - anything else → 404.
    """

    def get_tenant(self, domain_model, hostname):
        domain = domain_model.objects.select_related("tenant__agency").filter(domain=hostname).first()
        if domain is None:
            # `<slug>.<agency's verified domain>`: the same client, in its agency's brand all the way down.
            branded = client_of_branded_host(hostname)
            if branded is None:
                raise domain_model.DoesNotExist
            return branded
        tenant = domain.tenant
        if tenant.status not in (Client.Status.LIVE, Client.Status.PAUSED):
            raise domain_model.DoesNotExist
        return tenant

    def no_tenant_found(self, request, hostname):
        if hostname not in settings.PLATFORM_HOSTS:
            # Only a verified domain: one the agency merely typed in could be anyone's (accounts.domains).
            request.agency = Agency.objects.filter(
                custom_domain=hostname, custom_domain_verified_at__isnull=False
            ).first()
            if request.agency is None:
                raise Http404(f"No client or agency is served at {hostname}")
        tenant_connection.set_schema_to_public()
        request.tenant = tenant_connection.tenant  # django-tenants' stand-in for the public schema
        self.setup_url_routing(request, force_public=True)

    def process_request(self, request):
        request.agency = None
        # The platform host is the hottest (every webhook): no Domain lookup for it.
        if request.get_host().split(":")[0] in settings.PLATFORM_HOSTS:
            tenant_connection.set_schema_to_public()
            request.tenant = tenant_connection.tenant
            self.setup_url_routing(request, force_public=True)
            return None
        return super().process_request(request)


class HostMembershipMiddleware:
    """A session is only good on a host its person belongs on, and an operator's only once its second factor was
    verified (django-otp's OTPMiddleware, which runs before, says so).

    Sessions are per host already (no shared cookie domain); this is the second lock, so a session that
    somehow reaches another client's host (a membership revoked, a cookie copied) is simply logged out
    there. Operators log in through the two-factor step everywhere (accounts.two_factor); a session of theirs
    made any other way counts for nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and (
            not user_may_use_host(user, request) or (user_is_operator(user) and not user.is_verified())
        ):
            request.user = AnonymousUser()
        return self.get_response(request)
