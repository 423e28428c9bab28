"""Billing reads: who may see what, this month's usage, and statements (a closed month's stored snapshot, or an
open month's figures computed from the counters).

Arithmetic: quantities are whole units; unit prices carry up to four decimal places; each line's amount is
quantity × unit price rounded to the cent, half up (ROUND_HALF_UP); a statement's total is the sum of its
rounded lines, so the lines always add up to the total shown.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.http import Http404, HttpRequest

from accounts.models import Agency, AgencyMembership, Client, ClientMembership, User
from accounts.selectors import agencies_of_user, request_client

from .models import DEFAULT_TIME_ZONE, AgencyBilling, ClientInvoice, ClientPrice, MonthlyUsage, Statement
from .months import current_month

CENT = Decimal("0.01")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# --- Access ------------------------------------------------------------------------------------------------


def agency_for_user(*, request: HttpRequest, slug: str) -> Agency:
    """The one way a billing page finds an agency: one the person belongs to (operators: any), on a host that
    serves it (an agency's own domain serves only that agency). Anything else is the same 404 as no agency."""
    agencies = agencies_of_user(request.user)
    if getattr(request, "agency", None) is not None:
        agencies = agencies.filter(pk=request.agency.pk)
    agency = agencies.filter(slug=slug).first()
    if agency is None:
        raise Http404("No such agency.")
    return agency


def agency_user_is_admin(*, user: User, agency: Agency) -> bool:
    return (
        user.is_superuser
        or AgencyMembership.objects.filter(
            user=user, agency=agency, role=AgencyMembership.Role.ADMIN
        ).exists()
    )


def agencies_administered(*, user: User):
    """The agencies this person is an admin of (operators: all)."""
    if user.is_superuser:
        return Agency.objects.all()
    return Agency.objects.filter(
        memberships__user=user, memberships__role=AgencyMembership.Role.ADMIN
    ).distinct()


def client_of_agency(*, agency: Agency, slug: str) -> Client:
    """A client of this agency, or 404 (another agency's client is not found here)."""
    client = Client.objects.select_related("agency").filter(agency=agency, slug=slug).first()
    if client is None:
        raise Http404("No such client.")
    return client


def client_statement_access(*, request: HttpRequest) -> Client:
    """On a client's host: the client, if this person may read its statement: its agency's people and
    operators always; its owners when the agency allows it (ClientPrice.owner_sees_statement); no one else."""
    client = request_client(request)
    if client is None:
        raise Http404("Statements for a business live on its own host.")
    user = request.user
    if user.is_superuser or AgencyMembership.objects.filter(user=user, agency_id=client.agency_id).exists():
        return client
    allowed = ClientPrice.objects.filter(client=client, owner_sees_statement=True).exists()
    if (
        allowed
        and ClientMembership.objects.filter(
            user=user, client=client, role=ClientMembership.Role.OWNER
        ).exists()
    ):
        return client
    raise Http404("No statement here.")


# --- Usage -------------------------------------------------------------------------------------------------


def agency_time_zone(*, agency: Agency) -> str:
    return (
        AgencyBilling.objects.filter(agency=agency).values_list("time_zone", flat=True).first()
        or DEFAULT_TIME_ZONE
    )


def agency_plan(*, agency: Agency):
    billing = AgencyBilling.objects.select_related("plan").filter(agency=agency).first()
    return billing.plan if billing else None


def client_included_segments(*, client: Client, price: ClientPrice | None, plan) -> int | None:
    if price is not None and price.included_segments is not None:
        return price.included_segments
    return plan.included_segments_per_client if plan is not None else None


@dataclass
class ClientUsage:
    client: Client
    usage: MonthlyUsage
    included: int | None
    over_limit: str

    @property
    def percent_used(self) -> int | None:
        if not self.included:
            return None
        return self.usage.segments * 100 // self.included

    @property
    def paused_by_limit(self) -> bool:
        return (
            self.over_limit == ClientPrice.OverLimit.PAUSE
            and self.included is not None
            and self.usage.segments >= self.included
        )


def agency_usage(*, agency: Agency, month: date) -> list[ClientUsage]:
    """Every client of the agency with its usage in the month (zeros for a client with none yet)."""
    clients = list(Client.objects.filter(agency=agency).order_by("name"))
    rows = {row.client_id: row for row in MonthlyUsage.objects.filter(client__in=clients, month=month)}
    prices = {price.client_id: price for price in ClientPrice.objects.filter(client__in=clients)}
    plan = agency_plan(agency=agency)
    result = []
    for client in clients:
        price = prices.get(client.pk)
        result.append(
            ClientUsage(
                client=client,
                usage=rows.get(client.pk) or MonthlyUsage(client=client, month=month),
                included=client_included_segments(client=client, price=price, plan=plan),
                over_limit=price.over_limit if price else ClientPrice.OverLimit.BILL_OVERAGE,
            )
        )
    return result


def agency_months(*, agency: Agency) -> list[date]:
    """The months with usage or a statement, newest first, always including the current one."""
    months = set(MonthlyUsage.objects.filter(client__agency=agency).values_list("month", flat=True))
    months |= set(Statement.objects.filter(agency=agency).values_list("month", flat=True))
    months.add(current_month(agency_time_zone(agency=agency)))
    return sorted(months, reverse=True)


# --- Statements --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal

    @classmethod
    def of(cls, description: str, quantity: int, unit_price: Decimal) -> "StatementLine":
        return cls(description, quantity, unit_price, money(quantity * unit_price))

    def as_json(self) -> dict:
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": str(self.unit_price),
            "amount": str(self.amount),
        }

    @classmethod
    def from_json(cls, data: dict) -> "StatementLine":
        return cls(
            data["description"], int(data["quantity"]), Decimal(data["unit_price"]), Decimal(data["amount"])
        )


@dataclass
class StatementData:
    kind: str
    agency: Agency
    client: Client | None
    month: date
    currency: str
    lines: list[StatementLine]
    total: Decimal
    closed_at: datetime | None = None
    stored: Statement | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.stored is not None


def _usage_rows(*, agency: Agency, client: Client | None, month: date) -> list[MonthlyUsage]:
    rows = MonthlyUsage.objects.filter(client__agency=agency, month=month)
    return list(rows.filter(client=client) if client is not None else rows)


def clients_holding_numbers(*, agency: Agency):
    return Client.objects.filter(
        agency=agency, status__in=[Client.Status.LIVE, Client.Status.PAUSED], phone_number__isnull=False
    )


def _is_active(row: MonthlyUsage) -> bool:
    return bool(row.numbers_held or row.segments or row.calls or row.voice_minutes or row.lookups)


def statement_compute(*, kind: str, agency: Agency, client: Client | None, month: date) -> StatementData:
    """The month's statement from the live counters (what closing it would store)."""
    rows = _usage_rows(agency=agency, client=client, month=month)
    segments = sum(row.segments for row in rows)
    minutes = sum(row.voice_minutes for row in rows)
    if kind == Statement.Kind.PLATFORM:
        plan = agency_plan(agency=agency)
        if plan is None:
            return StatementData(
                kind,
                agency,
                None,
                month,
                "USD",
                [],
                Decimal("0.00"),
                notes=["No plan is set for this agency."],
            )
        active = sum(1 for row in rows if _is_active(row))
        if month == current_month(agency_time_zone(agency=agency)):
            # Closing the month gives every client holding a number a row; until then, count them here.
            active += (
                clients_holding_numbers(agency=agency).exclude(pk__in=[row.client_id for row in rows]).count()
            )
        included = active * plan.included_segments_per_client
        lines = [
            StatementLine.of(f"{plan.name} plan, monthly fee", 1, plan.monthly_price),
            StatementLine.of("Active clients", active, plan.price_per_active_client),
            StatementLine.of(
                f"SMS segments above the {included} included ({segments} used)",
                max(0, segments - included),
                plan.overage_per_segment,
            ),
            StatementLine.of("Voice minutes", minutes, plan.price_per_voice_minute),
            StatementLine.of("Line-type look-ups", sum(row.lookups for row in rows), plan.price_per_lookup),
        ]
        currency = plan.currency
    else:
        price = ClientPrice.objects.filter(client=client).first()
        plan = agency_plan(agency=agency)
        currency = plan.currency if plan else "USD"
        if price is None:
            return StatementData(
                kind,
                agency,
                client,
                month,
                currency,
                [],
                Decimal("0.00"),
                notes=["The agency has not set a price for this client."],
            )
        included = client_included_segments(client=client, price=price, plan=plan) or 0
        lines = [
            StatementLine.of("Monthly service", 1, price.monthly_price),
            StatementLine.of(
                f"SMS segments above the {included} included ({segments} used)",
                max(0, segments - included),
                price.price_per_segment,
            ),
            StatementLine.of("Voice minutes", minutes, price.price_per_voice_minute),
        ]
    return StatementData(
        kind, agency, client, month, currency, lines, sum((line.amount for line in lines), Decimal("0.00"))
    )


def statement_get(*, kind: str, agency: Agency, client: Client | None, month: date) -> StatementData:
    """A closed month's stored snapshot, or the open month's figures so far."""
    stored = Statement.objects.filter(kind=kind, agency=agency, client=client, month=month).first()
    if stored is None:
        return statement_compute(kind=kind, agency=agency, client=client, month=month)
    return StatementData(
        kind,
        agency,
        client,
        month,
        stored.currency,
        [StatementLine.from_json(line) for line in stored.lines],
        stored.total,
        closed_at=stored.closed_at,
        stored=stored,
    )


# --- What a client paid for a period (the reports' return on cost) ----------------------------------------


def client_price_for_period(*, client: Client, start: date, end: date) -> Decimal | None:
    """What the agency charges the client for local days start..end: each month's client statement (the stored
    one once the month is closed, the figures so far while it is open), in proportion to the month's days the
    period covers (a whole month is its whole statement; 1–15 March is 15/31 of March's), summed and rounded to
    the cent. None when the agency has set no price for the client and no statement of it was ever closed."""
    return client_prices_for_period(clients=[client], start=start, end=end)[client.pk]


def client_prices_for_period(*, clients, start: date, end: date) -> dict[int, Decimal | None]:
    """client_price_for_period of many clients of one agency in five queries, however many: the stored
    statements (the period's, and whether any exists), the prices, the usage of the open months, and the plan. An open month's figure is
    statement_compute's for a client (monthly price, segments above the included ones, voice minutes)."""
    clients = list(clients)
    if not clients:
        return {}
    months = []
    month = start.replace(day=1)
    while month <= end:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        covered = (min(end, following - timedelta(days=1)) - max(start, month)).days + 1
        months.append((month, covered, (following - month).days))
        month = following
    ids = [c.pk for c in clients]
    stored = {
        (row.client_id, row.month): row.total
        for row in Statement.objects.filter(
            kind=Statement.Kind.CLIENT, client_id__in=ids, month__in=[m for m, _, _ in months]
        )
    }
    ever_stored = set(
        Statement.objects.filter(kind=Statement.Kind.CLIENT, client_id__in=ids).values_list(
            "client_id", flat=True
        )
    )
    prices = {price.client_id: price for price in ClientPrice.objects.filter(client_id__in=ids)}
    usage = {
        (row.client_id, row.month): row
        for row in MonthlyUsage.objects.filter(client_id__in=ids, month__in=[m for m, _, _ in months])
    }
    plan = agency_plan(agency=clients[0].agency)
    result: dict[int, Decimal | None] = {}
    for client in clients:
        price = prices.get(client.pk)
        if price is None and client.pk not in ever_stored:
            result[client.pk] = None
            continue
        total = Decimal(0)
        for month, covered, days_in_month in months:
            figure = stored.get((client.pk, month))
            if figure is None and price is not None:
                row = usage.get((client.pk, month))
                segments = row.segments if row else 0
                minutes = row.voice_minutes if row else 0
                included = client_included_segments(client=client, price=price, plan=plan) or 0
                figure = (
                    money(price.monthly_price)
                    + money(max(0, segments - included) * price.price_per_segment)
                    + money(minutes * price.price_per_voice_minute)
                )
            total += (figure or Decimal(0)) * covered / days_in_month
        result[client.pk] = money(total)
    return result


# --- Stripe invoices (billing.connect) ---------------------------------------------------------------------


def unpaid_invoices(*, agencies) -> list[ClientInvoice]:
    """Client invoices of these agencies whose card payment failed and are not paid yet, for the dashboard."""
    return list(
        ClientInvoice.objects.filter(agency__in=agencies, status=ClientInvoice.Status.PAYMENT_FAILED)
        .select_related("client", "statement")
        .order_by("client__name")[:20]
    )


def payment_pause(*, client: Client) -> ClientInvoice | None:
    """The unpaid invoice that holds this client's text-backs paused, if one does."""
    return (
        ClientInvoice.objects.filter(client=client, paused_client=True)
        .select_related("statement")
        .order_by("statement__month")
        .first()
    )
