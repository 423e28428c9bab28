"""Briefings: a short email to a client's people about their business, every morning (yesterday) or every
Monday morning (last week), as each person chooses (BriefingPreference; owners get the weekly one unless they
choose otherwise). It says the period's missed calls, who is still waiting for an answer, and the recovered
revenue of the seven days up to the period's end.

Sent from SEND_HOURS on the client's own clock by an hourly beat task; each person gets one per period however
often the task runs (MonthlyReportSent's key, written in the transaction that sends). Every link is built on a
host we serve: the client's own (accounts.services.client_url) or the platform's (PUBLIC_BASE_URL), never one
taken from a request."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from accounts.models import Client, ClientMembership, User
from accounts.services import client_url
from inbox.selectors import Filter, contact_label, conversation_list

from .emails import email_from, send_once
from .models import BriefingPreference, MonthlyReportSent
from .presenters import money
from .selectors import Period, funnel_for_client

Frequency = BriefingPreference.Frequency

# Local hours in which a due briefing goes out: 07:00 on, and until noon to catch up an hour beat missed.
SEND_HOURS = range(7, 12)
# At most this many waiting callers are named; the rest are counted.
WAITING_SHOWN = 10
CHOICE_SALT = "reports.briefing.choice"


# --- Who gets which --------------------------------------------------------------------------------------------


def briefing_frequency(*, user: User, client: Client) -> str:
    """The person's choice for this client, or the default (weekly for owners, none for others)."""
    row = BriefingPreference.objects.filter(user=user, client=client).first()
    if row is not None:
        return row.frequency
    is_owner = ClientMembership.objects.filter(
        user=user, client=client, role=ClientMembership.Role.OWNER
    ).exists()
    return Frequency.WEEKLY if is_owner else Frequency.OFF


def briefing_choose(*, user: User, client: Client, frequency: str) -> None:
    if frequency not in Frequency.values:
        raise ValueError(f"Not a briefing frequency: {frequency}")
    BriefingPreference.objects.update_or_create(user=user, client=client, defaults={"frequency": frequency})


def briefing_recipients(*, client: Client, frequency: str) -> QuerySet[User]:
    """The client's active people who get this briefing: their own choice, else the default."""
    chosen = BriefingPreference.objects.filter(client=client)
    members = User.objects.filter(is_active=True, client_memberships__client=client)
    wants = Q(pk__in=chosen.filter(frequency=frequency).values("user_id"))
    if frequency == Frequency.WEEKLY:
        default = Q(client_memberships__role=ClientMembership.Role.OWNER) & ~Q(
            pk__in=chosen.values("user_id")
        )
        wants |= default
    return members.filter(wants).distinct().order_by("email")


# --- Which period is due -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    frequency: str
    period: Period

    @property
    def key(self) -> str:
        return ("d" if self.frequency == Frequency.DAILY else "w") + self.period.start.isoformat()


def briefings_due(*, client: Client, at: datetime | None = None) -> list[Due]:
    """What is due at this moment on the client's clock: yesterday's daily briefing in SEND_HOURS, and on a
    Monday in SEND_HOURS last week's (Monday to Sunday) weekly one."""
    local = (at or now()).astimezone(ZoneInfo(client.timezone))
    if local.hour not in SEND_HOURS:
        return []
    yesterday = local.date() - timedelta(days=1)
    due = [Due(Frequency.DAILY, Period(yesterday, yesterday, client.timezone))]
    if local.weekday() == 0:
        due.append(Due(Frequency.WEEKLY, Period(yesterday - timedelta(days=6), yesterday, client.timezone)))
    return due


# --- What it says ------------------------------------------------------------------------------------------------


@dataclass
class Waiting:
    name: str
    since: datetime
    url: str


def waiting_callers(*, client: Client, user: User) -> list[Waiting]:
    """Open conversations whose caller's latest texts have no staff reply yet, longest waiting first (the inbox's
    own definition, inbox.selectors.conversation_list's waiting_since)."""
    base = client_url(client)
    with tenant_context(client):
        rows = (
            conversation_list(user=user, tab=Filter.OPEN)
            .filter(waiting_since__isnull=False)
            .order_by("waiting_since")
        )
        return [
            Waiting(contact_label(c.contact), c.waiting_since, f"{base}inbox/{c.pk}/")
            for c in rows[: WAITING_SHOWN + 1]
        ]


def choice_token(*, user: User, client: Client) -> str:
    return signing.dumps({"u": user.pk, "c": client.pk}, salt=CHOICE_SALT)


def from_choice_token(token: str) -> tuple[User, Client] | None:
    try:
        data = signing.loads(token, salt=CHOICE_SALT)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    client = Client.objects.filter(pk=data.get("c")).first()
    if user is None or client is None:
        return None
    if not ClientMembership.objects.filter(user=user, client=client).exists():
        return None  # left the business since: the old link changes nothing
    return user, client


def choice_url(*, user: User, client: Client) -> str:
    path = reverse(
        "reports:briefing-choice",
        urlconf=settings.PUBLIC_SCHEMA_URLCONF,
        kwargs={"token": choice_token(user=user, client=client)},
    )
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _day(day: date) -> str:
    return day.strftime("%a %-d %b")


def briefing_email(*, client: Client, due: Due, user: User, waiting: list[Waiting]) -> EmailMessage:
    period = due.period
    funnel = funnel_for_client(client=client, period=period, reasons=False)
    week = Period(period.end - timedelta(days=6), period.end, client.timezone)
    revenue = funnel.recovered_revenue if due.frequency == Frequency.WEEKLY else None
    if revenue is None:
        revenue = funnel_for_client(client=client, period=week, reasons=False).recovered_revenue
    if due.frequency == Frequency.DAILY:
        when = f"yesterday, {_day(period.start)}"
    else:
        when = f"last week, {_day(period.start)} – {_day(period.end)}"
    plural = "" if funnel.missed_calls == 1 else "s"
    subject = f"{client.name}: {funnel.missed_calls} missed call{plural} {when}"
    base = client_url(client)
    lines = [
        f"Good morning. Here is {client.name} {when}.",
        "",
        f"Missed calls: {funnel.missed_calls} ({funnel.missed_after_hours} after hours) of {funnel.calls} calls",
        f"Text-backs sent: {funnel.textbacks_sent}   Replies: {funnel.replies}",
        f"Recovered revenue, {_day(week.start)} – {_day(week.end)}: {money(revenue)}",
        "",
    ]
    if waiting:
        shown = waiting[:WAITING_SHOWN]
        lines.append(
            f"Still waiting for an answer ({len(shown)}{'+' if len(waiting) > WAITING_SHOWN else ''}):"
        )
        for caller in shown:
            since = caller.since.astimezone(ZoneInfo(client.timezone))
            lines.append(f"- {caller.name}, since {since:%a %-d %b %H:%M}: {caller.url}")
        if len(waiting) > WAITING_SHOWN:
            lines.append(f"  … and more in the inbox: {base}inbox/")
    else:
        lines.append("Nobody is waiting for an answer.")
    lines += [
        "",
        f"The report: {base}reports/?preset=custom&start={period.start}&end={period.end}",
        "",
        f"— {client.agency.display_name}",
        "",
        f"Daily, weekly or not at all: {choice_url(user=user, client=client)}",
    ]
    return EmailMessage(subject, "\n".join(lines), email_from(client.agency), [user.email])


# --- Sending -----------------------------------------------------------------------------------------------------


def briefings_send(*, client: Client, at: datetime | None = None) -> int:
    """Send whatever is due now to whoever wants it, once per person and period. Returns how many went out."""
    sent = 0
    for due in briefings_due(client=client, at=at):
        for user in briefing_recipients(client=client, frequency=due.frequency):
            key = f"{user.pk}:briefing:{client.pk}:{due.key}"
            if _already_sent(key):
                continue
            waiting = waiting_callers(client=client, user=user)
            sent += send_once(
                key=key, message=briefing_email(client=client, due=due, user=user, waiting=waiting)
            )
    return sent


def _already_sent(key: str) -> bool:
    return MonthlyReportSent.objects.filter(key=key).exists()
