"""The api app on the platform host (and agencies' own domains), mounted at /api/ by config/urls_public.py:
the REST API for agency keys (its clients), its schema and reference, and the pages for keys and webhooks."""

from django.urls import include, path, re_path

from . import v1, views
from .rest import Router
from .urls_common import urlpatterns as pages

app_name = "api"
URLCONF = "config.urls_public"

router = Router()
router.register("clients", v1.ClientViewSet, basename="client")
router.register("hooks", v1.HookViewSet, basename="hook")

urlpatterns = [
    path("v1/", include(router.urls)),
    re_path(r"^v1/", v1.unknown_endpoint),
    path("schema/", v1.SchemaView.as_view(urlconf=URLCONF), name="schema"),
    path("docs/", views.docs, {"urlconf": URLCONF}, name="docs"),
    *pages,
]
