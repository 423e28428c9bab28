"""Metering, limits and closing months: every write billing makes.

Metering is exact under repeats: each billable event is one UsageEvent row, unique per (client, kind, source),
inserted with ON CONFLICT DO NOTHING; only a row that was really inserted moves the month's counters, in the same
transaction (the one the core published the event in). A repeated webhook or a retried task therefore counts
nothing twice, and a rolled-back send counts nothing at all. The SQL names the public schema because the core
publishes its events while the connection is in the client's schema.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils.timezone import now

from accounts.models import Agency, Client
from messaging import reasons

from .connect import client_invoice_queue
from .models import (
    DEFAULT_TIME_ZONE,
    ClientPrice,
    MonthlyUsage,
    Statement,
    UsageEvent,
    UsageKind,
    UsageWarning,
)
from .months import month_has_ended, month_start
from .payments import PaymentError
from .selectors import agency_time_zone, clients_holding_numbers, statement_compute

log = logging.getLogger(__name__)

WARNING_THRESHOLDS = (80, 100)
# What the send-time veto answers with, and how the inbox and reports word it.
USAGE_LIMIT = reasons.register(
    "usage_limit", text="this month's text allowance is used up", label="Text allowance used up"
)
_SEGMENT_KINDS = {UsageKind.SEGMENTS_OUT, UsageKind.SEGMENTS_IN}


@dataclass(frozen=True)
class UsageTerms:
    """What metering needs to know about a client: its agency's time zone, its included segments (None: no
    limit) and what happens above them."""

    time_zone: str
    included_segments: int | None
    over_limit: str


_TERMS_SQL = """
    SELECT COALESCE(ab.time_zone, %(default_tz)s) AS tz,
           COALESCE(cp.included_segments, p.included_segments_per_client) AS included,
           COALESCE(cp.over_limit, %(default_over_limit)s) AS over_limit
    FROM public.accounts_client c
    LEFT JOIN public.billing_clientprice cp ON cp.client_id = c.id
    LEFT JOIN public.billing_agencybilling ab ON ab.agency_id = c.agency_id
    LEFT JOIN public.billing_plan p ON p.id = ab.plan_id
    WHERE c.id = %(client)s
"""


_TERMS_DEFAULTS = {"default_tz": DEFAULT_TIME_ZONE, "default_over_limit": ClientPrice.OverLimit.BILL_OVERAGE}


def usage_terms(*, client_id: int) -> UsageTerms:
    """One query, whatever schema the connection is in."""
    with connection.cursor() as cursor:
        cursor.execute(_TERMS_SQL, {**_TERMS_DEFAULTS, "client": client_id})
        row = cursor.fetchone()
    if row is None:
        return UsageTerms(DEFAULT_TIME_ZONE, None, ClientPrice.OverLimit.BILL_OVERAGE)
    return UsageTerms(*row)


_COUNTERS = ("segments_out", "segments_in", "calls", "voice_minutes", "lookups")

# One round trip for the whole of metering an event (it runs inside every webhook): the agency's time zone and
# the client's included segments, the event (nothing more happens if it is a repeat), and the month's counters.
# The month is the agency's local calendar month of the event's time.
_RECORD_SQL = """
WITH terms AS ({terms}),
event AS (
    INSERT INTO public.billing_usageevent
        (client_id, kind, source, month, quantity, provider_price, provider_price_unit, occurred_at)
    SELECT %(client)s, %(kind)s, %(source)s, date_trunc('month', %(at)s AT TIME ZONE terms.tz)::date,
           %(delta)s, %(price)s, %(unit)s, %(at)s
    FROM terms
    ON CONFLICT (client_id, kind, source) DO NOTHING
    RETURNING month
),
bumped AS (
    INSERT INTO public.billing_monthlyusage AS m
        (client_id, month, {columns}, numbers_held, provider_cost)
    SELECT %(client)s, event.month, {values}, %(numbers)s, %(cost)s FROM event
    ON CONFLICT (client_id, month) DO UPDATE
        SET {kind} = m.{kind} + EXCLUDED.{kind}, provider_cost = m.provider_cost + EXCLUDED.provider_cost
    RETURNING month, segments_out + segments_in AS segments
)
SELECT bumped.month, bumped.segments, terms.included FROM bumped, terms
"""


def _bump_month(cursor, *, client: Client, month: date, kind: str, delta: int, cost: Decimal) -> int:
    """Add ``delta`` to one counter of the client's month and ``cost`` to its provider cost, creating the row
    (with the number the client holds) on first use. Returns the month's segments after the change."""
    # PostgreSQL checks the row INSERT proposes against the counters' CHECK (>= 0) before ON CONFLICT turns it
    # into an UPDATE, so a negative delta (the provider counted fewer segments than we did) must not appear in
    # VALUES: the new row gets at least 0 and the update adds the delta itself.
    values = ", ".join("GREATEST(%(delta)s, 0)" if column == kind else "0" for column in _COUNTERS)
    cursor.execute(
        f"""
        INSERT INTO public.billing_monthlyusage AS m
            (client_id, month, {", ".join(_COUNTERS)}, numbers_held, provider_cost)
        VALUES (%(client)s, %(month)s, {values}, %(numbers)s, GREATEST(%(cost)s, 0))
        ON CONFLICT (client_id, month) DO UPDATE
            SET {kind} = m.{kind} + %(delta)s, provider_cost = m.provider_cost + %(cost)s
        RETURNING segments_out + segments_in
        """,
        {
            "client": client.pk,
            "month": month,
            "delta": delta,
            "numbers": 1 if client.phone_number else 0,
            "cost": cost,
        },
    )
    return cursor.fetchone()[0]


def provider_price(raw: str | None) -> Decimal | None:
    """Twilio's Price ("-0.00790", negative for a charge) as a positive amount; None when absent or garbled."""
    try:
        return abs(Decimal(str(raw).strip())) if raw not in (None, "") else None
    except ArithmeticError:
        return None


def usage_record(
    *,
    client: Client,
    kind: str,
    source: str,
    quantity: int,
    at: datetime | None = None,
    provider_price: Decimal | None = None,
    provider_price_unit: str = "",
) -> bool:
    """Count one billable event, once. Returns False for a repeat (nothing changes). Call inside the
    transaction that records the event."""
    if kind not in _COUNTERS:
        raise ValueError(f"unknown usage kind {kind!r}")
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL.format(
                terms=_TERMS_SQL,
                kind=kind,
                columns=", ".join(_COUNTERS),
                values=", ".join("%(delta)s" if column == kind else "0" for column in _COUNTERS),
            ),
            {
                **_TERMS_DEFAULTS,
                "client": client.pk,
                "kind": kind,
                "source": source,
                "at": at or now(),
                "delta": quantity,
                "price": provider_price,
                "unit": provider_price_unit[:3],
                "numbers": 1 if client.phone_number else 0,
                "cost": provider_price or Decimal("0"),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return False
    month, segments, included = row
    if kind in _SEGMENT_KINDS:
        _warn_if_due(client=client, month=month, segments=segments, included=included)
    return True


def usage_reconcile(
    *,
    client: Client,
    kind: str,
    source: str,
    quantity: int | None,
    provider_price: Decimal | None,
    provider_price_unit: str = "",
) -> None:
    """The provider's own count (and price) of an event we counted: ours is replaced by theirs, and the
    month's counters move by the difference. Repeating it with the same figures changes nothing. An event we
    never counted is counted now, with the provider's figures."""
    # No savepoint: a failure here fails the caller's transaction anyway (the status callback is retried whole).
    with transaction.atomic(savepoint=False):
        event = UsageEvent.objects.select_for_update().filter(client=client, kind=kind, source=source).first()
        if event is None:
            if quantity is not None:
                usage_record(
                    client=client,
                    kind=kind,
                    source=source,
                    quantity=quantity,
                    provider_price=provider_price,
                    provider_price_unit=provider_price_unit,
                )
            return
        delta = 0 if quantity is None else quantity - event.quantity
        cost = Decimal("0")
        if provider_price is not None and provider_price != event.provider_price:
            cost = provider_price - (event.provider_price or Decimal("0"))
        if not delta and not cost:
            return
        if delta:
            event.quantity = quantity
        if cost:
            event.provider_price = provider_price
            event.provider_price_unit = provider_price_unit[:3]
        event.save(update_fields=["quantity", "provider_price", "provider_price_unit"])
        with connection.cursor() as cursor:
            segments = _bump_month(
                cursor, client=client, month=event.month, kind=kind, delta=delta, cost=cost
            )
    if delta > 0 and kind in _SEGMENT_KINDS:
        _warn_if_due(
            client=client,
            month=event.month,
            segments=segments,
            included=usage_terms(client_id=client.pk).included_segments,
        )


# --- Limits and warnings -----------------------------------------------------------------------------------


def _warn_if_due(*, client: Client, month: date, segments: int, included: int | None) -> None:
    """Record each threshold the client has now reached, once per month, and email about it after commit."""
    if not included:
        return
    for threshold in WARNING_THRESHOLDS:
        if segments * 100 < threshold * included:
            break
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO public.billing_usagewarning (client_id, month, threshold, segments, included, created_at)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (client_id, month, threshold) DO NOTHING RETURNING id
                """,
                [client.pk, month, threshold, segments, included, now()],
            )
            row = cursor.fetchone()
        if row is not None:
            warning_id = row[0]
            transaction.on_commit(lambda warning_id=warning_id: _queue_warning(warning_id))


def _queue_warning(warning_id: int) -> None:
    from .tasks import usage_warning_send  # here, not at the top: the task module imports this one

    try:
        usage_warning_send.apply_async((warning_id,), retry=False)
    except Exception as exc:  # any broker error: the row stays unsent; usage_warnings_send_pending retries it
        log.warning("could not queue usage warning %s: %s", warning_id, exc)


def textback_usage_check(*, client: Client) -> str | None:
    """The send-time veto: "usage_limit" when the agency chose to pause this client's text-backs above its
    included segments and the month has used them up; None otherwise."""
    terms = usage_terms(client_id=client.pk)
    if terms.over_limit != ClientPrice.OverLimit.PAUSE or terms.included_segments is None:
        return None
    month = month_start(now(), terms.time_zone)
    used = (
        MonthlyUsage.objects.filter(client_id=client.pk, month=month)
        .values_list("segments_out", "segments_in")
        .first()
    )
    return USAGE_LIMIT if used and sum(used) >= terms.included_segments else None


# --- Closing months ----------------------------------------------------------------------------------------


class MonthNotOver(ValueError):
    pass


def usage_month_open(*, agency: Agency, month: date) -> None:
    """Make sure every client of the agency that holds a number has a usage row for the month, so a client
    with no traffic is still billed as active and for its number."""
    clients = clients_holding_numbers(agency=agency)
    existing = set(
        MonthlyUsage.objects.filter(client__in=clients, month=month).values_list("client_id", flat=True)
    )
    MonthlyUsage.objects.bulk_create(
        [
            MonthlyUsage(client=client, month=month, numbers_held=1)
            for client in clients
            if client.pk not in existing
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def statements_close(*, agency: Agency, month: date) -> list[Statement]:
    """Snapshot the month's statements, the platform's to the agency and the agency's to each client. Once
    stored they never change; closing again returns what is stored. Refuses a month not yet over in the
    agency's time zone."""
    time_zone = agency_time_zone(agency=agency)
    if not month_has_ended(month, time_zone):
        raise MonthNotOver(f"{month:%Y-%m} is not over yet in {time_zone}.")
    # One closer at a time per agency: a second waits here, then finds the first one's rows.
    Agency.objects.select_for_update().filter(pk=agency.pk).first()
    usage_month_open(agency=agency, month=month)
    statements = []
    computed = [statement_compute(kind=Statement.Kind.PLATFORM, agency=agency, client=None, month=month)]
    for client in Client.objects.filter(agency=agency).order_by("name"):
        if MonthlyUsage.objects.filter(client=client, month=month).exists():
            computed.append(
                statement_compute(kind=Statement.Kind.CLIENT, agency=agency, client=client, month=month)
            )
    for data in computed:
        stored = Statement.objects.filter(
            kind=data.kind, agency=agency, client=data.client, month=month
        ).first()
        if stored is None:
            stored = Statement.objects.create(
                kind=data.kind,
                agency=agency,
                client=data.client,
                month=month,
                currency=data.currency,
                lines=[line.as_json() for line in data.lines],
                total=data.total,
            )
            # An agency invoicing through its own Stripe gets the new statement sent as an invoice (a task).
            client_invoice_queue(statement=stored)
        statements.append(stored)
    return statements


# --- Payment -----------------------------------------------------------------------------------------------


@transaction.atomic
def statement_collect(*, statement: Statement, gateway) -> Statement:
    """Ask the payment gateway to collect a closed statement, once: a paid (or zero) one is left alone, and a
    failure is recorded on the statement for the next attempt."""
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    if statement.paid_at is not None or statement.total <= 0:
        return statement
    try:
        reference = gateway.collect(statement=statement)
    except PaymentError as exc:
        statement.payment_error = str(exc)[:255]
        statement.save(update_fields=["payment_error"])
        return statement
    statement.payment_reference = reference[:120]
    statement.paid_at = now()
    statement.payment_error = ""
    statement.save(update_fields=["payment_reference", "paid_at", "payment_error"])
    return statement


def usage_warning_mark_sent(*, warning_id: int) -> UsageWarning | None:
    """Claim a warning for emailing: the row if this caller is the one to send it, None if it is sent."""
    claimed = UsageWarning.objects.filter(pk=warning_id, emailed_at__isnull=True).update(emailed_at=now())
    return UsageWarning.objects.select_related("client__agency").get(pk=warning_id) if claimed else None
