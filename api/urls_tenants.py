"""The api app on the client's host, mounted at /api/ by config/urls_tenants.py: the REST API for a client's
keys (and its agency's), its schema and reference, and the pages for keys and webhooks."""

from django.urls import include, path, re_path

from . import v1, views
from .rest import Router
from .urls_common import urlpatterns as pages

app_name = "api"
URLCONF = "config.urls_tenants"


router = Router()
router.register("contacts", v1.ContactViewSet, basename="contact")
router.register("conversations", v1.ConversationViewSet, basename="conversation")
router.register("messages", v1.MessageViewSet, basename="message")
router.register("calls", v1.CallViewSet, basename="call")
router.register("reports", v1.ReportViewSet, basename="report")
router.register("outcomes", v1.OutcomeViewSet, basename="outcome")
router.register("hooks", v1.HookViewSet, basename="hook")

urlpatterns = [
    path("v1/", include(router.urls)),
    re_path(r"^v1/", v1.unknown_endpoint),
    path("schema/", v1.SchemaView.as_view(urlconf=URLCONF), name="schema"),
    path("docs/", views.docs, {"urlconf": URLCONF}, name="docs"),
    *pages,
]
