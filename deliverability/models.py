"""Public tables: what carriers did with each client's texts, day by day, and what the agency chose to do about it.

Carriers judge a sender by its last days of traffic: how many recipients opt out, how much their filters catch
(30007), whether the number is registered (30034, toll-free 30032), how much cannot be delivered. These counts are
kept as the events happen (deliverability.receivers) so the agency sees the same rates carriers act on, for every
client at once, without entering any client's schema."""

from django.db import models
from django.utils.timezone import now

# The counters of a day. `attempted` is every text handed to the provider (accepted, or refused on the spot with an
# error code): the denominator of every rate.
COUNTERS = ("attempted", "opt_outs", "filtered", "unregistered", "undelivered", "failed")


class DeliverabilityDay(models.Model):
    """One client's texts for one UTC day (a carrier's window is days back from now, not the business's calendar).
    Each failed text is counted in exactly one of filtered, unregistered, undelivered, failed (in that order of
    precedence: the code says more than the status)."""

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    attempted = models.PositiveIntegerField(default=0)
    opt_outs = models.PositiveIntegerField(
        default=0, help_text="STOP keywords and carrier-reported opt-outs."
    )
    filtered = models.PositiveIntegerField(default=0, help_text="30007: caught by a carrier's spam filter.")
    unregistered = models.PositiveIntegerField(
        default=0, help_text="30034 (10DLC number not registered) or 30032 (toll-free not verified)."
    )
    undelivered = models.PositiveIntegerField(default=0, help_text="Any other 'undelivered' status.")
    failed = models.PositiveIntegerField(default=0, help_text="Any other failure, at send time or after.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "date"], name="one_deliverability_day_per_client")
        ]
        indexes = [models.Index(fields=["date", "client"], name="deliverability_date_client")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.date}"


class DeliverabilityPolicy(models.Model):
    """An agency's choices: pause a client automatically when one of its rates crosses the hard limit, and hold a
    client's text-backs while its number's A2P 10DLC registration is pending (rather than send them and risk 30034
    blocks and filtering). No row means neither: both stop texts, so the agency must ask for them."""

    agency = models.OneToOneField("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    auto_pause = models.BooleanField(default=False)
    hold_until_registered = models.BooleanField(
        default=False, help_text="Text-backs of a client whose registration is pending are not sent."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.agency_id}: auto-pause {'on' if self.auto_pause else 'off'}"


class DeliverabilityState(models.Model):
    """The level a client was last found at by the periodic check, so that the agency is emailed once when a client
    gets worse, not every time the check runs."""

    class Level(models.IntegerChoices):
        OK = 0, "OK"
        WARNING = 1, "Warning"
        LIMIT = 2, "Over the limit"

    client = models.OneToOneField("accounts.Client", on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.OK)
    changed_at = models.DateTimeField(default=now)
    paused_at = models.DateTimeField(null=True, blank=True, help_text="When the check paused the client.")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.get_level_display()}"


class A2PRegistration(models.Model):
    """A client's US A2P 10DLC registration, driven from the app through the agency's Twilio account
    (deliverability.registration): what carriers require of the business, and the Twilio resources made for it,
    step by step: the TrustHub customer profile and A2P trust product (submitted for review), the brand, then,
    once the brand is approved, a messaging service holding the client's number and the campaign. Each SID is
    kept, so a step that failed is done again alone after the agency fixes what it said."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft: not submitted"
        BRAND_REVIEW = "brand_review", "Submitted: the brand is in review"
        VERIFICATION_REVIEW = "verification_review", "Submitted: the toll-free verification is in review"
        CAMPAIGN_REVIEW = "campaign_review", "Brand approved: the campaign is in review"
        APPROVED = "approved", "Approved: texts are registered"
        FAILED = "failed", "Failed: fix and resubmit"

    class BusinessType(models.TextChoices):
        LLC = "Limited Liability Corporation", "Limited liability company (LLC)"
        CORPORATION = "Corporation", "Corporation"
        PARTNERSHIP = "Partnership", "Partnership"
        SOLE_PROPRIETORSHIP = "Sole Proprietorship", "Sole proprietorship"
        NON_PROFIT = "Non-profit Corporation", "Non-profit"

    class Vertical(models.TextChoices):
        CONSTRUCTION = "CONSTRUCTION", "Construction and home services"
        HEALTHCARE = "HEALTHCARE", "Healthcare and dental"
        LEGAL = "LEGAL", "Legal"
        AUTOMOTIVE = "AUTOMOTIVE", "Automotive"
        REAL_ESTATE = "REAL_ESTATE", "Real estate"
        RETAIL = "RETAIL", "Retail"
        PROFESSIONAL_SERVICES = "PROFESSIONAL_SERVICES", "Professional services"

    class Kind(models.TextChoices):
        TEN_DLC = "10dlc", "A2P 10DLC (a local number)"
        TOLL_FREE = "toll_free", "Toll-free verification"

    client = models.OneToOneField("accounts.Client", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEN_DLC)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    failed_step = models.CharField(
        max_length=12, blank=True, help_text='"brand", "campaign" or "verification".'
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    # What carriers require of the business.
    legal_name = models.CharField(max_length=120)
    business_type = models.CharField(max_length=40, choices=BusinessType.choices)
    ein = models.CharField(
        "EIN",
        max_length=10,
        blank=True,
        help_text="The business's US tax id, 12-3456789. A sole proprietor without one leaves it empty.",
    )
    website = models.URLField(max_length=200)
    street = models.CharField(max_length=120)
    city = models.CharField(max_length=60)
    region = models.CharField("State", max_length=2)
    postal_code = models.CharField(max_length=10)
    contact_first_name = models.CharField(max_length=60)
    contact_last_name = models.CharField(max_length=60)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=20, help_text="E.164, e.g. +13125550100.")
    vertical = models.CharField(max_length=24, choices=Vertical.choices)
    opt_in_proof_url = models.URLField(
        "Opt-in proof",
        max_length=300,
        blank=True,
        help_text="Toll-free only: a public image or page showing how callers agree to a text (e.g. the website's "
        "contact page saying missed calls get a text back).",
    )
    # The Twilio resources, as they are made.
    customer_profile_sid = models.CharField(max_length=34, blank=True)
    trust_product_sid = models.CharField(max_length=34, blank=True)
    brand_sid = models.CharField(max_length=34, blank=True)
    messaging_service_sid = models.CharField(max_length=34, blank=True)
    campaign_sid = models.CharField(max_length=34, blank=True)
    verification_sid = models.CharField(max_length=34, blank=True, help_text="Toll-free verification (HH…).")
    # A sole proprietor without an EIN registers a SOLE_PROPRIETOR brand (Twilio's starter profile): carriers then
    # text the contact's mobile a one-time code, and the brand is only good once they answered it.
    brand_type = models.CharField(max_length=16, blank=True, help_text='"STANDARD" or "SOLE_PROPRIETOR".')
    brand_identity = models.CharField(
        max_length=16,
        blank=True,
        help_text="The brand's identity status (VERIFIED once the OTP was answered).",
    )
    otp_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the one-time code was last sent."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.client_id}: {self.status}"

    @property
    def sole_proprietor(self) -> bool:
        """Twilio's sole-proprietor path: a sole proprietorship with no EIN (one with an EIN registers as standard)."""
        return self.business_type == self.BusinessType.SOLE_PROPRIETORSHIP and not self.ein

    @property
    def awaiting_otp(self) -> bool:
        return (
            self.brand_type == "SOLE_PROPRIETOR"
            and self.status == self.Status.BRAND_REVIEW
            and self.brand_identity not in ("VERIFIED", "VETTED_VERIFIED")
        )


class BusinessAddress(models.Model):
    """The business's address as an Address resource in its agency's Twilio account (api v2010 Addresses): what a
    Hosted SMS order's letter of authorisation names, and what a TrustHub customer profile points at. Made once per
    client and made again only when the address changes (deliverability.addresses)."""

    client = models.OneToOneField("accounts.Client", on_delete=models.CASCADE, related_name="+")
    customer_name = models.CharField(max_length=120)
    street = models.CharField(max_length=120)
    city = models.CharField(max_length=60)
    region = models.CharField(max_length=2)
    postal_code = models.CharField(max_length=10)
    address_sid = models.CharField(max_length=34, blank=True)
    account_sid = models.CharField(max_length=34, blank=True, help_text="The Twilio account it was made in.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.client_id}: {self.address_sid or 'not at Twilio'}"


class HostedNumberOrder(models.Model):
    """An order to host the business's own number at Twilio for texting (Numbers v2 HostedNumber/Orders), in its
    agency's Twilio account, followed to "completed" (deliverability.hosting): then Client.hosted_sms_number is set
    and the client's texts go from it, while calls keep coming to its Textback number. `status` is Twilio's."""

    class Status(models.TextChoices):
        TWILIO_PROCESSING = "twilio-processing", "Twilio is checking the number"
        RECEIVED = "received", "Received: ownership to verify"
        PENDING_VERIFICATION = "pending-verification", "Verification call placed"
        VERIFIED = "verified", "Ownership verified"
        PENDING_LOA = "pending-loa", "Waiting for the signed letter of authorisation"
        CARRIER_PROCESSING = "carrier-processing", "Carriers are moving the number's texting to Twilio"
        TESTING = "testing", "Twilio is testing texts"
        COMPLETED = "completed", "Completed: texts go from this number"
        ACTION_REQUIRED = "action-required", "Action required"
        FAILED = "failed", "Failed: this number cannot be hosted"
        CANCELED = "canceled", "Cancelled"

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    phone_number = models.CharField(max_length=16, help_text="The business's own number, E.164.")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.TWILIO_PROCESSING)
    failure_reason = models.CharField(max_length=500, blank=True)
    next_step = models.CharField(max_length=500, blank=True, help_text="What Twilio says comes next.")
    contact_name = models.CharField(max_length=120, help_text="Who signs the letter of authorisation.")
    contact_title = models.CharField(max_length=60, blank=True)
    contact_email = models.EmailField(
        help_text="Twilio emails the letter of authorisation here to be signed."
    )
    contact_phone = models.CharField(max_length=16)
    # The Twilio resources.
    account_sid = models.CharField(max_length=34, help_text="The agency's Twilio account the order is in.")
    order_sid = models.CharField(max_length=34, unique=True)
    address_sid = models.CharField(max_length=34)
    signing_document_sid = models.CharField(max_length=34, blank=True)
    loa_status = models.CharField(max_length=12, blank=True, help_text="The authorisation document's status.")
    incoming_number_sid = models.CharField(max_length=34, blank=True)
    verification_code = models.CharField(max_length=12, blank=True)
    verification_extension = models.CharField(
        max_length=10,
        blank=True,
        help_text="Digits Twilio's verification call dials after connecting (a menu).",
    )
    verification_called_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    checked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one order per client on its way (a failed or cancelled one may be ordered again).
            models.UniqueConstraint(
                fields=["client"],
                condition=~models.Q(status__in=["failed", "canceled"]),
                name="one_open_hosted_number_order_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.phone_number}: {self.status}"


class EventSink(models.Model):
    """Twilio Event Streams in one Twilio account (the platform's, or an agency's subaccount or own account): the
    webhook sink pointed at us and its subscription to A2P registration events (deliverability.streams). Made once
    per account, at its first registration."""

    account_sid = models.CharField(max_length=34, unique=True)
    agency = models.ForeignKey(
        "accounts.Agency",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Whose account it is; empty for the platform's own.",
    )
    sink_sid = models.CharField(max_length=34)
    subscription_sid = models.CharField(max_length=34)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.account_sid}: {self.sink_sid}"
