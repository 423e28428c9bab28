"""A client's host, <slug>.<BASE_DOMAIN>: the business's own pages, in its own schema."""

from django.urls import include, path

from accounts.views import home
from client_settings.views import client_settings

from . import client_admin

urlpatterns = [
    path("", home, name="home"),
    path("inbox/", include("inbox.urls")),
    path("contacts/", include("inbox.urls_contacts")),
    path("settings/", client_settings, name="client-settings"),
    path("admin/", client_admin.site.urls),
    path("team/", include("accounts.urls_client")),
    path("api/", include("api.urls_tenants")),
    path("reports/", include("reports.urls_tenants")),
    path("billing/", include("billing.urls_tenants")),
    path("", include("config.urls_common")),
]
