"""The platform host (and agencies' own domains): Twilio webhooks, the agency dashboard, the operator admin."""

from django.contrib import admin
from django.urls import include, path

from agency.views import home
from billing.connect_views import stripe_webhook
from deliverability.callbacks import events_webhook, registration_status
from messaging.telnyx_webhooks import telnyx_sms
from messaging.views import intake, link_redirect, media_public

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    # Links in our texts (messaging.links): short, on the platform host, counted.
    path("l/<str:code>", link_redirect, name="link-redirect"),
    path("m/<str:token>/", media_public, name="media-public"),
    path("i/<str:code>", intake, name="intake"),
    path("agency/", include("agency.urls")),
    path("hooks/twilio/", include("telephony.urls")),
    path("hooks/twilio/", include("messaging.urls")),
    path("hooks/twilio/registration/status/", registration_status, name="registration-status"),
    path("hooks/twilio/events/", events_webhook, name="twilio-events"),
    path("hooks/telnyx/sms/", telnyx_sms, name="telnyx-sms"),
    path("hooks/stripe/", stripe_webhook, name="stripe-webhook"),
    # TeXML: Twilio's voice views behind Telnyx's signature (messaging.webhooks.carrier_of).
    path("hooks/telnyx/", include(("telephony.urls", "telnyx-voice"))),
    path("api/", include("api.urls_public")),
    path("reports/", include("reports.urls_public")),
    path("billing/", include("billing.urls_public")),
    path("deliverability/", include("deliverability.urls_public")),
    path("", include("config.urls_common")),
]
