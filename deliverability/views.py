"""The agency's deliverability page: every client's last 7 days against the thresholds, the agency's own rates,
and (admins only) whether a client over a hard limit is paused automatically.

The agency is found through accounts.selectors.agency_for_user: a stranger gets the same 404 as for an agency
that does not exist; agency staff may read, and only admins may change the policy (403)."""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import AgencyMembership, Client
from accounts.selectors import agency_for_user, agency_role

from .models import A2PRegistration
from .registration import RegistrationError, kind_for, registration_check, registration_submit
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
        },
    )


class RegistrationForm(forms.ModelForm):
    website = forms.URLField(max_length=200, assume_scheme="https")
    opt_in_proof_url = forms.URLField(
        label="Opt-in proof",
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text=A2PRegistration._meta.get_field("opt_in_proof_url").help_text,
    )

    class Meta:
        model = A2PRegistration
        fields = [
            "legal_name",
            "business_type",
            "ein",
            "vertical",
            "website",
            "street",
            "city",
            "region",
            "postal_code",
            "contact_first_name",
            "contact_last_name",
            "contact_email",
            "contact_phone",
            "opt_in_proof_url",
        ]
        labels = {"legal_name": "Legal business name", "region": "State (2 letters)"}

    def clean_ein(self) -> str:
        ein = self.cleaned_data["ein"].strip()
        if not re.fullmatch(r"\d{2}-?\d{7}", ein):
            raise forms.ValidationError("An EIN is 9 digits, like 12-3456789.")
        return f"{ein.replace('-', '')[:2]}-{ein.replace('-', '')[2:]}"

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data["contact_phone"].strip()
        if not re.fullmatch(r"\+1\d{10}", phone):
            raise forms.ValidationError("A US number in E.164, like +13125550100.")
        return phone

    def clean_region(self) -> str:
        region = self.cleaned_data["region"].strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", region):
            raise forms.ValidationError("The state's two letters, like IL.")
        return region


@login_required
@require_http_methods(["GET", "POST"])
def registration_page(request, agency: str, pk: int):
    """A client's A2P 10DLC registration: the details carriers require, the steps and their status. Agency staff
    read it; admins submit (and resubmit after a failure) and ask Twilio where it stands."""
    agency_obj = agency_for_user(request=request, slug=agency)
    client = get_object_or_404(Client, pk=pk, agency=agency_obj)
    is_admin = agency_role(request.user, agency_obj) == AgencyMembership.Role.ADMIN
    registration = A2PRegistration.objects.filter(client=client).first()
    locked = registration is not None and registration.status in (
        A2PRegistration.Status.VERIFICATION_REVIEW,
        A2PRegistration.Status.BRAND_REVIEW,
        A2PRegistration.Status.CAMPAIGN_REVIEW,
        A2PRegistration.Status.APPROVED,
    )
    initial = {"legal_name": client.name}
    form = RegistrationForm(
        request.POST if request.method == "POST" and not locked else None,
        instance=registration,
        initial=initial,
    )
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied("Only the agency's admins register a client.")
        try:
            if locked and registration is not None:
                registration_check(registration=registration)
                messages.success(request, f"Checked with Twilio: {registration.get_status_display()}.")
                return redirect("deliverability:registration", agency=agency_obj.slug, pk=client.pk)
            if form.is_valid():
                draft = form.save(commit=False)
                draft.client = client
                draft.save()
                registration_submit(registration=draft)
                messages.success(request, "Submitted: carriers review the brand first, then the campaign.")
                return redirect("deliverability:registration", agency=agency_obj.slug, pk=client.pk)
        except RegistrationError as exc:
            form.add_error(None, str(exc))
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
        },
    )
