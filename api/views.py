"""The API's pages: API keys, webhook endpoints and their deliveries, and the API reference.

On a client's host only its owners manage them; on an agency's host only its admins. Anyone else who got onto
the host is told the page does not exist (404); anyone not logged in is sent to log in."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings

from accounts.models import AgencyMembership, Client, ClientMembership
from accounts.selectors import request_client
from events.bus import public_events

from . import selectors, services
from .models import ApiKey, WebhookDelivery
from .payloads import payload_for, sample_event
from .selectors import Owner
from .v1 import SCHEMA_SETTINGS


def page_owner(request) -> Owner:
    """Whose keys and webhooks this person may manage on this host; 404 for everyone else."""
    user = request.user
    client = request_client(request)
    if client is not None:
        is_owner = ClientMembership.objects.filter(
            user=user, client=client, role=ClientMembership.Role.OWNER
        ).exists()
        if is_owner or user.is_superuser:
            return Owner(client=client)
        raise Http404("Only the business's owners manage its API keys and webhooks.")
    memberships = AgencyMembership.objects.filter(user=user, role=AgencyMembership.Role.ADMIN)
    if request.agency is not None:
        if user.is_superuser:
            return Owner(agency=request.agency)
        memberships = memberships.filter(agency=request.agency)
    admin_of = list(memberships.select_related("agency")[:2])
    if len(admin_of) != 1:  # nobody's admin, or of several agencies on the platform host: not decidable here
        raise Http404("Only an agency's admins manage its API keys and webhooks.")
    return Owner(agency=admin_of[0].agency)


def owner_page(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return view(request, page_owner(request), *args, **kwargs)

    return wrapper


# --- Keys --------------------------------------------------------------------------------------------------


class KeyForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What will use it, e.g. “Zapier” or “HubSpot sync”.")
    scope = forms.ChoiceField(
        choices=ApiKey.Scope.choices, initial=ApiKey.Scope.READ, widget=forms.RadioSelect
    )


NEW_KEY = "api_new_key"


@owner_page
def keys(request, owner: Owner):
    """Made keys are shown once: the secret waits in the session for the redirect's GET and is gone after it
    (a reload neither shows it again nor makes another key)."""
    form = KeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _, raw = services.apikey_create(
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            created_by=request.user,
            client=owner.client,
            agency=owner.agency,
        )
        request.session[NEW_KEY] = raw
        return redirect("api:keys")
    new_key = request.session.pop(NEW_KEY, None) if request.method == "GET" else None
    context = {"owner": owner, "form": form, "new_key": new_key, "keys": selectors.apikey_list(owner=owner)}
    response = render(request, "api/keys.html", context, status=400 if form.errors else 200)
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@owner_page
def key_revoke(request, owner: Owner, key_id: int):
    key = selectors.apikey_get(owner=owner, key_id=key_id)
    services.apikey_revoke(api_key=key)
    messages.success(request, f"“{key.name}” is revoked; requests with it are refused from now on.")
    return redirect("api:keys")


# --- Webhooks ----------------------------------------------------------------------------------------------


class EndpointForm(forms.Form):
    url = forms.URLField(
        max_length=500,
        label="URL",
        assume_scheme="https",
        help_text="We POST each event here as JSON, signed (see the API reference).",
    )
    # The catalogue's public events (events.bus): a new one is offered here without a migration.
    events = forms.MultipleChoiceField(
        choices=lambda: [(public.name, public.label) for public in public_events()],
        widget=forms.CheckboxSelectMultiple,
    )


@owner_page
def webhooks(request, owner: Owner):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                created_by=request.user,
                client=owner.client,
                agency=owner.agency,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Endpoint added. Verify deliveries with the signing secret below.")
            return redirect("api:webhook", endpoint_id=endpoint.pk)
    context = {"owner": owner, "form": form, "endpoints": selectors.webhook_endpoint_list(owner=owner)}
    return render(request, "api/webhooks.html", context, status=400 if form.errors else 200)


@owner_page
def webhook(request, owner: Owner, endpoint_id: int):
    endpoint = selectors.webhook_endpoint_get(owner=owner, endpoint_id=endpoint_id)
    deliveries = endpoint.deliveries.select_related("client")[:50]
    return render(
        request,
        "api/webhook.html",
        {"owner": owner, "endpoint": endpoint, "deliveries": deliveries, "states": WebhookDelivery.State},
    )


@require_POST
@owner_page
def webhook_toggle(request, owner: Owner, endpoint_id: int):
    endpoint = selectors.webhook_endpoint_get(owner=owner, endpoint_id=endpoint_id)
    services.webhook_endpoint_set_active(endpoint=endpoint, active=not endpoint.is_active)
    messages.success(request, "Endpoint turned on." if endpoint.is_active else "Endpoint turned off.")
    return redirect("api:webhook", endpoint_id=endpoint.pk)


@require_POST
@owner_page
def webhook_delete(request, owner: Owner, endpoint_id: int):
    endpoint = selectors.webhook_endpoint_get(owner=owner, endpoint_id=endpoint_id)
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, "Endpoint deleted.")
    return redirect("api:webhooks")


@require_POST
@owner_page
def delivery_replay(request, owner: Owner, delivery_id: int):
    delivery = selectors.webhook_delivery_get(owner=owner, delivery_id=delivery_id)
    services.webhook_delivery_replay(delivery=delivery)
    messages.success(request, f"{delivery.event} queued to be sent again.")
    return redirect("api:webhook", endpoint_id=delivery.endpoint_id)


@require_POST
@owner_page
def webhook_test(request, owner: Owner, endpoint_id: int):
    """A made-up event of one of the endpoint's kinds, sent to it like a real one (signed, logged, retried)."""
    endpoint = selectors.webhook_endpoint_get(owner=owner, endpoint_id=endpoint_id)
    # An agency's endpoint hears its clients: the test is an event of its first one (a delivery has a client).
    client = owner.client or Client.objects.filter(agency=owner.agency).order_by("pk").first()
    event = request.POST.get("event", endpoint.events[0])
    event_type = next((public for public in public_events() if public.name == event), None)
    if event_type is None or event not in endpoint.events:
        messages.error(request, "This endpoint does not take that event.")
    elif not endpoint.is_active:
        messages.error(request, "The endpoint is off: turn it on to send it a test.")
    elif client is None:
        messages.error(request, "Add a client first: a test is an event of one of your clients.")
    else:
        data = payload_for(sample_event(event_type, client))
        services.hook_test_send(endpoint=endpoint, client=client, event=event, data=data)
        messages.success(request, f"A sample {event} is on its way; its delivery is listed below.")
    return redirect("api:webhook", endpoint_id=endpoint.pk)


# --- Connect Zapier / Make ---------------------------------------------------------------------------------


@owner_page
def connect(request, owner: Owner):
    """What to paste into Zapier's or Make's set-up screens, and the hooks they subscribed (each can be sent a
    test delivery). On a client's host the hooks hear that client and the actions act for it; on the agency's
    host (with an agency key) they hear every client of the agency, and there are no caller actions."""
    base = request.build_absolute_uri("/api/v1/")
    events = [{"name": public.name, "label": public.label} for public in public_events()]
    actions = [
        ("POST", "contacts/", "Create a contact", '{"phone_number": "+13125550123", "name": "Jane Doe"}'),
        (
            "POST",
            "messages/",
            "Text a contact who called or texted (opted-out numbers and cold outreach are refused with 409)",
            '{"to": "+13125550123", "body": "Your quote is ready."}',
        ),
        (
            "POST",
            "outcomes/",
            "Record an outcome",
            '{"phone_number": "+13125550123", "kind": "won", "value": "450.00"}',
        ),
        (
            "POST",
            "calls/missed/",
            "Report a call your phone system missed (texted back)",
            '{"call_id": "pbx-8841", "from_number": "+13125550123", "called_at": "2026-12-07T10:02:00-06:00"}',
        ),
    ]
    if owner.client is None:
        actions = []
    hooks = (
        selectors.webhook_endpoint_list(owner=owner).filter(api_key__isnull=False).select_related("api_key")
    )
    context = {"owner": owner, "base": base, "events": events, "actions": actions, "hooks": hooks}
    return render(request, "api/connect.html", context)


# --- The reference -----------------------------------------------------------------------------------------

METHODS = ("get", "post", "put", "patch", "delete")


def docs(request, *, urlconf: str):
    """The API reference, rendered on the server from the same OpenAPI schema /api/schema/ serves: Swagger
    UI and Redoc load scripts from a CDN, which the Content-Security-Policy (rightly) refuses."""
    with patched_settings(SCHEMA_SETTINGS):
        schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                operations.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "summary": operation.get("summary", ""),
                        "description": operation.get("description", ""),
                        "parameters": [p for p in operation.get("parameters", []) if p.get("in") == "query"],
                        "body": _ref_name(operation.get("requestBody", {}).get("content", {})),
                        "responses": {
                            code: _ref_name(r.get("content", {}))
                            for code, r in operation.get("responses", {}).items()
                        },
                    }
                )
    components = schema.get("components", {}).get("schemas", {})
    return render(
        request,
        "api/docs.html",
        {
            "operations": operations,
            "components": sorted(components.items()),
            "on_client_host": request_client(request) is not None,
        },
    )


def _ref_name(content: dict) -> str:
    return content.get("application/json", {}).get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
