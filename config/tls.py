"""/tls/allowed?domain=…: may the reverse proxy get a certificate for this host name?

Caddy (docker-compose.prod.yml, deploy/Caddyfile) obtains certificates on demand, when a browser first asks for
a host, because clients (`<slug>.<BASE_DOMAIN>`) and agencies' own domains come and go with the data. It asks
here first, so a stranger pointing a name at the server cannot make it request certificates for any name:
200 for the platform host, a live or paused client's host, and an agency's own domain once verified (a pending
one serves nothing, accounts.domains); 404 for anything else.
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache

from accounts.models import Agency, Client, Domain


@never_cache
def tls_allowed(request):
    domain = request.GET.get("domain", "").strip().lower().rstrip(".")
    served = (
        domain in settings.PLATFORM_HOSTS
        or Domain.objects.filter(domain=domain, tenant__status__in=[Client.Status.LIVE, Client.Status.PAUSED]).exists()
        or Agency.objects.filter(custom_domain=domain, custom_domain_verified_at__isnull=False).exists()
    ) if domain else False
    return HttpResponse("ok", content_type="text/plain") if served else HttpResponseNotFound("not served here")
