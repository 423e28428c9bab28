"""Forms of the agency pages, the team pages and logging in. Validation that needs the database is the
services' job; these check shape and turn a service's ValidationError into field errors."""

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from phonenumber_field.formfields import PhoneNumberField

from .models import AgencyMembership, Client, ClientMembership, User
from .selectors import request_client, user_is_operator, user_may_use_host
from .throttle import client_address, login_failure_record, login_success, login_throttled
from .two_factor import second_factor_verify, totp_device_confirmed
from .widgets import HoursWidget, TimezoneField

THROTTLED_MESSAGE = "Too many failed attempts. Wait 15 minutes and try again, or reset your password."


def form_add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: each field's messages on that field, the rest on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form that stops checking passwords while accounts.throttle says too many failed."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": THROTTLED_MESSAGE,
    }

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if email and login_throttled(email=email, address=address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if email:
                login_failure_record(email=email, address=address)
            raise
        login_success(email=email, address=address)
        return cleaned


class HostPasswordResetForm(PasswordResetForm):
    """Reset mail goes only to people who may log in on this host, so one client's login page cannot be used to
    mail another client's people (the answer on the page is the same either way).

    Platform operators reset theirs on the platform host only: a client's or an agency's host is a page an
    agency brands (and, on its own domain, controls), and an operator's account opens every agency."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def get_users(self, email):
        on_platform = request_client(self.request) is None and getattr(self.request, "agency", None) is None
        return [
            user
            for user in super().get_users(email)
            if user_may_use_host(user, self.request) and (on_platform or not user_is_operator(user))
        ]


class InvitationAcceptForm(SetPasswordForm):
    """A new person's name and password; someone with an account already only confirms."""

    name = forms.CharField(max_length=150, required=False, label="Your name")
    field_order = ["name", "new_password1", "new_password2"]


class InvitationConfirmForm(forms.Form):
    """Someone who already has an account accepts with their own password, and with their second factor when
    they have one: the link alone never is enough, since whoever read it on the way (a mail scanner, the owner of
    the domain it pointed to) has it too. Failures count towards the login throttle."""

    password = forms.CharField(label="Your password", strip=False, widget=forms.PasswordInput)
    code = forms.CharField(
        required=False,
        max_length=12,
        label="Code from your authenticator app",
        help_text="Or one of your recovery codes.",
    )

    def __init__(self, *args, user: User, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request
        self.device = None  # the device the code was checked with, for the session
        self.needs_code = totp_device_confirmed(user=user) is not None
        if not self.needs_code:
            del self.fields["code"]

    def clean(self):
        email, address = self.user.email, client_address(self.request)
        if login_throttled(email=email, address=address):
            raise ValidationError(THROTTLED_MESSAGE, code="throttled")
        password = self.cleaned_data.get("password") or ""
        if not (self.user.is_active and self.user.check_password(password)):
            login_failure_record(email=email, address=address)
            raise ValidationError("That is not the password of this account.", code="password")
        if self.needs_code:
            self.device = second_factor_verify(user=self.user, code=self.cleaned_data.get("code") or "")
            if self.device is None:
                login_failure_record(email=email, address=address)
                raise ValidationError("That code is not right, or it was used already.", code="code")
        login_success(email=email, address=address)
        return self.cleaned_data


class AgencyInviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=AgencyMembership.Role.choices, initial=AgencyMembership.Role.STAFF)


class ClientInviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=ClientMembership.Role.choices, initial=ClientMembership.Role.STAFF)

    def __init__(self, *args, may_invite_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_invite_owner:
            self.fields["role"].choices = [
                choice for choice in ClientMembership.Role.choices if choice[0] != ClientMembership.Role.OWNER
            ]


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


def user_label(user: User) -> str:
    return f"{user.name} <{user.email}>" if user.name else user.email


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
            self.fields["buy_number"].choices = choices
        else:
            del self.fields["buy_number"]

    def clean_buy_number(self):
        chosen = self.cleaned_data.get("buy_number") or ""
        if chosen and not E164.match(chosen):
            raise forms.ValidationError("Choose one of the numbers offered.")
        return chosen

    def clean(self):
        data = super().clean()
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
