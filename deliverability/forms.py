"""The A2P 10DLC registration's form and its submission, shared by the client's registration page
(deliverability.views.registration_page) and the onboarding wizard's registration step (agency.onboarding_views):
the same details, checked the same way, submitted the same way."""

import re

from django import forms

from accounts.models import Client

from .models import A2PRegistration
from .registration import registration_submit

# Submitted and in review (or done): the details are not edited any more, only checked with Twilio.
IN_REVIEW = (
    A2PRegistration.Status.VERIFICATION_REVIEW,
    A2PRegistration.Status.BRAND_REVIEW,
    A2PRegistration.Status.CAMPAIGN_REVIEW,
    A2PRegistration.Status.APPROVED,
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
        help_texts = {
            "contact_phone": "E.164, e.g. +13125550100. A sole proprietor's mobile: carriers text it a one-time code.",
        }

    def clean_ein(self) -> str:
        ein = self.cleaned_data["ein"].strip()
        if not ein:
            return ""  # only a sole proprietor may have none (clean)
        if not re.fullmatch(r"\d{2}-?\d{7}", ein):
            raise forms.ValidationError("An EIN is 9 digits, like 12-3456789.")
        return f"{ein.replace('-', '')[:2]}-{ein.replace('-', '')[2:]}"

    def clean(self) -> dict:
        data = super().clean() or {}
        sole = data.get("business_type") == A2PRegistration.BusinessType.SOLE_PROPRIETORSHIP
        if "ein" in data and not data["ein"] and not sole:
            self.add_error(
                "ein", "Enter the EIN: only a sole proprietorship without one registers without it."
            )
        return data

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


def registration_locked(registration: A2PRegistration | None) -> bool:
    return registration is not None and registration.status in IN_REVIEW


def registration_form(*, client: Client, registration: A2PRegistration | None, data=None) -> RegistrationForm:
    """The form for the client's registration (bound to `data` unless the registration is in review)."""
    return RegistrationForm(
        data if data is not None and not registration_locked(registration) else None,
        instance=registration,
        initial={"legal_name": client.name},
    )


def registration_form_submit(*, form: RegistrationForm, client: Client) -> A2PRegistration:
    """A valid form's details kept for the client, then submitted to carriers (registration_submit: the first
    step, or the failed one again). RegistrationError if Twilio refuses; what was made is kept."""
    draft = form.save(commit=False)
    draft.client = client
    draft.save()
    return registration_submit(registration=draft)
