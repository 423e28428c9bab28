"""Forms of logging in, invitations and the client team page. Validation that needs the database is the
services' job; these check shape and turn a service's ValidationError into field errors."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError

from .models import ClientMembership, User
from .selectors import request_client, user_is_operator, user_may_use_host
from .throttle import client_address, login_failure_record, login_success, login_throttled
from .two_factor import second_factor_verify, totp_device_confirmed

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


class ClientInviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=ClientMembership.Role.choices, initial=ClientMembership.Role.STAFF)

    def __init__(self, *args, may_invite_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_invite_owner:
            role = self.fields["role"]
            assert isinstance(role, forms.ChoiceField)  # declared above
            role.choices = [
                choice for choice in ClientMembership.Role.choices if choice[0] != ClientMembership.Role.OWNER
            ]


def user_label(user: User) -> str:
    return f"{user.name} <{user.email}>" if user.name else user.email
