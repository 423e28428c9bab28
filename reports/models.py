"""Report tables. Public (named in SPLIT_APPS_PUBLIC_MODELS): the daily and monthly roll-ups per client that
agency pages read without entering any client's schema, and who wants the monthly report email. Client schema:
export jobs (the file a person asked for, and how far it has got)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import BigIntegerField, F, Func, Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils.timezone import now

# The counters of a day, in the order the funnel reads. Every one is a whole number except won_value.
ROLLUP_COUNTERS = (
    "calls",
    "missed_calls",
    "missed_after_hours",
    "answered_calls",
    "textbacks_sent",
    "textbacks_skipped",
    "replies",
    "answered_by_staff",
    "booked",
    "won",
    "booked_pending",
    "opt_outs",
    "delivery_failures",
)


# FirstStaffReply.in_sample: one wait in this many.
SAMPLE_EVERY = 8


def no_hours() -> list[int]:
    return [0] * 24


def no_weekdays() -> list[int]:
    return [0] * 7


class RollupCounters(models.Model):
    """What a roll-up counts, one client's funnel over some days: DailyRollup for one local day, MonthlyRollup
    for one local month (the sum of its days)."""

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    calls = models.PositiveIntegerField(default=0)
    missed_calls = models.PositiveIntegerField(default=0)
    missed_after_hours = models.PositiveIntegerField(default=0)
    answered_calls = models.PositiveIntegerField(default=0)
    textbacks_sent = models.PositiveIntegerField(default=0)
    textbacks_skipped = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, help_text='{"landline": 2, "opted_out": 1}')
    # Missed calls by the hour they started at on the client's clock, [0] being 00:00–00:59: the hour-of-day
    # chart sums these instead of reading the calls. An array, not JSON: a year of a thousand clients is summed
    # position by position in the same query as the counters.
    missed_hours = ArrayField(models.IntegerField(), size=24, default=no_hours)
    # All calls by the hour they started at, the same way: with missed_hours, the missed-call rate by hour.
    # A database default too, so rows written in SQL that predate it (bench/) still insert.
    call_hours = ArrayField(models.IntegerField(), size=24, default=no_hours, db_default=[0] * 24)
    # Calls and missed calls by day of the week, [0] being Monday: on a day's row only its own weekday is set,
    # and a month's row sums them, so the rate by weekday over a year reads 12 rows a client, not 365.
    call_weekdays = ArrayField(models.IntegerField(), size=7, default=no_weekdays, db_default=[0] * 7)
    missed_weekdays = ArrayField(models.IntegerField(), size=7, default=no_weekdays, db_default=[0] * 7)
    replies = models.PositiveIntegerField(default=0)
    answered_by_staff = models.PositiveIntegerField(default=0)
    booked = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    won_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Booked jobs still without an outcome after them (the contact's latest outcome is this booking): what the
    # estimate from the client's average job value multiplies. A later won or lost takes it off its day.
    booked_pending = models.IntegerField(default=0)
    opt_outs = models.PositiveIntegerField(default=0)
    delivery_failures = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class DailyRollup(RollupCounters):
    """One client's funnel for one day (the day in the client's time zone). Kept exact as events happen by
    reports.receivers (upserts with column = column + n, in the event's own transaction) and rebuilt from the
    client's tables every night (reports.rollups). What a day's counter means is defined once, in
    reports.rollups.rollup_rebuild_client: the receivers must agree with it, and the tests hold them to it."""

    date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "date"], name="one_rollup_per_client_day")]
        indexes = [models.Index(fields=["date", "client"], name="rollup_date_client")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.date}"


class MonthlyRollup(RollupCounters):
    """One client's funnel for one month of its local days: always the sum of that month's DailyRollup rows
    (every bump writes both in one statement, every rebuild of days rebuilds their months; reports.rollups).
    A period's whole months are read here, a twelfth of the rows of a year of days; a month it covers in part
    is read from its days, or as this row less the days outside the period (reports.selectors.rollup_spans)."""

    month = models.DateField(help_text="The month's first day.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "month"], name="one_rollup_per_client_month")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.month:%Y-%m}"


class FirstStaffReply(models.Model):
    """One text-back whose caller replied and whose staff answered: how long the caller waited for that first
    staff reply. Medians and percentiles cannot be summed from daily counters, so the report reads these
    instead of the client's messages. Kept by reports.receivers when the first staff reply goes out, rebuilt
    nightly with the roll-ups (reports.rollups), on the same local day as the text-back's answered_by_staff."""

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    date = models.DateField(help_text="The day the text-back was sent, in the client's time zone.")
    textback_id = models.BigIntegerField(help_text="messaging.Message id, in the client's schema.")
    # Whole seconds, not an interval: a year of an agency's waits (1.4 million with the year before) is sorted
    # for its percentiles straight out of the covering index below, and integers sort fastest (an interval
    # had to be turned into seconds row by row first: about 40% of that query).
    wait_seconds = models.IntegerField(
        help_text="From the caller's first reply to the first staff reply, rounded."
    )
    # One wait in SAMPLE_EVERY, the same ones every time, chosen by a hash of the client and the text-back (ids
    # alone could keep step with a client's messages and leave whole clients out). A period with more waits
    # than reports.selectors.SAMPLE_ABOVE takes its percentiles from these.
    in_sample = models.GeneratedField(
        expression=Exact(
            Mod(
                Func(
                    F("textback_id"),
                    F("client_id"),
                    function="hashint8extended",
                    output_field=BigIntegerField(),
                ),
                SAMPLE_EVERY,
                output_field=BigIntegerField(),
            ),
            0,
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "textback_id"], name="one_first_staff_reply_per_textback"
            )
        ]
        # The percentiles of a period read only one of these indexes: all the waits, or the sample.
        indexes = [
            models.Index(fields=["client", "date"], include=["wait_seconds"], name="first_staff_reply_wait"),
            models.Index(
                fields=["client", "date"],
                include=["wait_seconds"],
                condition=Q(in_sample=True),
                name="first_staff_reply_sample",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.date} {self.wait_seconds}s"


class ReportEmailPreference(models.Model):
    """A person's choice about the monthly report email (owners get their client's, agency people the
    summary). No row means subscribed; the email's own link turns it off."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    monthly_report = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {'on' if self.monthly_report else 'off'}"


class BriefingPreference(models.Model):
    """Public: how often a person of a client wants the short briefing email about it (reports.briefings). No row
    means the default: weekly for the client's owners, none for its other people."""

    class Frequency(models.TextChoices):
        DAILY = "daily", "Every morning (yesterday's calls)"
        WEEKLY = "weekly", "Every Monday morning (last week's calls)"
        OFF = "off", "Never"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=6, choices=Frequency.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="one_briefing_choice_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.client_id}: {self.frequency}"


class MonthlyReportSent(models.Model):
    """Public: that a report email went to a person, so a repeated or retried task never sends it twice.
    `key` is "<user>:client:<id>:<YYYY-MM>" or "<user>:agency:<id>:<YYYY-MM>" for the monthly email, and
    "<user>:briefing:<client id>:d<YYYY-MM-DD>" (daily, the day it covers) or "…:w<YYYY-MM-DD>" (weekly, the
    Monday of the week it covers) for a briefing."""

    key = models.CharField(max_length=80, unique=True)
    sent_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return self.key


class ExportJob(models.Model):
    """Client schema: one export a person asked for. Small ones are made in the request; large ones by a task
    that reports its progress here and leaves the file in `content` for the download link. A finished job
    expires after settings.REPORT_EXPORT_RETENTION_DAYS: its file is deleted and the row stays, so that the link
    can say why it no longer works."""

    class Kind(models.TextChoices):
        FUNNEL = "funnel", "Funnel"
        CALLS = "calls", "Calls"
        CONVERSATIONS = "conversations", "Conversations with outcomes"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    start = models.DateField()
    end = models.DateField(help_text="Inclusive.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=120, blank=True)
    content = models.BinaryField(null=True, editable=False)
    requested_by_id = models.BigIntegerField(help_text="accounts.User id (public schema).")
    created_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.format} {self.state}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
