"""The onboarding wizard's pages on the agency's host (see agency.onboarding for the steps).

Each onboarding is found through its client with selectors.client_for_agency_user, so another agency's staff
get the same 404 as for one that does not exist. Any of the agency's people may onboard a client."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import form_add_service_errors
from accounts.hours import format_hours
from accounts.models import AgencyMembership, Client, Onboarding
from accounts.selectors import agency_for_user, agency_role, client_for_agency_user
from deliverability.errors import RegistrationError
from deliverability.forms import registration_form, registration_form_submit, registration_locked
from deliverability.models import A2PRegistration
from deliverability.registration import kind_for
from deliverability.selectors import holds_until_registered
from telephony.numbers import webhook_urls

from . import onboarding as wizard
from .forms import (
    OnboardingHoursForm,
    OnboardingNumberForm,
    OnboardingNumberSearchForm,
    OnboardingOwnerForm,
    OnboardingProfileForm,
    OnboardingTemplatesForm,
    OnboardingTestNumberForm,
)

STEP_LABELS = {
    "profile": "Business",
    "hours": "Hours",
    "number": "Number",
    "templates": "Texts",
    "owner": "Owner",
    "test": "Test",
    "registration": "Register",
    "live": "Go live",
}


def _onboarding(request, pk: int) -> Onboarding:
    onboarding = Onboarding.objects.select_related("client__agency").filter(pk=pk).first()
    if onboarding is None:
        raise Http404("No such onboarding")
    client_for_agency_user(request, onboarding.client_id)  # 404 for anyone not of this client's agency
    return onboarding


def _page(request, onboarding: Onboarding, step: str, context: dict, *, status: int = 200):
    steps = [(name, STEP_LABELS[name], onboarding.may_open(name), name == step) for name in Onboarding.STEPS]
    number = Onboarding.STEPS.index(step) + 1
    return render(
        request,
        f"agency/onboarding/{step}.html",
        {
            "onboarding": onboarding,
            "client": onboarding.client,
            "step": step,
            "steps": steps,
            # The stepper's "Step 3 of 7" and its bar (a <progress>, so no inline width is needed).
            "step_number": number,
            "step_count": len(Onboarding.STEPS),
            **context,
        },
        status=status,
    )


def _profile_answers(data: dict) -> dict:
    """The profile form's answers as the wizard's services take them (starting, and editing the step later)."""
    return {
        "name": data["name"],
        "industry": data["industry"],
        "timezone_name": data["timezone"],
        "average_job_value": data["average_job_value"],
        "sender_name": data["sender_name"],
        "booking_url": data.get("booking_url") or "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def start(request, slug: str):
    agency = agency_for_user(request, slug)
    form = OnboardingProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            onboarding = wizard.onboarding_start(
                agency=agency, actor=request.user, **_profile_answers(form.cleaned_data)
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return redirect("agency:onboarding-step", pk=onboarding.pk, step="hours")
    return render(
        request,
        "agency/onboarding/profile.html",
        {
            "agency": agency,
            "form": form,
            "step": "profile",
            "steps": None,
            "step_number": 1,
            "step_count": len(Onboarding.STEPS),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def step_view(request, pk: int, step: str):
    onboarding = _onboarding(request, pk)
    if step not in Onboarding.STEPS or not onboarding.may_open(step):
        raise Http404("No such step")
    if onboarding.completed_at:
        messages.info(request, f"{onboarding.client.name} is already live.")
        return redirect("home")
    handler = {
        "profile": _profile,
        "hours": _hours,
        "number": _number,
        "templates": _templates,
        "owner": _owner,
        "test": _test,
        "registration": _registration,
        "live": _live,
    }[step]
    return handler(request, onboarding)


def _next(onboarding: Onboarding, step: str):
    following = Onboarding.STEPS[Onboarding.STEPS.index(step) + 1]
    return redirect("agency:onboarding-step", pk=onboarding.pk, step=following)


def _profile(request, onboarding):
    client = onboarding.client
    initial = {
        "name": client.name,
        "industry": client.industry,
        "timezone": client.timezone,
        "average_job_value": client.average_job_value,
        "sender_name": client.sender_name,
        "booking_url": client.booking_url,
    }
    form = OnboardingProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            wizard.onboarding_profile_save(onboarding=onboarding, **_profile_answers(form.cleaned_data))
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return _next(onboarding, "profile")
    return _page(request, onboarding, "profile", {"form": form}, status=400 if form.errors else 200)


def _hours(request, onboarding):
    form = OnboardingHoursForm(
        request.POST or None, initial={"hours": format_hours(onboarding.client.business_hours)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            wizard.onboarding_hours_save(onboarding=onboarding, hours_text=form.cleaned_data["hours"])
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return _next(onboarding, "hours")
    return _page(request, onboarding, "hours", {"form": form}, status=400 if form.errors else 200)


def _number(request, onboarding):
    client = onboarding.client
    search = OnboardingNumberSearchForm(request.GET if "area_code" in request.GET else None)
    offered = []
    if search.is_bound and search.is_valid():
        try:
            offered = wizard.onboarding_number_search(
                agency=client.agency, area_code=search.cleaned_data["area_code"]
            )
        except ValidationError as exc:
            form_add_service_errors(search, exc)
        else:
            if not offered:
                search.add_error(
                    "area_code", "No numbers are offered in that area code right now: try a nearby one."
                )
    initial = {
        "phone_number": client.phone_number,
        "call_mode": client.call_mode,
        "forward_to": client.forward_to,
        # A number bought here is a new US local number: it needs registering, unless the agency says otherwise.
        "messaging_registration": client.messaging_registration if client.phone_number else "pending",
    }
    form = OnboardingNumberForm(request.POST or None, initial=initial, offered=offered)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        buy = bool(data.get("buy_number"))
        try:
            wizard.onboarding_number_save(
                onboarding=onboarding,
                phone_number=data["buy_number"] if buy else data["phone_number"],
                call_mode=data["call_mode"],
                forward_to=data["forward_to"],
                messaging_registration=data["messaging_registration"],
                buy=buy,
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            return _next(onboarding, "number")
    number = str(client.phone_number or form["phone_number"].value() or "")
    urls = webhook_urls()
    context = {
        "form": form,
        "search": search,
        "codes": wizard.carrier_codes(number) if number else [],
        "voice_url": urls["voice_url"],
        "sms_url": urls["sms_url"],
        "status_url": urls["status_callback"],
    }
    errors = form.errors or search.errors
    return _page(request, onboarding, "number", context, status=400 if errors else 200)


def _templates(request, onboarding):
    client = onboarding.client
    ready = client.status in (Client.Status.LIVE, Client.Status.PAUSED)
    form = OnboardingTemplatesForm(
        request.POST or None, initial=wizard.onboarding_templates(client=client) if ready else {}
    )
    previews = {}
    if request.method == "POST" and form.is_valid():
        bodies = {name: form.cleaned_data[name] for name in ("business_hours", "after_hours")}
        previews = wizard.onboarding_template_previews(client=client, bodies=bodies)
        if request.POST.get("action") != "preview":
            try:
                wizard.onboarding_templates_save(onboarding=onboarding, bodies=bodies)
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                return _next(onboarding, "templates")
    elif ready and request.method == "GET":
        previews = wizard.onboarding_template_previews(client=client, bodies=form.initial)
    context = {"form": form, "ready": ready, "previews": previews, "sample_caller": wizard.SAMPLE_CALLER}
    return _page(request, onboarding, "templates", context, status=400 if form.errors else 200)


def _owner(request, onboarding):
    form = OnboardingOwnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            wizard.onboarding_owner_invite(
                onboarding=onboarding, actor=request.user, email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            if form.cleaned_data["email"]:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return _next(onboarding, "owner")
    pending = onboarding.client.invitations.filter(accepted_at__isnull=True, role="owner")
    return _page(
        request, onboarding, "owner", {"form": form, "pending": pending}, status=400 if form.errors else 200
    )


def _test(request, onboarding):
    client = onboarding.client
    form = OnboardingTestNumberForm(request.POST if request.POST.get("action") == "add" else None)
    if request.method == "POST":
        if request.POST.get("action") != "add":
            wizard.onboarding_test_done(onboarding=onboarding)
            return _next(onboarding, "test")
        if form.is_valid():
            try:
                wizard.onboarding_test_number_add(
                    onboarding=onboarding, number=str(form.cleaned_data["number"])
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                return redirect(request.path)
        client.refresh_from_db()
    test_numbers = wizard.onboarding_test_numbers(client=client)
    caller = test_numbers[0] if test_numbers else "<a test phone>"
    context = {
        "form": form,
        "test_numbers": test_numbers,
        "activity": wizard.onboarding_recent_activity(client=client),
        "command": f"./run manage simulate_call --client {client.slug} --from {caller}",
        "public_base_url": settings.PUBLIC_BASE_URL,
    }
    return _page(request, onboarding, "test", context, status=400 if form.errors else 200)


def _registration(request, onboarding):
    """A2P 10DLC registration (toll-free verification for a toll-free number) as the client's registration page
    does it: deliverability's form and submission. Admins submit, as there; anyone may leave it for later, and
    the client's registration then stays as the number step set it (pending: the agency's hold-until-registered
    choice applies to its text-backs until it is registered)."""
    client = onboarding.client
    registration = A2PRegistration.objects.filter(client=client).first()
    is_admin = agency_role(request.user, client.agency) == AgencyMembership.Role.ADMIN
    locked = registration_locked(registration)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = registration_form(
        client=client, registration=registration, data=request.POST if action == "register" else None
    )
    error = ""
    if action in ("later", "continue"):
        wizard.onboarding_registration_done(onboarding=onboarding)
        return _next(onboarding, "registration")
    if action == "register":
        if not is_admin:
            raise PermissionDenied("Only the agency's admins register a client.")
        if locked:
            wizard.onboarding_registration_done(onboarding=onboarding)
            return _next(onboarding, "registration")
        if form.is_valid():
            try:
                registration_form_submit(form=form, client=client)
            except RegistrationError as exc:
                form.add_error(None, str(exc))
            else:
                wizard.onboarding_registration_done(onboarding=onboarding)
                messages.success(request, "Submitted: carriers review the brand first, then the campaign.")
                return _next(onboarding, "registration")
    elif request.method == "POST":
        error = "Submit the details to carriers, or register later."
    pending = client.messaging_registration == Client.Registration.PENDING
    context = {
        "form": form,
        "registration": registration,
        "locked": locked,
        "is_admin": is_admin,
        "toll_free": kind_for(client) == A2PRegistration.Kind.TOLL_FREE,
        "pending": pending,
        "held": pending and holds_until_registered(agency_id=client.agency_id),
        "error": error,
    }
    return _page(request, onboarding, "registration", context, status=400 if form.errors or error else 200)


def _live(request, onboarding):
    error = None
    if request.method == "POST":
        try:
            client = wizard.onboarding_complete(onboarding=onboarding)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{client.name} is live: missed callers get a text from now on.")
            return redirect(reverse("home") + f"#client-{client.pk}")
    return _page(request, onboarding, "live", {"error": error}, status=400 if error else 200)


@login_required
@require_GET
def progress(request, pk: int):
    """What the progress bar polls."""
    onboarding = _onboarding(request, pk)
    client = onboarding.client
    return JsonResponse(
        {
            "progress": onboarding.progress,
            "label": onboarding.progress_label,
            "status": client.status,
            "error": client.provisioning_error if client.status == Client.Status.FAILED else "",
            "ready": client.status in (Client.Status.LIVE, Client.Status.PAUSED),
        }
    )


@login_required
@require_POST
def preview(request, pk: int):
    """The texts step's live preview: each posted body as the sample caller would get it (null where it does
    not render yet). Writes nothing."""
    onboarding = _onboarding(request, pk)
    form = OnboardingTemplatesForm(request.POST)
    form.is_valid()  # an empty or too long body simply has no preview
    bodies = {
        name: form.cleaned_data[name]
        for name in ("business_hours", "after_hours")
        if name in form.cleaned_data
    }
    return JsonResponse(wizard.onboarding_template_previews(client=onboarding.client, bodies=bodies))


@login_required
@require_POST
def retry(request, pk: int):
    onboarding = _onboarding(request, pk)
    try:
        wizard.onboarding_retry(onboarding=onboarding)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.info(request, "Trying again.")
    return redirect(
        request.POST.get("back") if request.POST.get("back", "").startswith("/agency/") else "home"
    )
