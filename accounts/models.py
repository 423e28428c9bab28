"""Who and what lives in the public schema: agencies, their clients (the django-tenants tenants), the hosts
clients are served on, people and their memberships."""

import re
import zoneinfo
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.timezone import now
from django_tenants.models import DomainMixin, TenantMixin
from phonenumber_field.modelfields import PhoneNumberField

from . import client_cache
from .hours import HoursError, is_open, validate_closures, validate_hours

if TYPE_CHECKING:
    from django_otp.models import Device

# Host labels we never hand to a client: they are, or may become, the platform's own.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "app",
        "hooks",
        "static",
        "media",
        "mail",
        "smtp",
        "status",
        "help",
        "support",
        "public",
        "template",
        "client-template",
        "dashboard",
        "login",
        "auth",
        "billing",
    }
)
slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$",
    "Use 2–40 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.",
)


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved; choose another.")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone; use an IANA name such as America/Chicago.")


def validate_business_hours(value) -> None:
    try:
        validate_hours(value)
    except HoursError as exc:
        raise ValidationError(str(exc)) from None


def validate_business_closures(value) -> None:
    try:
        validate_closures(value)
    except HoursError as exc:
        raise ValidationError(str(exc)) from None


def validate_booking_url(value: str) -> None:
    """A web page: http(s), a real host name, no credentials (a link we send callers must not carry them)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        raise ValidationError("Enter the full address of a web page, starting with https://.")
    if parts.username or parts.password:
        raise ValidationError("Leave the user name and password out of the link.")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: platform operator (is_staff), agency admin or staff, client owner or staff.

    Email is the login; it is stored lower-cased so that one address is one person."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform operator: may use the Django admin.")
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # Not a column: the second factor this session was verified with, set on the logged-in person by
    # django-otp's OTPMiddleware (and by our login views just before login(), which records it in the session).
    otp_device: "Device | None"

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()


# What an agency on Telnyx needs the platform to have (config/settings/base.py).
TELNYX_SETTINGS = (
    "TELNYX_API_KEY",
    "TELNYX_PUBLIC_KEY",
    "TELNYX_MESSAGING_PROFILE_ID",
    "TELNYX_TEXML_APP_ID",
)


class Agency(models.Model):
    """A marketing agency: our customer, who resells Textback to its clients under its own brand."""

    slug = models.SlugField(
        max_length=40, unique=True, validators=[slug_validator, validate_slug_not_reserved]
    )
    name = models.CharField(max_length=120)
    brand_name = models.CharField(
        max_length=120, blank=True, help_text="Shown to clients; the name if empty."
    )
    brand_color = models.CharField(
        max_length=7, default="#2563eb", validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use #RRGGBB.")]
    )
    support_email = models.EmailField(blank=True)
    support_phone = PhoneNumberField(blank=True, help_text="Shown to the agency's clients for help.")

    class Carrier(models.TextChoices):
        TWILIO = "twilio", "Twilio"
        TELNYX = "telnyx", "Telnyx"

    # Which carrier carries the calls and texts of the agency's clients (messaging.carriers); set by an operator
    # (it decides which account pays). Empty: the platform's default, TELEPHONY_PROVIDER.
    carrier = models.CharField(max_length=10, choices=Carrier.choices, blank=True)
    # The logo is kept in the database and served from our own host (/brand/logo): the CSP admits images from
    # 'self' only, and an agency's logo must not depend on a third party's host staying up.
    logo = models.BinaryField(null=True, blank=True, editable=True)
    logo_content_type = models.CharField(max_length=20, blank=True)
    logo_updated_at = models.DateTimeField(null=True, blank=True)
    # Where the logo was fetched from, when the agency gave a URL rather than a file. The image itself is
    # fetched once and kept in `logo` like an upload (same checks), for the reasons above.
    logo_url = models.URLField(max_length=500, blank=True)
    # The agency's own host asks for trust we cannot give by default: its owner controls where it points, so a
    # page served there, or a link sent to it, is in the agency's hands. It is pending until the agency proves it
    # holds the domain with a DNS TXT record (accounts.domains); until then it serves nothing and no email links
    # to it. Several agencies may ask for one domain; only one can hold it verified (the constraint below).
    custom_domain = models.CharField(  # noqa: DJ001 - NULL is "none"; the many agencies without one are not alike
        max_length=253,
        null=True,
        blank=True,
        help_text="The agency's own host for its dashboard, e.g. app.youragency.com.",
    )
    custom_domain_token = models.CharField(
        max_length=64,
        blank=True,
        help_text="What the domain's DNS TXT record must hold to prove it is the agency's.",
    )
    custom_domain_verified_at = models.DateTimeField(null=True, blank=True)
    custom_domain_checked_at = models.DateTimeField(null=True, blank=True)
    custom_domain_check_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["custom_domain"],
                condition=models.Q(custom_domain_verified_at__isnull=False),
                name="one_verified_custom_domain",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        missing = [name for name in TELNYX_SETTINGS if not getattr(settings, name, "")]
        if self.carrier == self.Carrier.TELNYX and missing:
            raise ValidationError(
                {"carrier": f"Set {', '.join(missing)} first: this platform has no Telnyx yet."}
            )

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name

    @property
    def verified_domain(self) -> str | None:
        """The custom domain, once verified; None while it is pending. The only one pages and links may use."""
        return self.custom_domain if self.custom_domain and self.custom_domain_verified_at else None


class ClientQuerySet(models.QuerySet):
    """Writes through a queryset make every cached client stale (accounts.client_cache), as `save()` does."""

    def update(self, **kwargs):
        changed = super().update(**kwargs)
        client_cache.forget()
        return changed

    def bulk_update(self, objs, fields, batch_size=None):
        changed = super().bulk_update(objs, fields, batch_size=batch_size)
        client_cache.forget()
        return changed

    def delete(self):
        deleted = super().delete()
        client_cache.forget()
        return deleted


class Client(TenantMixin):
    """A local business an agency serves: the django-tenants tenant, with a PostgreSQL schema of its own.

    What the call webhooks need before they can even pick the schema (the number, how calls are routed,
    timing) lives on this public row, so one indexed lookup by the called number answers a call."""

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Provisioning"
        FAILED = "failed", "Provisioning failed"
        LIVE = "live", "Live"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Offboarded"  # no host, no number, no webhooks; the schema is kept

    class Industry(models.TextChoices):
        PLUMBING = "plumbing", "Plumbing"
        HVAC = "hvac", "Heating and cooling"
        ELECTRICAL = "electrical", "Electrical"
        ROOFING = "roofing", "Roofing"
        DENTAL = "dental", "Dental"
        MEDICAL = "medical", "Medical clinic"
        LEGAL = "legal", "Legal"
        AUTO = "auto", "Auto repair"
        CLEANING = "cleaning", "Cleaning"
        LANDSCAPING = "landscaping", "Landscaping"
        OTHER = "other", "Other"

    class Registration(models.TextChoices):
        NOT_NEEDED = "not_needed", "Not needed"
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"

    class CallMode(models.TextChoices):
        FORWARD = "forward", "Forward: we ring the business, then text back if nobody answers"
        CARRIER = "carrier", "Carrier forwarding: the business's carrier forwards unanswered calls to us"

    # Creating the schema is the provisioning service's job (cloned from the template), not save()'s.
    auto_create_schema = False

    objects = ClientQuerySet.as_manager()

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="clients")
    slug = models.SlugField(
        max_length=40, unique=True, validators=[slug_validator, validate_slug_not_reserved]
    )
    name = models.CharField(max_length=120)
    sender_name = models.CharField(
        max_length=60,
        blank=True,
        help_text="The name texts are signed with ({sender_name}), e.g. “Mike at Acme”; the business name if empty.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROVISIONING)
    provisioning_error = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="America/New_York", validators=[validate_timezone])

    phone_number = PhoneNumberField(
        unique=True, null=True, blank=True, help_text="The business's Textback number (E.164); routes calls."
    )
    # The number at the provider (Twilio's PN… sid), once the wizard bought it or pointed an existing one at
    # our webhooks; a number we bought is released again when the client is offboarded.
    number_sid = models.CharField(max_length=34, blank=True)
    number_bought = models.BooleanField(default=False)
    forward_to = PhoneNumberField(null=True, blank=True, help_text="Where calls ring in forward mode.")
    # Carrier-forwarding mode: the business's own number, once Twilio hosts it for texting (Hosted SMS, ordered in
    # deliverability.hosting). Texts then go from it, so the caller sees the number they dialled; calls keep
    # coming to phone_number. Read with the row: choosing the sender costs no query (texts_from).
    hosted_sms_number = PhoneNumberField(
        unique=True,
        null=True,
        blank=True,
        help_text="The business's own number, hosted at Twilio for texting: texts go from it once hosting is done.",
    )
    # US carriers filter texts from a local (10DLC) number until its A2P campaign is registered. We do not
    # register it (the agency does, in Twilio); the agency records where it stands and the dashboard warns.
    messaging_registration = models.CharField(
        max_length=12,
        choices=Registration.choices,
        default=Registration.NOT_NEEDED,
        verbose_name="Messaging registration (US A2P 10DLC)",
        help_text="Until the number's A2P 10DLC campaign is approved, US carriers may filter its texts.",
    )
    call_mode = models.CharField(max_length=10, choices=CallMode.choices, default=CallMode.FORWARD)
    ring_timeout_seconds = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(5), MaxValueValidator(60)]
    )
    # When nobody answers (forward mode) or the carrier forwards a call: the caller may leave a voicemail, which
    # lands in the thread with its transcript; the text-back goes out either way. Off: the greeting, then goodbye.
    voicemail = models.BooleanField(
        default=True,
        help_text="Callers nobody answered may leave a voicemail; off, the call ends after the greeting.",
    )
    voicemail_max_seconds = models.PositiveSmallIntegerField(
        default=120, validators=[MinValueValidator(10), MaxValueValidator(600)]
    )
    # What that caller hears (<Say>) before the tone, or before goodbye with voicemail off; empty: the default,
    # which names the business (telephony.voicemail.default_greeting), so a rename needs no second edit.
    voicemail_greeting = models.CharField(
        max_length=300,
        blank=True,
        help_text="What a caller nobody answered hears; empty for the default, which names the business.",
    )
    min_ring_seconds = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(60)],
        help_text="A caller who hangs up sooner is not texted (an early hang-up is not a missed call).",
    )
    text_delay_seconds = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(3600)])
    suppress_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 30)],
        help_text="Text a caller at most once in this many hours.",
    )
    business_hours = models.JSONField(default=dict, blank=True, validators=[validate_business_hours])
    # Holidays and one-off closures: [{"start": "2026-12-24", "end": "2026-12-26", "label": "Christmas"}], days
    # inclusive, in the client's time zone. Closed days count as after hours whatever business_hours says.
    closures = models.JSONField(default=list, blank=True, validators=[validate_business_closures])
    response_target_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="A caller's reply waiting longer than this in business hours, unanswered, is escalated.",
    )
    industry = models.CharField(max_length=20, choices=Industry.choices, blank=True)
    average_job_value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="What a typical job is worth; reports use it to estimate booked jobs that have no value yet.",
    )
    # A missed-call audit for a prospect (reports.call_audit): from call_audit_started_at its calls are forwarded
    # and recorded as usual, and nobody is texted; the report covers call_audit_days days from that day. Turning it
    # into a live client sets call_audit_converted_at: text-backs start, and the audit's calls stay its history.
    call_audit_started_at = models.DateTimeField(null=True, blank=True)
    call_audit_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    call_audit_converted_at = models.DateTimeField(null=True, blank=True)
    # Of the callers who reply, how many become a job, in percent: the report's estimate for replies that were
    # not (yet) booked or won. Empty: no such estimate.
    reply_conversion_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of replies that become a job; reports use it to estimate replies not yet booked.",
    )
    # The caller's next steps after the first text (issue 20). The booking link is the business's own page; our
    # texts carry it through a short redirect on the platform host (messaging.links), which counts the clicks.
    booking_url = models.URLField(
        max_length=500,
        blank=True,
        validators=[validate_booking_url],
        help_text="The business's online booking page ({booking_url} in texts, and the BOOK keyword's answer).",
    )
    followup_after_hours = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(72)],
        help_text="One follow-up text when the caller has not replied after this many hours; 0 for none.",
    )
    # The caller's allowed hours on their own clock (from the number's area code), e.g. 8:00-21:00; a
    # follow-up due outside them waits for the next allowed time.
    followup_window_start = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="Hour of the day, caller's local time."
    )
    followup_window_end = models.PositiveSmallIntegerField(
        default=21, validators=[MinValueValidator(1), MaxValueValidator(24)], help_text="Hour of the day."
    )
    followup_state_rules = models.BooleanField(
        default=True,
        help_text="Also keep to the stricter hours some US states set for texts (messaging.quiet_hours).",
    )
    urgent_keywords = models.BooleanField(
        default=True, help_text="A caller texting URGENT or EMERGENCY alerts the on-call person at once."
    )
    book_keywords = models.BooleanField(
        default=True, help_text="A caller texting BOOK or SCHEDULE gets the booking link."
    )
    # What suggested replies may tell callers (inbox.suggestions), besides the hours and the booking link: only
    # what the business wrote here, so a draft never makes up a service, an area or a price.
    facts_services = models.TextField(
        blank=True, max_length=1000, help_text="What the business does, e.g. “Drain cleaning, water heaters”."
    )
    facts_area = models.CharField(
        max_length=300, blank=True, help_text="Where it works, e.g. “Chicago and the north suburbs”."
    )
    facts_prices = models.TextField(
        blank=True,
        max_length=1000,
        help_text="Prices it chooses to share, e.g. “Service call $89”; empty means drafts never quote prices.",
    )
    # The AI receptionist (messaging.receptionist): off unless the client switches it on, inside these limits.
    receptionist_on = models.BooleanField(
        default=False,
        help_text="A language model answers callers' questions your facts cover, and hands anything else to you.",
    )
    receptionist_max_replies = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="At most this many AI texts in one conversation; then a person takes over.",
    )
    receptionist_prices = models.BooleanField(
        default=False,
        help_text="It may quote the prices you share; otherwise price questions go to a person.",
    )
    # What a caller's reply is about (messaging.intents) can act, per client.
    emergency_alerts = models.BooleanField(
        default=True, help_text="A reply that reads as an emergency alerts the on-call person at once."
    )
    wrong_number_closes = models.BooleanField(
        default=True,
        help_text="A reply saying it's a wrong number closes the conversation and tags the contact.",
    )
    spam_hidden = models.BooleanField(
        default=True,
        help_text="A reply that reads as spam is filed away: closed, not unread, nobody alerted.",
    )
    oncall_user = models.ForeignKey(
        "User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who URGENT and EMERGENCY alert, on the mobile they confirmed in their notifications.",
    )
    oncall_call = models.BooleanField(
        default=False, help_text="Also ring the on-call person's mobile for an URGENT or EMERGENCY text."
    )
    # Stamped by the Twilio webhooks at most once a minute (accounts.services.client_webhook_seen): the
    # dashboard's "last webhook received", which tells an agency a number is not pointed at us.
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    # A client made with the wizard is not live until the agency says so at its last step: its host, number
    # and webhooks work (status live or paused), but only the phones it tests with get text-backs. Kept apart
    # from `status`, which says whether the client is served at all (the webhooks admit live and paused
    # clients). Clients made by the command or the API go live at once (the default).
    went_live_at = models.DateTimeField(
        null=True, blank=True, default=now, help_text="Empty while onboarding: only test phones get texts."
    )
    test_numbers = models.JSONField(
        default=list, blank=True, help_text="E.164 numbers whose calls are texted back before going live."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        client_cache.forget()  # webhooks find clients from a cache (accounts.client_cache)

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        client_cache.forget()
        return deleted

    def __str__(self) -> str:
        return self.name

    @property
    def texts_from(self) -> str:
        """The number the client's texts (text-backs, replies, follow-ups) go from: the business's own number once
        Twilio hosts it for texting, else the Textback number. No query: both are on this row."""
        return str(self.hosted_sms_number or self.phone_number or "")

    @property
    def host(self) -> str:
        """The client's host on the platform's domain: always served, whatever its agency's domain."""
        return f"{self.slug}.{settings.BASE_DOMAIN}"

    @property
    def branded_host(self) -> str:
        """The host the client's people are sent to: `<slug>.<agency's domain>` once the agency's own domain is
        verified (white label all the way down), else `host`. Reads the agency."""
        domain = self.agency.verified_domain
        return f"{self.slug}.{domain}" if domain else self.host

    @property
    def is_onboarding(self) -> bool:
        return self.status != self.Status.ARCHIVED and (
            self.status in (self.Status.PROVISIONING, self.Status.FAILED) or self.went_live_at is None
        )

    @property
    def in_call_audit(self) -> bool:
        """On a missed-call audit not yet turned into a live client: nobody is texted."""
        return self.call_audit_started_at is not None and self.call_audit_converted_at is None

    def textback_allowed_to(self, number: str) -> bool:
        """Whether a missed call from this number may be texted back yet: any caller once the client is live;
        before that only its test phones (those named in the wizard's test step, and the forward-to phone)."""
        if self.went_live_at is not None:
            return True
        return number in self.test_numbers or (bool(self.forward_to) and number == str(self.forward_to))

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(zoneinfo.ZoneInfo(self.timezone))

    def is_open_at(self, moment: datetime) -> bool:
        """Whether the business is open at this moment: its hours, in its time zone, unless closed that day."""
        return is_open(self.business_hours, self.local_time(moment), self.closures)

    @staticmethod
    def schema_name_for(slug: str) -> str:
        return "c_" + re.sub(r"[^a-z0-9]", "_", slug)


class Domain(DomainMixin):
    """A host name a client is served on (its <slug>.<BASE_DOMAIN>, later also custom ones)."""


class AgencyMembership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Agency admin"
        STAFF = "staff", "Agency staff"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agency_memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "agency"], name="one_agency_membership")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} of {self.agency}"


class ClientMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"
        READONLY = "readonly", "Read-only staff"  # sees everything, changes nothing

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="client_memberships")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="one_client_membership")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} of {self.client}"


class Invitation(models.Model):
    """An email invitation to join an agency (admin, staff) or a client (owner, staff, read-only staff).

    The link carries a random token; only its SHA-256 is stored, so a database leak hands out no logins."""

    email = models.EmailField()
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    role = models.CharField(max_length=10)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False, client__isnull=True)
                | models.Q(agency__isnull=True, client__isnull=False),
                name="invitation_to_agency_or_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.agency or self.client} ({self.role})"

    @property
    def owning_agency(self) -> Agency:
        """The agency it is to, or the agency of the client it is to: whose brand it carries."""
        if self.agency is not None:
            return self.agency
        assert self.client is not None  # to an agency or to a client (the constraint above)
        return self.client.agency

    @property
    def where(self) -> str:
        """What it is to, as its email and pages name it: the client's name, or the agency's brand name."""
        return self.client.name if self.client is not None else self.owning_agency.display_name


class AuditEntry(models.Model):
    """What agency people did to clients and to their team: who, when, which client. Agency admins read it."""

    class Action(models.TextChoices):
        OPEN_CLIENT = "open_client", "Opened the client's app"
        PAUSE = "pause", "Paused text-backs"
        RESUME = "resume", "Resumed text-backs"
        OFFBOARD = "offboard", "Offboarded"
        INVITE = "invite", "Invited"
        REMOVE_MEMBER = "remove_member", "Removed from the team"
        BRAND = "brand", "Changed the brand"
        STRIPE_CONNECT = "stripe_connect", "Connected a Stripe account"
        STRIPE_DISCONNECT = "stripe_disconnect", "Disconnected the Stripe account"
        STRIPE_SETTINGS = "stripe_settings", "Changed how clients are invoiced"

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "-created_at"], name="audit_agency_recent")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.client or ''}"


class Onboarding(models.Model):
    """An agency setting up a new client with the wizard: which step it has reached (each step is validated
    before the next opens, and the wizard can be left and resumed), and how far the provisioning task has got.

    The client counts as onboarding on the dashboard until the wizard's last step puts it live."""

    STEPS = ("profile", "hours", "number", "templates", "owner", "test", "registration", "live")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="onboardings")
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="onboarding")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    reached = models.CharField(
        max_length=12, default="hours", help_text="The furthest step that may be opened."
    )
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    progress_label = models.CharField(max_length=120, blank=True)
    templates_saved = models.BooleanField(default=False, help_text="Edited in the wizard: never overwrite.")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"Onboarding of {self.client}"

    def may_open(self, step: str) -> bool:
        return self.STEPS.index(step) <= self.STEPS.index(self.reached)
