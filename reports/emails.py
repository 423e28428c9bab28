"""The monthly report emails: each client's owners get their month (the PDF attached), each agency's people a
summary of all their clients. Anyone can turn them off from the link in the email; a person who did is never
sent one, and nobody is sent the same month twice (MonthlyReportSent, written in the transaction that sends)."""

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Agency, AgencyMembership, Client, ClientMembership, User
from accounts.services import client_url

from .models import MonthlyReportSent, ReportEmailPreference
from .pdf import monthly_pdf
from .presenters import after_textback_lines, duration, money
from .selectors import (
    Period,
    after_textback,
    after_textback_for_client,
    after_textback_total,
    funnel_for_client,
    month_period,
    rollup_client_ranking,
    today_in,
)

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "reports.monthly-email.unsubscribe"


def last_month(*, tz: str, at: datetime | None = None) -> date:
    """The first day of the month before this one, in the zone given."""
    return (today_in(tz, at).replace(day=1) - timedelta(days=1)).replace(day=1)


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def user_from_unsubscribe_token(token: str) -> User | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=data.get("u")).first()


def email_preference_set(*, user: User, monthly_report: bool) -> None:
    ReportEmailPreference.objects.update_or_create(user=user, defaults={"monthly_report": monthly_report})


def _subscribed(users):
    off = ReportEmailPreference.objects.filter(monthly_report=False).values("user_id")
    return users.filter(is_active=True).exclude(pk__in=off)


def _unsubscribe_url(user: User) -> str:
    path = reverse(
        "reports:email-unsubscribe",
        urlconf=settings.PUBLIC_SCHEMA_URLCONF,
        kwargs={"token": unsubscribe_token(user)},
    )
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def email_from(agency: Agency) -> str:
    address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">")
    return f"{agency.display_name} <{address}>"


def send_once(*, key: str, message: EmailMessage) -> bool:
    """Send unless already sent: the log row and the send commit together (a failed send can be retried)."""
    try:
        with transaction.atomic():
            MonthlyReportSent.objects.create(key=key)
            message.send()
    except IntegrityError:
        return False
    return True


def monthly_email_send_client(*, client: Client, month: date) -> int:
    """Email the client's owners their report for `month` (its first day). Returns how many were sent."""
    period = month_period(year=month.year, month=month.month, tz=client.timezone)
    owners = _subscribed(
        User.objects.filter(
            client_memberships__client=client, client_memberships__role=ClientMembership.Role.OWNER
        )
    )
    owners = list(owners)
    if not owners:
        return 0
    funnel = funnel_for_client(client=client, period=period)
    pdf = monthly_pdf(client=client, period=period)
    subject = f"{client.name}: your missed-call report for {month:%B %Y}"
    sent = 0
    for user in owners:
        body = _client_body(client=client, period=period, funnel=funnel, user=user)
        message = EmailMessage(subject, body, email_from(client.agency), [user.email])
        message.attach(f"{client.slug}-{month:%Y-%m}.pdf", pdf, "application/pdf")
        sent += send_once(key=f"{user.pk}:client:{client.pk}:{month:%Y-%m}", message=message)
    return sent


def _client_body(*, client: Client, period: Period, funnel, user: User) -> str:
    rate = "—" if funnel.reply_rate is None else f"{funnel.reply_rate}%"
    lines = [
        f"Here is how {client.name} did with missed calls in {period.start:%B %Y}.",
        "",
        f"Missed calls: {funnel.missed_calls}",
        f"Text-backs sent: {funnel.textbacks_sent}",
        f"Replies: {funnel.replies} ({rate} of text-backs)",
        f"Median time to first staff reply: {duration(funnel.first_reply_median_seconds)}",
        f"Booked: {funnel.booked}   Won: {funnel.won}",
        f"Recovered revenue: {money(funnel.recovered_revenue)}",
    ]
    if funnel.estimated_revenue is not None and funnel.booked_pending:
        lines.append(
            f"Estimate for {funnel.booked_pending} booked job(s) without a value yet: "
            f"{money(funnel.estimated_revenue)} (an estimate, not in recovered revenue)"
        )
    after = after_textback_lines(after_textback_for_client(client=client, period=period))
    if after:
        lines += ["", "After the text-back:", *after]
    lines += [
        "",
        "The full report is attached as a PDF and online at",
        f"{client_url(client)}reports/?preset=custom&start={period.start}&end={period.end}",
        "",
        f"— {client.agency.display_name}",
        "",
        f"Don't want this monthly email? Turn it off: {_unsubscribe_url(user)}",
    ]
    return "\n".join(lines)


def monthly_email_send_agency(*, agency: Agency, month: date) -> int:
    """Email the agency's people a summary of all their clients for `month`, ranked by recovered revenue."""
    people = list(_subscribed(User.objects.filter(agency_memberships__agency=agency)))
    if not people:
        return 0
    last = month_period(year=month.year, month=month.month, tz="UTC").end
    ranking = rollup_client_ranking(agency=agency, start=month, end=last)
    total = sum((r.numbers.won_value for r in ranking), start=Decimal("0.00"))
    subject = f"{agency.display_name}: recovered revenue across your clients, {month:%B %Y}"
    table = [
        f"{i}. {r.client.name}: {r.numbers.missed_calls} missed, {r.numbers.textbacks_sent} text-backs, "
        f"{'—' if r.numbers.reply_rate is None else f'{r.numbers.reply_rate}%'} replied, "
        f"{money(r.numbers.won_value)} recovered"
        for i, r in enumerate(ranking, 1)
    ]
    # What callers did after the text-back, across the clients (each client's own month, as the ranking).
    after = after_textback_lines(
        after_textback_total(
            after_textback(
                clients=[r.client for r in ranking],
                period=Period(month, last, "UTC"),  # the dates; each client reads them on its own clock
            ).values()
        )
    )
    sent = 0
    for user in people:
        body = "\n".join(
            [
                f"{month:%B %Y} across your {len(ranking)} client(s): {money(total)} recovered.",
                "",
                *table,
                *(["", "After the text-back, across them:", *after] if after else []),
                "",
                "The full roll-up: " + settings.PUBLIC_BASE_URL.rstrip("/") + "/reports/",
                "",
                f"Don't want this monthly email? Turn it off: {_unsubscribe_url(user)}",
            ]
        )
        message = EmailMessage(subject, body, email_from(agency), [user.email])
        sent += send_once(key=f"{user.pk}:agency:{agency.pk}:{month:%Y-%m}", message=message)
    return sent


def agencies_with_people():
    return Agency.objects.filter(pk__in=AgencyMembership.objects.values("agency_id"))
