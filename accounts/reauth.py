"""Recent login ("sudo mode") for the few actions whose abuse costs the most, such as connecting the Stripe
account an agency's clients pay into: a session older than settings.REAUTH_SECONDS must type the password again
first, so a stolen or forgotten-open session alone cannot do it.

"Recent" is when this session last proved the password: stamped on every login (user_logged_in, connected in
AccountsConfig.ready) and on a password re-entry here. A session made before this existed has no stamp and counts
as old. Wrong passwords count towards the login throttle (accounts.throttle), as on the login form."""

import time

from django import forms
from django.conf import settings

from .forms import THROTTLED_MESSAGE
from .throttle import client_address, login_failure_record, login_success, login_throttled

SESSION_KEY = "auth_at"


def session_auth_mark(session) -> None:
    session[SESSION_KEY] = int(time.time())


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        session_auth_mark(request.session)


def session_auth_recent(request) -> bool:
    at = request.session.get(SESSION_KEY)
    return isinstance(at, int) and 0 <= time.time() - at < settings.REAUTH_SECONDS


class PasswordConfirmForm(forms.Form):
    """The signed-in person's own password, checked (and throttled) like a login."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        address = client_address(self.request)
        if login_throttled(email=user.email, address=address):
            raise forms.ValidationError(THROTTLED_MESSAGE, code="throttled")
        if not user.check_password(password):
            login_failure_record(email=user.email, address=address)
            raise forms.ValidationError("That is not your password.", code="wrong")
        login_success(email=user.email, address=address)
        session_auth_mark(self.request.session)
        return password
