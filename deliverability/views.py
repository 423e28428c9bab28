"""The agency's deliverability page: every client's last 7 days against the thresholds, the agency's own rates,
and (admins only) whether a client over a hard limit is paused automatically.

The agency is found through accounts.selectors.agency_for_user: a stranger gets the same 404 as for an agency
that does not exist; agency staff may read, and only admins may change the policy (403)."""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import AgencyMembership, Client, ClientMembership
from accounts.selectors import agency_for_user, agency_role, request_client

from . import hosting
from .forms import registration_form, registration_form_submit, registration_locked
from .models import A2PRegistration, BusinessAddress, HostedNumberOrder
from .registration import (
    RegistrationError,
    kind_for,
    registration_check,
    registration_otp_resend,
)
from .selectors import (
    MIN_ATTEMPTED,
    THRESHOLDS,
    WINDOW_DAYS,
    auto_pause_on,
    deliverability_by_client,
    deliverability_total,
    holds_until_registered,
    percent,
)
from .services import policy_set
from .usage import usage_for

SAID = {
    ("auto_pause", "on"): "Clients over a hard limit will be paused automatically.",
    (
        "auto_pause",
        "off",
    ): "Clients over a hard limit will not be paused automatically; you will still be emailed.",
    (
        "hold_until_registered",
        "on",
    ): "Text-backs of clients whose registration is pending are held until it is approved.",
    ("hold_until_registered", "off"): "Text-backs of clients whose registration is pending are sent anyway.",
}


@login_required
@require_http_methods(["GET", "POST"])
def agency_page(request, agency: str):
    agency_obj = agency_for_user(request=request, slug=agency)
    is_admin = agency_role(request.user, agency_obj) == AgencyMembership.Role.ADMIN
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only the agency's admins may change this.")
        name = next((n for n in ("auto_pause", "hold_until_registered") if n in request.POST), None)
        choice = request.POST.get(name or "")
        if name is None or choice not in ("on", "off"):
            return HttpResponse(
                "auto_pause or hold_until_registered must be on or off", status=400, content_type="text/plain"
            )
        policy_set(agency=agency_obj, **{name: choice == "on"})
        messages.success(request, SAID[name, choice])
        return redirect("deliverability:agency", agency=agency_obj.slug)
    clients = list(
        Client.objects.filter(
            agency=agency_obj, status__in=[Client.Status.LIVE, Client.Status.PAUSED]
        ).order_by("name")
    )
    rates = deliverability_by_client(client_ids=[c.pk for c in clients])
    rows = sorted(((c, rates[c.pk]) for c in clients), key=lambda row: -row[1].level)
    # Each carrier-forwarding client's latest hosting order, in one query, for its row.
    orders = {
        order.client_id: order
        for order in HostedNumberOrder.objects.filter(
            client__in=[c for c in clients if c.call_mode == Client.CallMode.CARRIER]
        )
        .order_by("client_id", "-pk")
        .distinct("client_id")
    }
    for client in clients:
        client.hosting_order = orders.get(client.pk)
    return render(
        request,
        "deliverability/agency.html",
        {
            "agency": agency_obj,
            "rows": rows,
            "total": deliverability_total(rates.values()),
            "thresholds": [(t.label, percent(t.warning), percent(t.limit)) for t in THRESHOLDS],
            "window_days": WINDOW_DAYS,
            "min_attempted": MIN_ATTEMPTED,
            "auto_pause": auto_pause_on(agency_obj),
            "hold": holds_until_registered(agency_id=agency_obj.pk),
            "pending": [c for c in clients if c.messaging_registration == Client.Registration.PENDING],
            "is_admin": is_admin,
            "usage": usage_for(agency_obj),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def registration_page(request, agency: str, pk: int):
    """A client's A2P 10DLC registration: the details carriers require, the steps and their status. Agency staff
    read it; admins submit (and resubmit after a failure) and ask Twilio where it stands."""
    agency_obj = agency_for_user(request=request, slug=agency)
    client = get_object_or_404(Client, pk=pk, agency=agency_obj)
    is_admin = agency_role(request.user, agency_obj) == AgencyMembership.Role.ADMIN
    registration = A2PRegistration.objects.filter(client=client).first()
    locked = registration_locked(registration)
    error = ""
    form = registration_form(
        client=client, registration=registration, data=request.POST if request.method == "POST" else None
    )
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only the agency's admins register a client.")
        try:
            if locked and registration is not None and request.POST.get("action") == "otp":
                registration_otp_resend(registration=registration)
                messages.success(
                    request, f"Carriers are texting the code to {registration.contact_phone} again."
                )
                return redirect("deliverability:registration", agency=agency_obj.slug, pk=client.pk)
            if locked and registration is not None:
                registration_check(registration=registration)
                messages.success(request, f"Checked with Twilio: {registration.get_status_display()}.")
                return redirect("deliverability:registration", agency=agency_obj.slug, pk=client.pk)
            if form.is_valid():
                registration_form_submit(form=form, client=client)
                messages.success(request, "Submitted: carriers review the brand first, then the campaign.")
                return redirect("deliverability:registration", agency=agency_obj.slug, pk=client.pk)
        except RegistrationError as exc:
            if form.is_bound:
                form.add_error(None, str(exc))
            else:  # a check or a code asked for on a submitted registration: no form was posted
                error = str(exc)
    return render(
        request,
        "deliverability/registration.html",
        {
            "agency": agency_obj,
            "client": client,
            "registration": registration,
            "form": form,
            "locked": locked,
            "is_admin": is_admin,
            "toll_free": kind_for(client) == A2PRegistration.Kind.TOLL_FREE,
            "error": error,
        },
    )


# --- Texting from the number the caller dialled (Hosted SMS) ---------------------------------------------------


class HostingForm(forms.Form):
    phone_number = forms.CharField(
        label="The business's own number",
        max_length=20,
        help_text="The number callers dial (its carrier forwards unanswered calls to the Textback number).",
    )
    contact_name = forms.CharField(label="Who signs for the business", max_length=120)
    contact_title = forms.CharField(label="Their title", max_length=60, required=False, initial="Owner")
    contact_email = forms.EmailField(
        label="Their email", help_text="Twilio emails the letter of authorisation here, to be signed online."
    )
    contact_phone = forms.CharField(label="Their phone", max_length=20)
    verification_extension = forms.CharField(
        label="Extension for the verification call",
        max_length=10,
        required=False,
        help_text="Only if the number answers with a menu: the digits that reach the owner, e.g. 1 or 204.",
    )
    street = forms.CharField(label="Street address", max_length=120)
    city = forms.CharField(max_length=60)
    region = forms.CharField(label="State (2 letters)", max_length=20)
    postal_code = forms.CharField(label="ZIP code", max_length=10)

    @staticmethod
    def _us_number(value: str) -> str:
        digits = re.sub(r"[^\d+]", "", value.strip())
        if re.fullmatch(r"\d{10}", digits):
            digits = f"+1{digits}"
        elif re.fullmatch(r"1\d{10}", digits):
            digits = f"+{digits}"
        if not re.fullmatch(r"\+1[2-9]\d{2}[2-9]\d{6}", digits):
            raise forms.ValidationError("A US or Canadian number, like +13125550100 or (312) 555-0100.")
        return digits

    def clean_phone_number(self) -> str:
        return self._us_number(self.cleaned_data["phone_number"])

    def clean_contact_phone(self) -> str:
        return self._us_number(self.cleaned_data["contact_phone"])

    def clean_region(self) -> str:
        region = self.cleaned_data["region"].strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            raise forms.ValidationError("The state's two letters, like IL.")
        return region

    def clean_verification_extension(self) -> str:
        digits = self.cleaned_data["verification_extension"].strip()
        if digits and not re.fullmatch(r"[0-9*#]{1,10}", digits):
            raise forms.ValidationError("Only the digits to dial, like 1 or 204.")
        return digits

    def clean_postal_code(self) -> str:
        code = self.cleaned_data["postal_code"].strip()
        if not re.fullmatch(r"\d{5}(-\d{4})?", code):
            raise forms.ValidationError("A US ZIP code, like 60601.")
        return code


HOSTING_SAID = {
    "order": "Ordered: Twilio is checking that the number can be hosted.",
    "call": "Twilio is calling the number now: answer it and type the code shown here.",
    "check": "Checked with Twilio.",
    "cancel": "The order was cancelled.",
    "letter": "Twilio is emailing a new letter of authorisation to sign.",
    "stop": "Texts go from the Textback number again.",
    "release": "Hosting released: texts go from the Textback number again.",
    "resume": "Texts go from the business's own number again.",
}


def _hosting_initial(client: Client) -> dict:
    initial: dict = {"phone_number": str(client.forward_to or ""), "contact_title": "Owner"}
    registration = A2PRegistration.objects.filter(client=client).first()
    if registration is not None:
        initial |= {
            "contact_name": f"{registration.contact_first_name} {registration.contact_last_name}".strip(),
            "contact_email": registration.contact_email,
            "contact_phone": registration.contact_phone,
            "street": registration.street,
            "city": registration.city,
            "region": registration.region,
            "postal_code": registration.postal_code,
        }
    address = BusinessAddress.objects.filter(client=client).first()
    if address is not None:
        initial |= {n: getattr(address, n) for n in ("street", "city", "region", "postal_code")}
    return initial


def _hosting(request, client: Client, *, may_change: bool, back_url: str, here: str):
    """The hosting page, the same on the client's host (its settings) and the agency's (the wizard)."""
    order = hosting.latest_order(client)
    error = ""
    form = HostingForm(
        request.POST if request.method == "POST" and request.POST.get("action") == "order" else None,
        initial=_hosting_initial(client),
    )
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("Only the business's owners and its agency change how it texts.")
        action = request.POST.get("action", "")
        if action not in HOSTING_SAID:
            return HttpResponse(
                f"action must be one of {', '.join(HOSTING_SAID)}", status=400, content_type="text/plain"
            )
        try:
            if action == "order":
                if form.is_valid():
                    hosting.hosting_order(client=client, **form.cleaned_data)
                    messages.success(request, HOSTING_SAID[action])
                    return redirect(here)
            elif action in ("stop", "resume"):
                if action == "stop":
                    hosting.hosting_stop(client=client)
                elif order is None or order.status != HostedNumberOrder.Status.COMPLETED:
                    raise hosting.HostingError("There is no completed hosting to text from.")
                else:
                    Client.objects.filter(pk=client.pk).update(hosted_sms_number=order.phone_number)
                messages.success(request, HOSTING_SAID[action])
                return redirect(here)
            elif action == "letter":
                if order is None:
                    raise hosting.HostingError("There is no order for hosting yet.")
                email = request.POST.get("email", "").strip()
                try:
                    validate_email(email)
                except ValidationError:
                    raise hosting.HostingError(f"{email or 'That'} is not an email address.") from None
                hosting.hosting_letter_again(order=order, email=email)
                messages.success(request, HOSTING_SAID[action])
                return redirect(here)
            else:
                if order is None:
                    raise hosting.HostingError("There is no order for hosting yet.")
                {
                    "call": hosting.hosting_verify_call,
                    "check": hosting.hosting_check,
                    "cancel": hosting.hosting_cancel,
                    "release": hosting.hosting_release,
                }[action](order=order)
                messages.success(request, HOSTING_SAID[action])
                return redirect(here)
        except hosting.HostingError as exc:
            error = str(exc)
        status = 400
    client = Client.objects.get(pk=client.pk)  # hosted_sms_number as it is now
    return render(
        request,
        "deliverability/hosting.html",
        {
            "client": client,
            "order": order,
            "error": error,
            "action": hosting.next_action(order) if order else None,
            "refusal": hosting.hosting_refusal(client),
            "form": form,
            "may_change": may_change,
            "may_order": order is None or order.status in hosting.ENDED,
            "back_url": back_url,
            "here": here,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def hosting_client_page(request):
    """On the client's host, from its settings: everyone let in may look; its owners and agency people act."""
    client = request_client(request)
    if client is None:
        raise Http404("This page lives on a client's host.")
    user = request.user
    may_change = user.is_superuser or (
        ClientMembership.objects.filter(user=user, client=client, role=ClientMembership.Role.OWNER).exists()
        or AgencyMembership.objects.filter(user=user, agency_id=client.agency_id).exists()
    )
    return _hosting(
        request,
        client,
        may_change=may_change,
        back_url=reverse("client-settings"),
        here=reverse("client-hosting"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def hosting_agency_page(request, agency: str, pk: int):
    """On the agency's host, from the wizard: the agency's people."""
    agency_obj = agency_for_user(request=request, slug=agency)
    client = get_object_or_404(Client.objects.select_related("agency"), pk=pk, agency=agency_obj)
    return _hosting(
        request,
        client,
        may_change=True,
        back_url=reverse("home"),
        here=reverse("deliverability:hosting", kwargs={"agency": agency_obj.slug, "pk": client.pk}),
    )
