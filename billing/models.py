"""Billing, all in the public schema: what the platform charges agencies (Plan, AgencyBilling), what an agency
charges each client (ClientPrice), what each client used (UsageEvent, MonthlyUsage), the warnings sent about it
(UsageWarning), and closed months (Statement).

Usage is counted per client per calendar month in the agency's time zone (AgencyBilling.time_zone): an agency
bills all its clients on one calendar, whatever their own time zones.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.timezone import now

from accounts.models import Agency, Client, User, validate_timezone

DEFAULT_TIME_ZONE = "America/New_York"
_money = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}
# Per-unit rates carry four places: carriers price a segment in fractions of a cent.
_rate = {"max_digits": 12, "decimal_places": 4, "validators": [MinValueValidator(Decimal("0"))]}


class Plan(models.Model):
    """What the platform charges an agency each month. Included segments are per active client (a client that
    held a number or had any usage in the month) and pooled over the agency's clients."""

    name = models.CharField(max_length=80, unique=True)
    currency = models.CharField(max_length=3, default="USD")
    monthly_price = models.DecimalField(default=Decimal("0"), **_money)
    price_per_active_client = models.DecimalField(default=Decimal("0"), **_money)
    included_segments_per_client = models.PositiveIntegerField(default=0)
    overage_per_segment = models.DecimalField(default=Decimal("0"), **_rate)
    price_per_voice_minute = models.DecimalField(default=Decimal("0"), **_rate)
    price_per_lookup = models.DecimalField(default=Decimal("0"), **_rate)

    def __str__(self) -> str:
        return self.name


class AgencyBilling(models.Model):
    """An agency's billing settings: its plan, the time zone its months are counted in, and what its clients'
    owners get to see."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="billing")
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="agencies")
    time_zone = models.CharField(max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_timezone])
    billing_email = models.EmailField(
        blank=True, help_text="Usage warnings go here and to the agency's admins."
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "agency billing"
        verbose_name_plural = "agency billing"

    def __str__(self) -> str:
        return f"Billing of {self.agency}"


class ClientPrice(models.Model):
    """What an agency charges one client (its rebilling, with its markup), and what happens above the included
    usage. Without a row, a client gets the agency plan's included segments and keeps sending."""

    class OverLimit(models.TextChoices):
        BILL_OVERAGE = "overage", "Keep sending and bill the overage"
        PAUSE = "pause", "Pause text-backs until next month"

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="price")
    monthly_price = models.DecimalField(default=Decimal("0"), **_money)
    included_segments = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the agency plan's included segments per client."
    )
    price_per_segment = models.DecimalField(
        default=Decimal("0"), help_text="Charged for each segment above the included ones.", **_rate
    )
    price_per_voice_minute = models.DecimalField(default=Decimal("0"), **_rate)
    over_limit = models.CharField(max_length=10, choices=OverLimit.choices, default=OverLimit.BILL_OVERAGE)
    owner_sees_statement = models.BooleanField(
        default=False, help_text="The client's owners may read their statement on the client's host."
    )
    warn_owner = models.BooleanField(
        default=False, help_text="Usage warnings also go to the client's owners."
    )
    billing_email = models.EmailField(
        blank=True,
        help_text="Where the agency's Stripe invoices for this client go; empty: the client's first owner.",
    )

    def __str__(self) -> str:
        return f"Price for {self.client}"


class UsageKind(models.TextChoices):
    SEGMENTS_OUT = "segments_out", "SMS segments sent"
    SEGMENTS_IN = "segments_in", "SMS segments received"
    CALLS = "calls", "Calls"
    VOICE_MINUTES = "voice_minutes", "Voice minutes"
    LOOKUPS = "lookups", "Line-type look-ups"


class UsageEvent(models.Model):
    """One billable event, once: unique per (client, kind, source), so a repeated webhook or a retried task
    counts nothing twice. ``source`` names what was counted ("message:<id>", "call:<CallSid>", …)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=UsageKind.choices)
    source = models.CharField(max_length=100)
    month = models.DateField(help_text="First day of the month, in the agency's time zone.")
    quantity = models.PositiveIntegerField()
    # What the provider said it cost (Twilio sends it negative; stored as a positive amount), for reconciling.
    provider_price = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    provider_price_unit = models.CharField(max_length=3, blank=True)
    occurred_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "kind", "source"], name="one_usage_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} ×{self.quantity}"


class MonthlyUsage(models.Model):
    """A client's counters for one month, kept in step with its UsageEvents in the same transaction."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    segments_out = models.PositiveIntegerField(default=0)
    segments_in = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    voice_minutes = models.PositiveIntegerField(default=0)
    lookups = models.PositiveIntegerField(default=0)
    numbers_held = models.PositiveSmallIntegerField(default=0)
    provider_cost = models.DecimalField(max_digits=12, decimal_places=5, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "month"], name="one_usage_row_per_month")]
        verbose_name_plural = "monthly usage"

    def __str__(self) -> str:
        return f"{self.client} {self.month:%Y-%m}"

    @property
    def segments(self) -> int:
        return self.segments_out + self.segments_in


class UsageWarning(models.Model):
    """A warning sent about a client's usage: at most one per threshold per client per month."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the included segments: 80 or 100.")
    segments = models.PositiveIntegerField(help_text="Segments used when it was sent.")
    included = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "month", "threshold"], name="one_warning_per_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.month:%Y-%m} {self.threshold}%"


class Statement(models.Model):
    """A closed month: a stored snapshot of its line items and total that later usage never changes.

    ``kind`` platform: what the platform charges the agency (client empty). ``kind`` client: what the agency
    charges one client."""

    class Kind(models.TextChoices):
        PLATFORM = "platform", "Platform charges to the agency"
        CLIENT = "client", "Agency charges to the client"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    currency = models.CharField(max_length=3, default="USD")
    lines = models.JSONField(
        help_text="[{description, quantity, unit_price, amount}] with amounts as strings."
    )
    total = models.DecimalField(max_digits=12, decimal_places=2)
    closed_at = models.DateTimeField(default=now)
    payment_reference = models.CharField(max_length=120, blank=True)
    payment_error = models.CharField(max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "kind", "client_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "month"], condition=models.Q(kind="platform"), name="one_platform_statement"
            ),
            models.UniqueConstraint(
                fields=["client", "month"], condition=models.Q(kind="client"), name="one_client_statement"
            ),
        ]

    def __str__(self) -> str:
        who = self.client or self.agency
        return f"{self.get_kind_display()}: {who} {self.month:%Y-%m}"


# --- Agencies billing their clients through their own Stripe account (billing.connect) ---------------------


class StripeConnection(models.Model):
    """An agency's own Stripe account, connected with Stripe Connect (OAuth, a Standard account). Only the
    account's id is kept: the platform's key acts on the account with the Stripe-Account header, so no token or
    key of the agency's is stored. Disconnecting deletes the row; invoices already sent stay on the account."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="stripe_connection")
    account_id = models.CharField(max_length=64, unique=True)
    account_name = models.CharField(max_length=200, blank=True)
    account_email = models.EmailField(blank=True)
    livemode = models.BooleanField(default=False)
    connected_at = models.DateTimeField(default=now)
    connected_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invoice_clients = models.BooleanField(
        default=False,
        help_text="Each client statement closed from now on becomes a Stripe invoice on this account, emailed "
        "to the client with a link to pay by card.",
    )
    # Statements closed before invoicing was switched on are never sent (they were billed some other way).
    invoicing_since = models.DateTimeField(null=True, blank=True)
    pause_on_failed_payment = models.BooleanField(
        default=False,
        help_text="When a client's card payment fails, pause its text-backs until the invoice is paid "
        "(the client's owners and your admins are told either way).",
    )
    days_until_due = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )

    def __str__(self) -> str:
        return f"{self.agency}: Stripe {self.account_id}"


class ClientStripeCustomer(models.Model):
    """The Stripe customer a client is on an agency's connected account: made once, reused every month."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    account_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "account_id"], name="one_stripe_customer_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.customer_id} on {self.account_id}"


class ClientInvoice(models.Model):
    """A closed client statement sent as a Stripe invoice on the agency's connected account: one per
    statement, whatever the task or Stripe repeats. Its status follows Stripe's webhooks."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being sent"
        ERROR = "error", "Could not be sent"
        OPEN = "open", "Sent, awaiting payment"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        PAID = "paid", "Paid"
        VOID = "void", "Voided"
        UNCOLLECTIBLE = "uncollectible", "Marked uncollectible"

    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="invoice")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    account_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64, blank=True)
    invoice_id = models.CharField(max_length=64, blank=True)
    lines_added = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    error = models.CharField(max_length=255, blank=True)
    # True while text-backs are paused because of this invoice (the agency's choice): paying it resumes them.
    paused_client = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "invoice_id"],
                condition=~models.Q(invoice_id=""),
                name="one_row_per_stripe_invoice",
            )
        ]

    def __str__(self) -> str:
        return f"Invoice {self.invoice_id or '(not yet)'} for {self.statement}"

    @property
    def payable(self) -> bool:
        """The client can pay it now, on Stripe's hosted invoice page."""
        return bool(self.hosted_invoice_url) and self.status in (self.Status.OPEN, self.Status.PAYMENT_FAILED)


class StripeEvent(models.Model):
    """A webhook event from Stripe, once: a redelivered event finds its row and changes nothing."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    account_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
