"""Pages every host has: logging in, invitations, password resets, moving between hosts, and the brand's
stylesheet and logo; and the client's home on its own host."""

import io
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .context_processors import DEFAULT_BRAND_COLOR, agency_of_request
from .forms import (
    HostPasswordResetForm,
    InvitationAcceptForm,
    InvitationConfirmForm,
    ThrottledAuthenticationForm,
)
from .models import Agency, Invitation, User
from .selectors import clients_of_member, request_client, user_is_operator
from .services import (
    brand_from_email,
    client_url,
    handoff_origin_allowed,
    handoff_token_create,
    handoff_token_use,
    host_base_url,
    invitation_accept,
    invitation_find,
    invitation_token_hash,
)
from .two_factor import (
    looks_like_recovery_code,
    recovery_codes_create,
    recovery_codes_left,
    second_factor_verify,
    totp_device_confirmed,
    totp_device_for_setup,
    totp_qr_data_uri,
    totp_secret_base32,
    totp_verify,
    user_requires_two_factor,
)


@login_required
def home(request):
    """The landing page after login on a client's host (an agency's host has the dashboard instead:
    agency.views.home)."""
    client = request_client(request)
    if client is None:
        raise Http404("The client's home is on its own host.")
    return render(request, "accounts/client_home.html", {"client": client})


class LoginView(auth_views.LoginView):
    """Django's login with failed-login throttling; agency admins go on to their second factor; on a client's
    host people land in the inbox."""

    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        if request_client(self.request) is not None:
            return resolve_url(settings.CLIENT_HOME_URL)
        return super().get_default_redirect_url()

    def get_redirect_url(self):
        # Someone who opened the bare host was sent here with next=/; the inbox is where they want to be.
        url = super().get_redirect_url()
        return "" if url == "/" and request_client(self.request) is not None else url

    def form_valid(self, form):
        user = form.get_user()
        if user_requires_two_factor(user):
            _two_factor_pending(self.request, user, self.get_success_url())
            return redirect("two-factor")
        return super().form_valid(form)


PENDING_KEY = "two_factor_pending"
PENDING_SECONDS = 5 * 60


def _two_factor_pending(request, user, next_url: str) -> None:
    """Remember, in the anonymous session, who passed the password step and where they were going."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": int(time.time()), "next": next_url}


RECOVERY_SHOW_KEY = "recovery_codes_to_show"


class TwoFactorForm(forms.Form):
    token = forms.CharField(
        max_length=12,
        label="Six-digit code",
        help_text="Lost your phone? Enter one of your recovery codes instead.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )


@require_http_methods(["GET", "POST"])
def two_factor(request):
    """The second step for agency admins: a code from their authenticator app, set up here the first time."""
    pending = request.session.get(PENDING_KEY) or {}
    user = None
    if pending and time.time() - pending.get("at", 0) < PENDING_SECONDS:
        # As _two_factor_pending wrote it: it always names the person.
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, "Log in again to continue.")
        return redirect("login")
    device = totp_device_confirmed(user=user)
    setting_up = device is None
    if setting_up:
        device = totp_device_for_setup(user=user)
    form = TwoFactorForm(request.POST or None)
    if setting_up:
        form.fields["token"].help_text = ""
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if setting_up:
            verified = device if totp_verify(device=device, token=token) else None
        else:
            verified = second_factor_verify(user=user, code=token)
        if verified is not None:
            del request.session[PENDING_KEY]
            user.otp_device = verified  # django_otp records the device in the session on login
            login(request, user, backend="accounts.backends.HostMembershipBackend")
            next_url = pending.get("next") or "/"
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = "/"
            if setting_up:
                # Shown once, on the next page, and never again: a lost list is replaced, not read back.
                request.session[RECOVERY_SHOW_KEY] = {
                    "codes": recovery_codes_create(user=user),
                    "next": next_url,
                }
                return redirect("two-factor-recovery")
            if verified != device:  # a recovery code
                left = recovery_codes_left(user=user)
                messages.warning(
                    request,
                    f"You logged in with a recovery code; {left} left. Make new ones from Team → Recovery codes "
                    "if you are running out, and set your authenticator up again if your phone is lost.",
                )
            return HttpResponseRedirect(next_url)
        if looks_like_recovery_code(token) and not setting_up:
            form.add_error("token", "That recovery code is not right, or it was used already.")
        else:
            form.add_error(
                "token", "That code is not right. Check your phone's clock and try the current code."
            )
    brand = agency_of_request(request)
    issuer = brand.display_name if brand else "Textback"
    context = {
        "form": form,
        "setting_up": setting_up,
        "email": user.email,
        "user_is_operator": user_is_operator(user),
    }
    if setting_up:
        context |= {
            "qr": totp_qr_data_uri(device=device, issuer=issuer),
            "secret": totp_secret_base32(device),
        }
    return render(request, "registration/two_factor.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """An agency admin's recovery codes: shown once right after the authenticator is set up, and made anew here
    (which voids the old ones). How many are left is all that is shown otherwise."""
    if request_client(request) is not None or not user_requires_two_factor(request.user):
        raise Http404("Recovery codes are for agency admins, on the agency's host.")
    if request.method == "POST":
        request.session[RECOVERY_SHOW_KEY] = {"codes": recovery_codes_create(user=request.user), "next": "/"}
        return redirect("two-factor-recovery")
    fresh = request.session.pop(RECOVERY_SHOW_KEY, None)
    context = {
        "codes": fresh["codes"] if fresh else None,
        "next": fresh["next"] if fresh else "/",
        "left": recovery_codes_left(user=request.user),
    }
    return render(request, "registration/recovery_codes.html", context)


def _email_context(request) -> dict:
    agency = agency_of_request(request)
    client = request_client(request)
    return {"brand_name": agency.display_name if agency else "Textback", "agency": agency, "client": client}


class PasswordResetView(auth_views.PasswordResetView):
    """The reset mail is sent in the brand of the host it was asked for on, from that brand's name."""

    form_class = HostPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        # The link is built on the host we know this request is for, never on its Host header (host_base_url).
        self.extra_email_context = _email_context(self.request) | {
            "origin": host_base_url(self.request).rstrip("/")
        }
        self.from_email = brand_from_email(agency_of_request(self.request))
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")


# An invitation's link carries its token once: opening it keeps the token's hash in the session and sends the
# browser on to a URL without it (as Django's password reset does), so the token is in no later request line,
# Referer or access log. Nothing is changed by opening it: a mail scanner that fetches every link accepts nothing.
INVITATION_KEY = "invitation"


def _invitation_for_host(request, invitation: Invitation | None) -> Invitation | None:
    """The invitation, if it is used on the host it was sent for: a client's on that client's host, an agency's
    on the platform host or that agency's own domain (never a client's)."""
    client = request_client(request)
    if (
        invitation is None
        or (invitation.client_id or None) != (client.pk if client else None)
        or (invitation.agency_id and getattr(request, "agency", None) not in (None, invitation.agency))
    ):
        return None
    return invitation


@require_http_methods(["GET", "HEAD"])
def invitation_open(request, token: str):
    """The link in the email: remember which invitation, in this browser's session, and go on to the form."""
    found = _invitation_for_host(request, invitation_find(token_hash=invitation_token_hash(token)))
    if found is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    request.session[INVITATION_KEY] = found.token_hash
    return redirect("invitation")


@require_http_methods(["GET", "POST"])
def invitation(request):
    """Accept an invitation: a new person picks a name and password; someone who already has an account proves it
    is theirs with their password (and second factor, if they have one). Only a POST accepts; then they are
    logged in on the host they were invited to (or sent to set up their second factor first)."""
    token_hash = request.session.get(INVITATION_KEY) or ""
    found = _invitation_for_host(request, invitation_find(token_hash=token_hash) if token_hash else None)
    if found is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    existing = User.objects.filter(email=found.email).first()
    form: InvitationConfirmForm | InvitationAcceptForm
    if existing:
        form = InvitationConfirmForm(request.POST or None, user=existing, request=request)
    else:
        form = InvitationAcceptForm(User(email=found.email), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                invitation=found,
                password=None if existing else form.cleaned_data["new_password1"],
                name="" if existing else form.cleaned_data.get("name", ""),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            request.session.pop(INVITATION_KEY, None)
            device = form.device if isinstance(form, InvitationConfirmForm) else None  # an existing account
            if device is None and user_requires_two_factor(user):
                _two_factor_pending(request, user, reverse("home"))
                return redirect("two-factor")
            user.otp_device = device  # django_otp records the device in the session on login
            login(request, user, backend="accounts.backends.HostMembershipBackend")
            messages.success(request, f"Welcome to {found.where}.")
            return redirect(settings.CLIENT_HOME_URL if found.client_id else "home")
    return render(
        request,
        "registration/invitation.html",
        {
            "invitation": found,
            "form": form,
            "existing": existing,
            "where": found.where,
        },
    )


def handoff_page(request, *, user: User, client) -> HttpResponse:
    """The page that carries a person to a client's host: a form POSTing a one-time token there (sent on at once
    by static/accounts/handoff.js). A GET of any URL never logs anyone in: a link scanner or a prefetch could
    follow one, and a token in a URL lands in logs and histories."""
    response = render(
        request,
        "accounts/handoff.html",
        {
            "client": client,
            "token": handoff_token_create(user=user, client=client),
            "action": f"{client_url(client)}accounts/enter/",
        },
    )
    # Under our usual "same-origin" policy a browser sends `Origin: null` with a POST to another host, and the
    # client's host could not tell our dashboard from any other site. This page's URL holds nothing secret.
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    # The form posts to the client's host; on its agency's own domain that is outside the CSP's form-action for
    # *.BASE_DOMAIN, so this one response also allows that one origin.
    response._csp_update = {"form-action": [client_url(client).rstrip("/")]}  # type: ignore[attr-defined]
    return response


@csrf_exempt  # the form comes from another of our hosts, which has its own CSRF cookie; the Origin is checked
@require_POST
def enter(request):
    """Arrive on a client's host from the agency dashboard or another client, logged in by a handoff token
    POSTed from one of our own hosts."""
    client = request_client(request)
    if not handoff_origin_allowed(request.headers.get("Origin", "")):
        # Another site making a browser POST someone's token here would log that browser in (login CSRF).
        messages.error(request, "Open the business again from your dashboard.")
        return redirect("login")
    token = request.POST.get("token", "")
    user = handoff_token_use(token=token, client=client) if client and token else None
    if user is None:
        messages.error(request, "That link has expired. Log in, or open the client again from the dashboard.")
        return redirect("login")
    login(
        request, user, backend="accounts.backends.HostMembershipBackend"
    )  # with user.otp_device, if verified
    return redirect(settings.CLIENT_HOME_URL)


@login_required
@require_POST
def switch_client(request, pk: int):
    """An owner or staff member of several clients goes to another of them, without logging in again."""
    target = clients_of_member(request.user).filter(pk=pk).first()
    if target is None or request_client(request) is None:
        raise Http404("No such client")
    return handoff_page(request, user=request.user, client=target)


def _brand_of(request) -> Agency | None:
    """The host's agency; on the platform host, the one named (brand pages preview a logo there). Logos and
    colours are public: every login page shows them."""
    agency = agency_of_request(request)
    if agency is None and request_client(request) is None and request.GET.get("agency"):
        agency = Agency.objects.filter(slug=request.GET["agency"]).first()
    return agency


@require_GET
def brand_css(request):
    """The colours of the host's brand as CSS custom properties (the CSP forbids inline styles). The URL in
    the page carries a version, so this can be cached for long."""
    agency = _brand_of(request)
    color = agency.brand_color if agency else DEFAULT_BRAND_COLOR
    css = f":root {{ --brand: {color}; --brand-ink: {_ink_on(color)}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _ink_on(color: str) -> str:
    """Black or white text, whichever reads better on this background (WCAG relative luminance)."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    return "#111827" if luminance > 0.4 else "#ffffff"


@require_GET
def brand_logo(request):
    agency = _brand_of(request)
    if agency is None or not agency.logo:
        raise Http404("No logo")
    response = HttpResponse(bytes(agency.logo), content_type=agency.logo_content_type)
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# The tab icon of an agency without a logo: a speech bubble in its colour (the default colour where no agency is
# known, as on the platform host's login page). A browser asks for /favicon.ico on every host unless the page names an icon.
BRAND_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<path fill="{color}" d="M6 4h20a4 4 0 0 1 4 4v12a4 4 0 0 1-4 4H14l-7 6v-6H6a4 4 0 0 1-4-4V8a4 4 0 0 1 4-4z"/>'
    "</svg>"
)


@require_GET
def brand_icon(request):
    agency = _brand_of(request)
    color = agency.brand_color if agency else DEFAULT_BRAND_COLOR
    response = HttpResponse(BRAND_ICON.format(color=color), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# The installed app's icon (inbox.views.web_manifest): phones want PNGs of these sizes, square and full-bleed
# ("maskable": the system crops it to its own shape), so the brand's colour fills it and the bubble sits in the
# middle 60% that every crop keeps.
APP_ICON_SIZES = (192, 512)


def app_icon_png(color: str, size: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), color)
    draw = ImageDraw.Draw(image)
    unit = size / 32  # BRAND_ICON's grid, drawn at 60% in the middle
    scale, offset = unit * 0.6, size * 0.2

    def at(x: float, y: float) -> tuple[float, float]:
        return (offset + x * scale, offset + y * scale)

    ink = _ink_on(color)
    draw.rounded_rectangle([at(2, 4), at(30, 24)], radius=4 * scale, fill=ink)
    draw.polygon([at(9, 23), at(16, 23), at(7, 30)], fill=ink)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@require_GET
def brand_app_icon(request, size: int):
    if size not in APP_ICON_SIZES:
        raise Http404("No icon of that size")
    agency = _brand_of(request)
    color = agency.brand_color if agency else DEFAULT_BRAND_COLOR
    response = HttpResponse(app_icon_png(color, size), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response
