"""The agency's Payments page (its own Stripe account, connected with Stripe Connect) and Stripe's webhooks.

The page is for the agency's admins only (anyone else: the same 404 as a missing agency). Stripe sends the admin
back to one fixed address on the platform host (the redirect URI registered with Stripe), so connecting starts
and ends there; on an agency's own domain the page links to it.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Agency
from accounts.reauth import PasswordConfirmForm, session_auth_recent
from accounts.throttle import client_address

from . import connect, selectors
from .forms import StripeSettingsForm
from .models import ClientInvoice, StripeConnection
from .stripe_api import StripeConnectError, authorize_url, connect_enabled, webhook_event
from .views import _agency_host

log = logging.getLogger(__name__)


def _admin_agency(request, slug: str) -> Agency:
    agency = selectors.agency_for_user(request=request, slug=slug)
    if not selectors.agency_user_is_admin(user=request.user, agency=agency):
        raise Http404("Only the agency's admins manage its Stripe account.")
    return agency


def _return_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('billing:stripe-return')}"


def _page(request, agency: Agency, *, form=None, status: int = 200, refusal: str = ""):
    connection = StripeConnection.objects.filter(agency=agency).first()
    if connection is not None and form is None:
        form = StripeSettingsForm(instance=connection)
    invoices = ClientInvoice.objects.filter(agency=agency).select_related("client", "statement")[:24]
    return render(
        request,
        "billing/stripe.html",
        {
            "agency": agency,
            "enabled": connect_enabled(),
            "connection": connection,
            "form": form,
            "invoices": invoices,
            "refusal": refusal,
            # Stripe returns to the platform host only; on an agency's own domain, connecting starts there.
            "platform_page": (
                f"{settings.PUBLIC_BASE_URL}{reverse('billing:stripe', args=[agency.slug])}"
                if getattr(request, "agency", None) is not None
                else ""
            ),
        },
        status=status,
    )


@_agency_host
@require_http_methods(["GET", "POST"])
def stripe_page(request, agency: str):
    agency_obj = _admin_agency(request, agency)
    if request.method == "GET":
        return _page(request, agency_obj)
    connection = StripeConnection.objects.filter(agency=agency_obj).first()
    if connection is None:
        raise Http404("No Stripe account is connected.")
    form = StripeSettingsForm(request.POST, instance=StripeConnection.objects.get(pk=connection.pk))
    if not form.is_valid():
        return _page(request, agency_obj, form=form, status=400)
    connect.stripe_connection_update(
        connection=connection,
        user=request.user,
        invoice_clients=form.cleaned_data["invoice_clients"],
        pause_on_failed_payment=form.cleaned_data["pause_on_failed_payment"],
        days_until_due=form.cleaned_data["days_until_due"],
    )
    messages.success(request, "Saved your Stripe choices.")
    return redirect("billing:stripe", agency_obj.slug)


@_agency_host
@require_POST
def stripe_connect_start(request, agency: str):
    agency_obj = _admin_agency(request, agency)
    if not connect_enabled():
        raise Http404("Stripe Connect is not set up on this platform.")
    if getattr(request, "agency", None) is not None:
        return redirect("billing:stripe", agency_obj.slug)  # the page links to the platform host
    if not session_auth_recent(request):
        # Where the clients' money goes: a session that has not proved the password lately does so first. The
        # form posts back here; a right password goes straight on to Stripe.
        form = PasswordConfirmForm(request.POST if "password" in request.POST else None, request=request)
        if not form.is_valid():
            return render(
                request,
                "billing/stripe_reauth.html",
                {"agency": agency_obj, "form": form},
                status=400 if form.errors else 200,
            )
    state = connect.connect_state_new(session=request.session, agency=agency_obj)
    return redirect(authorize_url(state=state, redirect_uri=_return_url(), email=request.user.email))


@_agency_host
def stripe_connect_return(request):
    """Where Stripe sends the admin back, with ?code and ?state (or ?error). The state must be the one this
    session was given, unspent; the agency it names must still be one this person administers."""
    agency_id = connect.connect_state_take(session=request.session, state=request.GET.get("state", ""))
    agency = None
    if agency_id is not None:
        agency = selectors.agencies_administered(user=request.user).filter(pk=agency_id).first()
    if agency is None:
        return render(
            request,
            "billing/stripe_refused.html",
            {
                "reason": "This Stripe link was not started from your Payments page in this browser, or it was "
                "already used. Nothing was connected: start again from Payments."
            },
            status=400,
        )
    if request.GET.get("error"):
        description = request.GET.get("error_description", "")[:200] or request.GET["error"][:60]
        messages.error(request, f"Stripe was not connected: {description}.")
        return redirect("billing:stripe", agency.slug)
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "Stripe sent no authorization code back; nothing was connected.")
        return redirect("billing:stripe", agency.slug)
    try:
        connection = connect.stripe_connect_finish(
            agency=agency, user=request.user, code=code[:200], ip_address=client_address(request)
        )
    except (StripeConnectError, connect.ConnectRefused) as exc:
        messages.error(request, f"Stripe was not connected: {exc}")
        return redirect("billing:stripe", agency.slug)
    messages.success(
        request, f"Connected your Stripe account {connection.account_name or connection.account_id}."
    )
    return redirect("billing:stripe", agency.slug)


@_agency_host
@require_POST
def stripe_disconnect(request, agency: str):
    agency_obj = _admin_agency(request, agency)
    if connect.stripe_disconnect(agency=agency_obj, user=request.user, ip_address=client_address(request)):
        messages.success(
            request,
            "Disconnected your Stripe account. Invoices already sent stay in it; no new ones are made.",
        )
    return redirect("billing:stripe", agency_obj.slug)


@_agency_host
@require_POST
def stripe_invoice_retry(request, agency: str, pk: int):
    """Send again an invoice that could not be sent; only this agency's, only one that failed."""
    agency_obj = _admin_agency(request, agency)
    invoice = (
        ClientInvoice.objects.select_related("statement", "client")
        .filter(agency=agency_obj, pk=pk, status=ClientInvoice.Status.ERROR)
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice to send again.")
    connect.client_invoice_retry(invoice=invoice)
    messages.success(request, f"Sending {invoice.client.name}'s invoice again; this page shows how it went.")
    return redirect("billing:stripe", agency_obj.slug)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's events about connected accounts (the platform's Connect endpoint). Signed with
    STRIPE_WEBHOOK_SECRET: a missing or wrong signature is a 400 that says why, and changes nothing."""
    if not connect_enabled():
        raise Http404("Stripe Connect is not set up here.")
    try:
        event = webhook_event(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    outcome = connect.stripe_event_handle(event=event)
    log.info("stripe event %s %s: %s", event.get("id"), event.get("type"), outcome)
    return HttpResponse(outcome, content_type="text/plain")
