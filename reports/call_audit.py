"""The missed-call audit an agency runs for a prospect: the prospect's calls are forwarded to our number and
recorded as for any client, nobody is texted (messaging's send path skips each text-back, last of all its
checks, with SkipReason.CALL_AUDIT), and after N days the agency shows what it found: calls, missed calls and
when they are missed, the money walking away, and what text-back would have sent, on a one-page PDF in the
agency's brand and a read-only link it can share. Turning the prospect into a live client starts the text-backs;
the audit's calls stay its history, since the client, its schema and its roll-ups are the same.

Every number comes from the roll-ups, as the client's report reads them (reports.selectors)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core import signing
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from accounts.models import Client
from messaging.models import Template
from messaging.placeholders import render
from messaging.reasons import SkipReason
from messaging.services import placeholder_context

from .selectors import Funnel, Period, funnel_for_client, set_weekdays, today_in

SHARE_SALT = "reports.call-audit.share"
SAMPLE_CALLER = "Maria"


# --- Starting and converting -----------------------------------------------------------------------------------


def call_audit_start(*, client: Client, days: int, at: datetime | None = None) -> Client:
    """Put the client on an audit of `days` days from now (a new start replaces an earlier one, whose share links
    stop working)."""
    if not 1 <= days <= 90:
        raise ValueError("An audit runs 1 to 90 days.")
    client.call_audit_started_at = at or now()
    client.call_audit_days = days
    client.call_audit_converted_at = None
    client.save(update_fields=["call_audit_started_at", "call_audit_days", "call_audit_converted_at"])
    return client


def call_audit_convert(*, client: Client, at: datetime | None = None) -> Client:
    """The prospect bought: text-backs start with the next missed call; nothing recorded is lost."""
    if not client.in_call_audit:
        raise ValueError("This client is not on an audit.")
    client.call_audit_converted_at = at or now()
    # A prospect set up for the audit alone may never have been through the wizard's go-live step.
    client.went_live_at = client.went_live_at or client.call_audit_converted_at
    client.save(update_fields=["call_audit_converted_at", "went_live_at"])
    return client


# --- What it found -------------------------------------------------------------------------------------------------


@dataclass
class CallAudit:
    client: Client
    period: Period
    funnel: Funnel
    converted: bool
    would_text: dict[str, str]  # template label → the text a caller would have got

    @property
    def would_have_texted(self) -> int:
        """Missed callers every send-time check passed (not anonymous, no landline …): text-back would have
        texted each."""
        return self.funnel.skipped_reasons.get(SkipReason.CALL_AUDIT.value, 0)

    @property
    def days_done(self) -> int:
        return max(0, min(self.period.days, (today_in(self.client.timezone) - self.period.start).days + 1))

    @property
    def walking_away(self) -> Decimal | None:
        """An estimate: the callers text-back would have reached × the share of them that replies and becomes a
        job (the client's reply conversion rate) × the average job value. None without both values."""
        rate, value = self.client.reply_conversion_rate, self.client.average_job_value
        if rate is None or value is None:
            return None
        return (Decimal(self.would_have_texted) * rate / 100 * value).quantize(Decimal("0.01"))

    @property
    def missed_value(self) -> Decimal | None:
        """Every missed call at the average job value: the ceiling, not a forecast."""
        value = self.client.average_job_value
        return None if value is None else (value * self.funnel.missed_calls).quantize(Decimal("0.01"))


def call_audit_period(*, client: Client) -> Period | None:
    if client.call_audit_started_at is None:
        return None
    start = client.local_time(client.call_audit_started_at).date()
    return Period(start, start + timedelta(days=client.call_audit_days - 1), client.timezone)


def call_audit_for(*, client: Client) -> CallAudit | None:
    period = call_audit_period(client=client)
    if period is None:
        return None
    funnel = funnel_for_client(client=client, period=period)
    set_weekdays([funnel], client_ids=[client.pk], periods=[(period.start, period.end)])
    return CallAudit(
        client=client,
        period=period,
        funnel=funnel,
        converted=client.call_audit_converted_at is not None,
        would_text=_would_text(client),
    )


def _would_text(client: Client) -> dict[str, str]:
    """The business-hours and after-hours texts as a caller named Maria would have got them."""
    context = placeholder_context(client=client, caller_name=SAMPLE_CALLER)
    texts = {}
    with tenant_context(client):
        templates = {t.kind: t for t in Template.objects.filter(is_active=True)}
    for kind in (Template.Kind.BUSINESS_HOURS, Template.Kind.AFTER_HOURS):
        template = templates.get(kind)
        if template is not None:
            try:
                texts[Template.Kind(kind).label] = render(template.body, context=context)
            except ValueError:
                continue
    return texts


# --- The read-only link ------------------------------------------------------------------------------------------


def share_token(*, client: Client) -> str:
    """Names the client and this audit's start: a new audit of the same client makes older links stop working."""
    started = client.call_audit_started_at
    if started is None:
        raise ValueError("This client has no audit to share.")
    return signing.dumps({"c": client.pk, "s": _stamp(started)}, salt=SHARE_SALT)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()  # the same instant reads the same in any zone


def client_from_share_token(token: str) -> Client | None:
    try:
        data = signing.loads(token, salt=SHARE_SALT)
    except signing.BadSignature:
        return None
    client = Client.objects.select_related("agency").filter(pk=data.get("c")).first()
    if client is None or client.call_audit_started_at is None:
        return None
    if _stamp(client.call_audit_started_at) != data.get("s"):
        return None
    if client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
        return None
    return client
