"""The agency's Twilio account page (/agency/<slug>/twilio/, admins only): which account its numbers are in (the
platform's, a subaccount we made for it, or its own), and connecting its own account by SID and auth token, which
Twilio must accept before anything is stored. The agency is found through accounts.selectors.agency_for_user:
another agency's people get the same 404 as for one that does not exist; agency staff get 403."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import form_add_service_errors
from accounts.selectors import agency_for_user
from messaging.models import TwilioAccount
from messaging.twilio_accounts import own_account_connect, own_account_disconnect


class OwnAccountForm(forms.Form):
    account_sid = forms.CharField(
        label="Account SID", max_length=34, help_text="AC… (Twilio console, Account Info)"
    )
    # Never rendered back into the page: a token typed once is not shown again.
    auth_token = forms.CharField(
        label="Auth token", max_length=64, widget=forms.PasswordInput(render_value=False)
    )


def _masked(sid: str) -> str:
    return f"{sid[:6]}…{sid[-4:]}"


@login_required
@require_http_methods(["GET", "POST"])
def twilio_account(request, slug: str):
    agency = agency_for_user(request, slug, admin=True)
    account = TwilioAccount.objects.filter(agency=agency).first()
    form = OwnAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            own_account_connect(
                agency=agency,
                account_sid=form.cleaned_data["account_sid"],
                auth_token=form.cleaned_data["auth_token"],
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(
                request, "Twilio accepted the account: new numbers and texts use it from now on."
            )
            return redirect("agency:twilio", slug=agency.slug)
    return render(
        request,
        "agency/twilio.html",
        {
            "agency": agency,
            "account": account,
            "masked_sid": _masked(account.account_sid) if account else "",
            "form": form,
            "may_connect": account is None or account.kind == TwilioAccount.Kind.OWN,
        },
    )


@login_required
@require_POST
def twilio_account_disconnect(request, slug: str):
    agency = agency_for_user(request, slug, admin=True)
    own_account_disconnect(agency=agency)
    messages.success(request, "Back on the platform's Twilio account.")
    return redirect("agency:twilio", slug=agency.slug)
