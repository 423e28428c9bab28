"""The forms of the agency's pages: inviting to the agency's team, offboarding a client, the brand, and the
onboarding wizard's steps."""

import re

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from accounts.models import AgencyMembership, Client
from accounts.widgets import HoursWidget, TimezoneField


class AgencyInviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=AgencyMembership.Role.choices, initial=AgencyMembership.Role.STAFF)


class OffboardForm(forms.Form):
    confirmation = forms.CharField(max_length=60, label="Type the client's short name to confirm")


class BrandForm(forms.Form):
    brand_name = forms.CharField(max_length=120, required=False, help_text="Shown to your clients.")
    brand_color = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        max_length=7,
        error_messages={"invalid": "Use a colour like #2563eb."},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    support_email = forms.EmailField(required=False)
    support_phone = PhoneNumberField(required=False)
    custom_domain = forms.RegexField(
        regex=r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        required=False,
        error_messages={"invalid": "Enter a host name such as app.youragency.com."},
        help_text="Enter it here, then add the DNS records shown below; it works once we have checked them.",
    )
    logo = forms.FileField(required=False, help_text="PNG, JPEG or WebP, at most 256 KB.")
    logo_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Or the logo's web address",
        help_text="An https:// link to a PNG, JPEG or WebP image. We fetch it once and serve it ourselves.",
    )
    remove_logo = forms.BooleanField(required=False)

    def clean_custom_domain(self):
        return (self.cleaned_data.get("custom_domain") or "").lower()


class OnboardingProfileForm(forms.Form):
    name = forms.CharField(max_length=120, label="Business name")
    industry = forms.ChoiceField(choices=Client.Industry.choices)
    timezone = TimezoneField()
    average_job_value = forms.DecimalField(
        min_value=0,
        max_digits=10,
        decimal_places=2,
        label="Average job value ($)",
        help_text="What a typical job is worth: reports estimate recovered revenue with it.",
    )
    sender_name = forms.CharField(
        max_length=60,
        required=False,
        label="Sender name",
        help_text="What texts are signed with ({sender_name}), e.g. “Mike at Harbor”. Empty: the business name.",
    )
    booking_url = forms.URLField(
        max_length=500,
        required=False,
        assume_scheme="https",
        label="Booking link",
        help_text="The business's online booking page, if it has one ({booking_url} in texts). Optional.",
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
    )


class OnboardingHoursForm(forms.Form):
    hours = forms.CharField(
        label="Business hours",
        initial="mon-fri 09:00-17:00",
        widget=HoursWidget,
        help_text="Switch a day on and set its hours; “+ Break” splits a day in two (a lunch break).",
    )


E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class OnboardingNumberSearchForm(forms.Form):
    area_code = forms.CharField(
        max_length=3, label="Area code", widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4})
    )


class OnboardingNumberForm(forms.Form):
    """A number to buy (one the search offered) or one the agency's Twilio account already holds."""

    buy_number = forms.ChoiceField(required=False, widget=forms.RadioSelect, label="Choose a number to buy")
    phone_number = PhoneNumberField(
        required=False,
        label="Text-back number",
        help_text="Or a number your Twilio account already has, e.g. +13125550100. A number chosen to buy "
        "above wins.",
    )
    call_mode = forms.ChoiceField(
        choices=Client.CallMode.choices, widget=forms.RadioSelect, initial="forward"
    )
    forward_to = PhoneNumberField(required=False, label="The business's phone (forward-to)")
    messaging_registration = forms.ChoiceField(
        choices=Client.Registration.choices,
        label="Messaging registration (US A2P 10DLC)",
        help_text="A new US local number needs an approved A2P 10DLC campaign (registered in Twilio) before "
        "carriers deliver its texts reliably. The dashboard warns while it is pending.",
    )

    def __init__(self, *args, offered=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (n.phone_number, f"{n.phone_number}" + (f" · {n.locality}, {n.region}" if n.region else ""))
            for n in offered
        ]
        chosen = self.data.get("buy_number") if self.is_bound else None
        if chosen and chosen not in dict(choices):
            choices.append((chosen, chosen))  # offered by a search on an earlier page
        if choices:
            buy_number = self.fields["buy_number"]
            assert isinstance(buy_number, forms.ChoiceField)  # declared above
            buy_number.choices = choices
        else:
            del self.fields["buy_number"]

    def clean_buy_number(self):
        chosen = self.cleaned_data.get("buy_number") or ""
        if chosen and not E164.match(chosen):
            raise forms.ValidationError("Choose one of the numbers offered.")
        return chosen

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean() returns cleaned_data
        if not data.get("buy_number") and not data.get("phone_number") and "phone_number" not in self.errors:
            raise forms.ValidationError(
                "Search for a number to buy and choose one, or enter a number your Twilio account already has."
            )
        return data


class OnboardingTemplatesForm(forms.Form):
    business_hours = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="During business hours")
    after_hours = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="After hours")


class OnboardingTestNumberForm(forms.Form):
    number = PhoneNumberField(
        label="Test phone",
        help_text="Until the business goes live, only calls from its test phones get a text.",
    )


class OnboardingOwnerForm(forms.Form):
    email = forms.EmailField(
        required=False, label="Owner's email", help_text="Leave empty to invite them later."
    )
