"""The onboarding wizard's writes and reads: an agency sets up a client step by step while its schema is
provisioned in a Celery task.

Steps (Onboarding.STEPS): profile → hours → number → templates → owner → test → registration → live. Each write validates its
step completely and only then opens the next one; coming back later resumes at the furthest step reached.
The client's schema is cloned by onboarding_provision (agency.tasks) as soon as the profile is saved, so it
is usually ready by the time the agency reaches the templates, which live in that schema."""

import logging
import re
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django_tenants.utils import schema_context

from accounts.hours import HoursError, parse_hours
from accounts.models import Agency, Client, Domain, Onboarding, User
from accounts.schemas import template_schema_ensure
from accounts.services import client_provision, invitation_create
from crm.models import Contact, Suppression
from messaging.models import Message, Template
from messaging.placeholders import render as render_template
from messaging.services import placeholder_context
from telephony.models import Call, NumberHolder
from telephony.numbers import (
    AvailableNumber,
    NumberError,
    NumberHeld,
    number_holder_check,
    number_holder_record,
    numbers_for,
)

log = logging.getLogger(__name__)

SAMPLE_CALLER = "Maria"

# What a missed caller of each kind of business is most likely to want, said in that trade's words. Used to
# prefill the templates; the agency edits them in the wizard.
INDUSTRY_TEMPLATES: dict[str, dict[str, str]] = {
    "plumbing": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}! Is it a leak or "
        "something urgent? Reply here and a plumber will get right back to you.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. We're closed right now; if water "
        "is leaking, reply URGENT with your address and we'll call you back as soon as we can.",
    },
    "hvac": {
        "business_hours": "Hi {caller_name}, sorry we missed you at {business_name}! Is your heating or AC "
        "acting up? Reply here and we'll get a technician back to you.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. We're closed right now; reply "
        "with what's wrong and we'll schedule you first thing.",
    },
    "electrical": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}! What do you need "
        "an electrician for? Reply here and we'll get right back to you.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. We're closed now; reply with "
        "the job and we'll get back to you first thing. If you smell burning, call 911.",
    },
    "roofing": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}! Need a repair or "
        "a quote? Reply here and we'll set up an inspection.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. We're closed right now; reply "
        "with your address and what happened and we'll call you back first thing.",
    },
    "dental": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}! Would you like to "
        "book an appointment? Reply here and our front desk will get back to you.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. Our office is closed; reply "
        "here and we'll get back to you when we open. For a dental emergency, say so and we'll call first.",
    },
    "medical": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}. Reply here to book "
        "or ask a question and our staff will get back to you. For an emergency call 911.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. The clinic is closed; reply "
        "here and we'll get back to you when we open. For an emergency call 911.",
    },
    "legal": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}. Reply with a short "
        "note about your matter and we'll get back to you today.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. Our office is closed; reply "
        "with a short note about your matter and we'll call you next business day.",
    },
    "auto": {
        "business_hours": "Hi {caller_name}, sorry we missed your call at {business_name}! What's going on "
        "with your vehicle? Reply here and we'll get you booked in.",
        "after_hours": "Hi {caller_name}, thanks for calling {business_name}. The shop is closed; reply with "
        "your vehicle and the problem and we'll get back to you first thing.",
    },
}


def industry_templates(industry: str) -> dict[str, str]:
    """The prefilled business-hours and after-hours texts for an industry ({} for the defaults)."""
    return dict(INDUSTRY_TEMPLATES.get(industry, {}))


# What the business dials on its own phone so that its carrier forwards unanswered calls to the Textback
# number (conditional call forwarding, "no answer"). Carriers differ; these are the common US codes.
CARRIER_FORWARDING_CODES = [
    ("AT&T", "*92{number}", "*93"),
    ("Verizon", "*71{number}", "*73"),
    ("T-Mobile", "**61*{number}#", "##61#"),
    ("Most landlines and VoIP", "*92{number}", "*93"),
]


def carrier_codes(number: str) -> list[tuple[str, str, str]]:
    digits = re.sub(r"\D", "", number)[-10:]
    return [(carrier, on.format(number=digits), off) for carrier, on, off in CARRIER_FORWARDING_CODES]


def _free_slug(name: str) -> str:
    base = (slugify(name)[:36].strip("-") or "client").lstrip("0123456789-") or "client"
    slug, n = base, 2
    while Client.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def onboarding_start(
    *,
    agency: Agency,
    actor: User,
    name: str,
    industry: str,
    timezone_name: str,
    average_job_value: Decimal,
    sender_name: str = "",
    booking_url: str = "",
    slug: str = "",
) -> Onboarding:
    """Record the client (no number yet) and its onboarding; provisioning is enqueued when this commits."""
    client = Client(
        agency=agency,
        slug=slug or _free_slug(name),
        name=name.strip(),
        industry=industry,
        timezone=timezone_name,
        average_job_value=average_job_value,
        sender_name=sender_name.strip(),
        booking_url=booking_url.strip(),
        schema_name="",
        status=Client.Status.PROVISIONING,
        business_hours=parse_hours("mon-fri 09:00-17:00"),
        went_live_at=None,
    )
    client.schema_name = Client.schema_name_for(client.slug)
    client.full_clean()
    client.save()
    Domain.objects.create(domain=client.host, tenant=client, is_primary=True)
    onboarding = Onboarding.objects.create(
        agency=agency,
        client=client,
        created_by=actor,
        reached="hours",
        progress=0,
        progress_label="Waiting for a worker",
    )
    transaction.on_commit(lambda: onboarding_enqueue(onboarding=onboarding))
    return onboarding


def onboarding_enqueue(*, onboarding: Onboarding) -> None:
    from .tasks import provision_onboarding

    provision_onboarding.delay(onboarding.pk)


def _progress(onboarding: Onboarding, percent: int, label: str) -> None:
    Onboarding.objects.filter(pk=onboarding.pk).update(progress=percent, progress_label=label[:120])


def onboarding_provision(*, onboarding_id: int) -> str:
    """The task's work: the client's schema, then its templates for its industry. Idempotent: a live client is
    not cloned again, and templates the agency already edited are left alone. A failure is recorded on the
    client (status failed, the reason) for the wizard to show, and can be retried."""
    onboarding = Onboarding.objects.select_related("client__agency").get(pk=onboarding_id)
    client = onboarding.client
    if client.status in (Client.Status.PROVISIONING, Client.Status.FAILED):
        _progress(onboarding, 10, "Preparing the business's database")
        try:
            template_schema_ensure()
            _progress(onboarding, 40, "Copying the business's database")
            client = client_provision(client=client)
        except Exception as exc:
            _progress(onboarding, 0, f"Failed: {exc}")
            return "failed"
    onboarding.refresh_from_db()
    if not onboarding.templates_saved:
        _progress(onboarding, 80, "Writing the text-back templates")
        bodies = industry_templates(client.industry)
        with schema_context(client.schema_name):
            for kind, body in bodies.items():
                Template.objects.filter(kind=kind).update(body=body)
    _progress(onboarding, 100, "Ready")
    return "ready"


def onboarding_retry(*, onboarding: Onboarding) -> None:
    client = onboarding.client
    if client.status != Client.Status.FAILED:
        raise ValidationError("Only a failed setup can be retried.")
    _progress(onboarding, 0, "Waiting for a worker")
    transaction.on_commit(lambda: onboarding_enqueue(onboarding=onboarding))


def _open_next(onboarding: Onboarding, step: str) -> None:
    following = Onboarding.STEPS[Onboarding.STEPS.index(step) + 1]
    if not onboarding.may_open(following):
        onboarding.reached = following
        onboarding.save(update_fields=["reached"])


@transaction.atomic
def onboarding_profile_save(
    *,
    onboarding: Onboarding,
    name: str,
    industry: str,
    timezone_name: str,
    average_job_value: Decimal,
    sender_name: str = "",
    booking_url: str = "",
) -> None:
    client = Client.objects.select_for_update().get(pk=onboarding.client_id)
    client.name, client.industry, client.timezone = name.strip(), industry, timezone_name
    client.average_job_value, client.sender_name = average_job_value, sender_name.strip()
    client.booking_url = booking_url.strip()
    client.full_clean()
    client.save(
        update_fields=["name", "industry", "timezone", "average_job_value", "sender_name", "booking_url"]
    )


@transaction.atomic
def onboarding_hours_save(*, onboarding: Onboarding, hours_text: str) -> None:
    try:
        hours = parse_hours(hours_text)
    except HoursError as exc:
        raise ValidationError({"hours": str(exc)}) from None
    Client.objects.filter(pk=onboarding.client_id).update(business_hours=hours)
    _open_next(onboarding, "hours")


AREA_CODE = re.compile(r"^[2-9]\d{2}$")


def onboarding_number_search(*, agency, area_code: str) -> list[AvailableNumber]:
    """Local numbers the agency's carrier offers in this US area code."""
    area_code = area_code.strip()
    if not AREA_CODE.match(area_code):
        raise ValidationError({"area_code": "Enter a three-digit US area code, e.g. 312."})
    try:
        return numbers_for(agency).search(area_code=area_code)
    except NumberError as exc:
        raise ValidationError({"area_code": str(exc)}) from None


def onboarding_number_save(
    *,
    onboarding: Onboarding,
    phone_number: str,
    call_mode: str,
    forward_to: str | None,
    messaging_registration: str = Client.Registration.NOT_NEEDED,
    buy: bool = False,
) -> None:
    """Buy `phone_number` (buy=True) or take it from the agency's Twilio account, point it at our webhooks, and
    record it with how calls are routed. Everything that can be checked here is checked before the provider is
    asked, so a number is not bought for a form that then fails. Its uniqueness across clients routes calls."""
    field = "buy_number" if buy else "phone_number"
    client = Client.objects.get(pk=onboarding.client_id)
    client.phone_number, client.call_mode, client.forward_to = phone_number, call_mode, forward_to or None
    client.messaging_registration = messaging_registration
    if call_mode == Client.CallMode.FORWARD and not forward_to:
        raise ValidationError({"forward_to": "Forward mode needs the business's phone to ring (forward-to)."})
    if forward_to and str(forward_to) == str(phone_number):
        raise ValidationError({"forward_to": "The forward-to phone cannot be the text-back number itself."})
    if Client.objects.filter(phone_number=phone_number).exclude(pk=client.pk).exists():
        raise ValidationError({field: "Another client already uses this number."})
    try:
        number_holder_check(phone_number=str(phone_number), agency=client.agency)
    except NumberHeld as exc:
        raise ValidationError({field: str(exc)}) from None
    try:
        client.full_clean(exclude=["phone_number"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None

    previous = Client.objects.values("phone_number", "number_sid", "number_bought").get(pk=client.pk)
    if str(previous["phone_number"] or "") == str(phone_number) and previous["number_sid"]:
        held_sid, bought = previous["number_sid"], previous["number_bought"]  # already ours and pointed at us
    else:
        try:
            numbers = numbers_for(client.agency)
            held = (
                numbers.buy(phone_number=str(phone_number))
                if buy
                else numbers.adopt(phone_number=str(phone_number))
            )
        except NumberError as exc:
            raise ValidationError({field: str(exc)}) from None
        held_sid, bought = held.sid, buy
        if previous["number_bought"] and previous["number_sid"]:
            _release_replaced(previous["number_sid"], agency=client.agency)
    try:
        with transaction.atomic():
            Client.objects.filter(pk=client.pk).update(
                phone_number=phone_number,
                call_mode=call_mode,
                forward_to=forward_to or None,
                number_sid=held_sid,
                number_bought=bought,
                messaging_registration=messaging_registration,
            )
            number_holder_record(phone_number=str(phone_number), agency=client.agency, client=client)
            _open_next(onboarding, "number")
    except IntegrityError:
        raise ValidationError({field: "Another client already uses this number."}) from None
    except NumberHeld as exc:
        raise ValidationError({field: str(exc)}) from None
    opt_outs_follow_the_number(client=Client.objects.get(pk=client.pk))


def opt_outs_follow_the_number(*, client: Client) -> int:
    """A number that served another client of the agency (one offboarded, say) brings that client's opt-outs
    along: a caller who texted STOP to this number is not texted from it again by the next business. Copied
    into the client's schema once it exists (here, and again when it goes live); returns how many."""
    holder = NumberHolder.objects.filter(phone_number=str(client.phone_number or ""), client=client).first()
    if holder is None or holder.previous_client_id is None:
        return 0
    if client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        return 0  # the schema is still being made; onboarding_complete copies them
    previous = Client.objects.get(pk=holder.previous_client_id)
    with schema_context(previous.schema_name):
        numbers = list(Suppression.objects.values_list("phone_number", flat=True))
    with schema_context(client.schema_name):
        Suppression.objects.bulk_create([Suppression(phone_number=n) for n in numbers], ignore_conflicts=True)
        Contact.objects.filter(phone_number__in=numbers, opted_out=False).update(opted_out=True)
    return len(numbers)


def _release_replaced(sid: str, *, agency) -> None:
    """The agency chose another number after buying one: give the first one back (or say so in the log)."""
    try:
        numbers_for(agency).release(sid=sid)
    except NumberError as exc:
        log.warning("could not release replaced number %s: %s", sid, exc)


def onboarding_template_previews(*, client: Client, bodies: Mapping[str, str]) -> dict[str, str | None]:
    """Each body as Maria would get it from this client; None for one that does not render."""
    context = placeholder_context(client=client, caller_name=SAMPLE_CALLER)
    previews: dict[str, str | None] = {}
    for kind, body in bodies.items():
        try:
            previews[kind] = render_template(body, context=context)
        except ValueError:
            previews[kind] = None
    return previews


def onboarding_templates(*, client: Client) -> dict[str, str]:
    """The client's current business-hours and after-hours texts (its schema must exist)."""
    with schema_context(client.schema_name):
        return dict(
            Template.objects.filter(kind__in=["business_hours", "after_hours"]).values_list("kind", "body")
        )


@transaction.atomic
def onboarding_templates_save(*, onboarding: Onboarding, bodies: dict[str, str]) -> None:
    client = onboarding.client
    if client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        raise ValidationError("The business's database is still being set up; wait for the progress bar.")
    errors = {}
    with schema_context(client.schema_name):
        for kind, body in bodies.items():
            template = Template.objects.get(kind=kind)
            template.body = body.strip()
            try:
                template.full_clean()
            except ValidationError as exc:
                errors[kind] = exc.message_dict.get("body", exc.messages)
                continue
            template.save(update_fields=["body", "updated_at"])
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise ValidationError(errors)
    Onboarding.objects.filter(pk=onboarding.pk).update(templates_saved=True)
    onboarding.templates_saved = True
    _open_next(onboarding, "templates")


@transaction.atomic
def onboarding_owner_invite(*, onboarding: Onboarding, actor: User, email: str) -> None:
    """Invite the business's owner (or skip with an empty email: the agency can do it later on the team page)."""
    if email.strip():
        invitation_create(email=email, role="owner", invited_by=actor, client=onboarding.client)
    _open_next(onboarding, "owner")


@transaction.atomic
def onboarding_test_number_add(*, onboarding: Onboarding, number: str) -> None:
    """A phone the agency tests with: its missed calls are texted back before the client goes live."""
    client = Client.objects.select_for_update().get(pk=onboarding.client_id)
    if client.phone_number and number == str(client.phone_number):
        raise ValidationError({"number": "Call the text-back number from another phone, not from itself."})
    if number not in client.test_numbers:
        client.test_numbers = [*client.test_numbers, number]
        client.save(update_fields=["test_numbers"])


def onboarding_test_numbers(*, client: Client) -> list[str]:
    """Every phone whose calls are texted back while onboarding: the forward-to phone, then those added."""
    numbers = [str(client.forward_to)] if client.forward_to else []
    return numbers + [number for number in client.test_numbers if number not in numbers]


def onboarding_test_done(*, onboarding: Onboarding) -> None:
    _open_next(onboarding, "test")


def onboarding_registration_done(*, onboarding: Onboarding) -> None:
    """The registration step is passed: submitted to carriers, or left for later ("register later"; the client's
    messaging_registration stays as the number step set it, so the agency's hold-until-registered choice
    applies to its text-backs until it is registered)."""
    _open_next(onboarding, "registration")


def onboarding_recent_activity(*, client: Client, limit: int = 5) -> dict:
    """The latest calls and texts in the client's schema: what the test step watches arrive."""
    if client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        return {"calls": [], "messages": []}
    with schema_context(client.schema_name):
        return {
            "calls": list(Call.objects.order_by("-started_at")[:limit]),
            "messages": list(Message.objects.order_by("-created_at")[:limit]),
        }


@transaction.atomic
def onboarding_complete(*, onboarding: Onboarding) -> Client:
    client = Client.objects.select_for_update().get(pk=onboarding.client_id)
    if client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        raise ValidationError("The business's database is not ready yet.")
    if not client.phone_number:
        raise ValidationError("The business has no number yet: go back to the number step.")
    if not onboarding.may_open("live"):
        raise ValidationError("Finish the earlier steps first.")
    opt_outs_follow_the_number(client=client)
    at = timezone.now()
    Onboarding.objects.filter(pk=onboarding.pk).update(completed_at=at)
    client.went_live_at = at
    client.save(update_fields=["went_live_at"])
    return client
