"""Forms of the agency pages, the team pages and logging in. Validation that needs the database is the
services' job; these check shape and turn a service's ValidationError into field errors."""

import hashlib
import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from phonenumber_field.formfields import PhoneNumberField

from .models import AgencyMembership, Client, ClientMembership, User
from .selectors import user_may_use_host

# Failed logins per account and address before the form stops trying passwords for a while.
LOGIN_FAILURE_LIMIT = 5
LOGIN_LOCKOUT_SECONDS = 15 * 60


def form_add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: each field's messages on that field, the rest on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _failure_key(request, email: str) -> str:
    email_hash = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{email_hash}:{_client_ip(request)}"


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form that stops checking passwords for an email from one address after
    LOGIN_FAILURE_LIMIT failures, for LOGIN_LOCKOUT_SECONDS. It is keyed on what was typed, whether or not the
    account exists, so the lock-out tells a stranger nothing about which addresses are real."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed attempts. Wait 15 minutes and try again, or reset your password.",
    }

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        key = _failure_key(self.request, email)
        if email and (cache.get(key) or 0) >= LOGIN_FAILURE_LIMIT:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if email:
                cache.add(key, 0, timeout=LOGIN_LOCKOUT_SECONDS)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, timeout=LOGIN_LOCKOUT_SECONDS)
            raise
        cache.delete(key)
        return cleaned


class HostPasswordResetForm(PasswordResetForm):
    """Reset mail goes only to people who may log in on this host, so one client's login page cannot be used to
    mail another client's people (the answer on the page is the same either way)."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def get_users(self, email):
        return [user for user in super().get_users(email) if user_may_use_host(user, self.request)]


class InvitationAcceptForm(SetPasswordForm):
    """A new person's name and password; someone with an account already only confirms."""

    name = forms.CharField(max_length=150, required=False, label="Your name")
    field_order = ["name", "new_password1", "new_password2"]


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
        help_text="Point a CNAME at the platform, then enter it here.",
    )
    logo = forms.FileField(required=False, help_text="PNG, JPEG or WebP, at most 256 KB.")
    logo_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="Or the logo's web address",
        help_text="An https:// link to a PNG, JPEG or WebP image. We fetch it once and serve it ourselves.",
    )
    remove_logo = forms.BooleanField(required=False)

    def clean_custom_domain(self):
        return (self.cleaned_data.get("custom_domain") or "").lower()


def user_label(user: User) -> str:
    return f"{user.name} <{user.email}>" if user.name else user.email


COMMON_TIMEZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
]


class OnboardingProfileForm(forms.Form):
    name = forms.CharField(max_length=120, label="Business name")
    industry = forms.ChoiceField(choices=Client.Industry.choices)
    timezone = forms.ChoiceField(choices=COMMON_TIMEZONES, label="Time zone")
    average_job_value = forms.DecimalField(
        min_value=0,
        max_digits=10,
        decimal_places=2,
        label="Average job value ($)",
        help_text="What a typical job is worth: reports estimate recovered revenue with it.",
    )
    sender_name = forms.CharField(
        max_length=60, required=False, label="Sender name",
        help_text="What texts are signed with ({sender_name}), e.g. “Mike at Harbor”. Empty: the business name.",
    )


class OnboardingHoursForm(forms.Form):
    hours = forms.CharField(
        label="Business hours",
        initial="mon-fri 09:00-17:00",
        help_text='For example "mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00", "24/7" or "none".',
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
        label="Test phone", help_text="Until the business goes live, only calls from its test phones get a text."
    )


class OnboardingOwnerForm(forms.Form):
    email = forms.EmailField(
        required=False, label="Owner's email", help_text="Leave empty to invite them later."
    )
