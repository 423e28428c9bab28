"""The platform host (and agencies' own domains): Twilio webhooks, the agency dashboard, the operator admin."""

from django.contrib import admin
from django.urls import include, path

from accounts.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("hooks/twilio/", include("telephony.urls")),
    path("hooks/twilio/", include("messaging.urls")),
    path("", include("config.urls_common")),
]
