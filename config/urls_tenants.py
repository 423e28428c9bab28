"""A client's host, <slug>.<BASE_DOMAIN>: the business's own pages, in its own schema."""

from django.urls import include, path

from accounts.views import home
from client_settings.views import client_settings, facts_preview
from deliverability.views import hosting_client_page
from inbox.views import service_worker, web_manifest

from . import client_admin

urlpatterns = [
    path("", home, name="home"),
    path("inbox/", include("inbox.urls")),
    # The inbox as an installed app: both at the host's root, so the app and its service worker cover the host.
    path("manifest.webmanifest", web_manifest, name="web-manifest"),
    path("sw.js", service_worker, name="service-worker"),
    path("contacts/", include("inbox.urls_contacts")),
    path("settings/", client_settings, name="client-settings"),
    path("settings/facts/preview/", facts_preview, name="client-settings-facts-preview"),
    path("settings/texting-number/", hosting_client_page, name="client-hosting"),
    path("admin/", client_admin.site.urls),
    path("team/", include("client_settings.urls_team")),
    path("api/", include("api.urls_tenants")),
    path("reports/", include("reports.urls_tenants")),
    path("billing/", include("billing.urls_tenants")),
    path("", include("config.urls_common")),
]
