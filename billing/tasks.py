"""Celery tasks: fetch by id, call a service. They run in the public schema (billing has no other)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils.timezone import now

from accounts.models import Agency, AgencyMembership, ClientMembership
from accounts.services import client_url

from . import connect, services
from .models import AgencyBilling, ClientPrice, Statement, UsageWarning
from .months import current_month, previous_month
from .payments import payment_gateway
from .selectors import agency_time_zone
from .stripe_api import StripeConnectError

log = logging.getLogger(__name__)


def _agency_recipients(warning: UsageWarning) -> list[str]:
    """The agency's admins and its billing address."""
    agency_id = warning.client.agency_id
    emails = set(
        AgencyMembership.objects.filter(agency_id=agency_id, role=AgencyMembership.Role.ADMIN).values_list(
            "user__email", flat=True
        )
    )
    billing_email = (
        AgencyBilling.objects.filter(agency_id=agency_id).values_list("billing_email", flat=True).first()
    )
    if billing_email:
        emails.add(billing_email)
    return sorted(emails)


def _owner_recipients(warning: UsageWarning, price: ClientPrice | None) -> list[str]:
    if price is None or not price.warn_owner:
        return []
    owners = ClientMembership.objects.filter(client=warning.client, role=ClientMembership.Role.OWNER)
    return sorted(owners.values_list("user__email", flat=True))


def _warning_text(warning: UsageWarning, price: ClientPrice | None, *, link: str) -> tuple[str, str]:
    client = warning.client
    pauses = price is not None and price.over_limit == ClientPrice.OverLimit.PAUSE
    if warning.threshold >= 100:
        subject = (
            f"{client.name} has used all {warning.included} included SMS segments for {warning.month:%B %Y}"
        )
        then = (
            "Text-backs are paused until next month (replies from staff and opt-out answers still go out)."
            if pauses
            else "Texts keep going out; segments above the included ones are billed as overage."
        )
    else:
        subject = f"{client.name} has used {warning.threshold}% of its included SMS segments for {warning.month:%B %Y}"
        then = (
            "At 100% text-backs will pause until next month."
            if pauses
            else "Above 100%, texts keep going out and are billed as overage."
        )
    body = (
        f"{client.name} has used {warning.segments} of its {warning.included} included SMS segments "
        f"this month.\n\n{then}\n"
    )
    return subject, body + (f"\nUsage and statements: {link}\n" if link else "")


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def usage_warning_send(warning_id: int) -> int:
    """Email one usage warning, once: a repeat of the task finds it sent and does nothing. The agency's
    people get a link to its billing pages; the client's owners (when the agency asks for it) a link to their
    own statement if they may see it, else none."""
    warning = services.usage_warning_mark_sent(warning_id=warning_id)
    if warning is None:
        return 0
    price = ClientPrice.objects.filter(client=warning.client).first()
    owner_link = f"{client_url(warning.client)}billing/" if price and price.owner_sees_statement else ""
    batches = [
        (_agency_recipients(warning), f"{settings.PUBLIC_BASE_URL}/billing/"),
        (_owner_recipients(warning, price), owner_link),
    ]
    sent = 0
    try:
        for recipients, link in batches:
            if recipients:
                subject, body = _warning_text(warning, price, link=link)
                sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        if not sent:
            UsageWarning.objects.filter(pk=warning_id).update(emailed_at=None)  # try again next time
        raise
    return sent


@shared_task(time_limit=120, soft_time_limit=100, ignore_result=True)
def usage_warnings_send_pending() -> int:
    """Warnings whose task the broker never got (down at the time): send them now."""
    pending = UsageWarning.objects.filter(
        emailed_at__isnull=True, created_at__lt=now() - timedelta(minutes=1)
    )
    return sum(usage_warning_send(pk) for pk in pending.values_list("pk", flat=True)[:200])


@shared_task(time_limit=600, soft_time_limit=540, ignore_result=True)
def statements_close_last_month() -> int:
    """Close the month just ended for every agency, each in its own time zone, and collect the platform's
    statements when payment collection is on. Safe to run daily: a closed month is returned as stored and a
    paid statement is not charged again. Returns how many platform statements are now paid."""
    gateway = payment_gateway()
    paid = 0
    for agency in Agency.objects.all():
        month = previous_month(current_month(agency_time_zone(agency=agency)))
        for statement in services.statements_close(agency=agency, month=month):
            if gateway is not None and statement.kind == Statement.Kind.PLATFORM:
                paid += services.statement_collect(statement=statement, gateway=gateway).paid_at is not None
    # Client statements that should have become Stripe invoices and have not (a lost task, a Stripe outage).
    for statement_id in connect.client_invoices_pending():
        client_invoice_send.apply_async((statement_id,), retry=False)
    return paid


@shared_task(
    bind=True,
    autoretry_for=(StripeConnectError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    time_limit=120,
    soft_time_limit=100,
    ignore_result=True,
)
def client_invoice_send(self, statement_id: int) -> str:
    """Send one closed client statement as a Stripe invoice on its agency's account (billing.connect): once,
    however often it runs. Stripe being down or slow is retried with backoff; a refusal is kept on the invoice
    row for the agency to read."""
    invoice = connect.client_invoice_issue(statement_id=statement_id)
    return invoice.status if invoice is not None else "not invoiced"
