"""/tls/allowed?domain=…: may the reverse proxy get a certificate for this host name?

Caddy (docker-compose.prod.yml, deploy/Caddyfile) obtains certificates on demand, when a browser first asks for
a host, because clients (`<slug>.<BASE_DOMAIN>`) and agencies' own domains come and go with the data. It asks
here first, so a stranger pointing a name at the server cannot make it request certificates for any name:
200 for the platform host, a live or paused client's host, and an agency's own domain once verified (a pending
one serves nothing, accounts.domains); 404 for anything else.
"""

from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache

from accounts.selectors import host_served


@never_cache
def tls_allowed(request):
    if host_served(request.GET.get("domain", "")):
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponseNotFound("not served here")
