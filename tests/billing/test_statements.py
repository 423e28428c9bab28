"""Statements: line items in Decimal that add up to the total (each amount rounded to the cent, half up), and a
closed month that later usage or a changed price never alters."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from billing.models import MonthlyUsage, Plan, Statement, UsageKind
from billing.render import statement_csv, statement_pdf
from billing.selectors import statement_compute, statement_get
from billing.services import MonthNotOver, statements_close, usage_reconcile, usage_record

from .conftest import price_for

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOV = date(2026, 11, 1)
PLATFORM, CLIENT = Statement.Kind.PLATFORM, Statement.Kind.CLIENT


@pytest.fixture
def november(personas, plan):
    """acme: 150 segments out and 3 voice minutes; bolt: 53 segments in and one look-up."""
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO), tick=False):
        usage_record(client=personas.acme, kind=UsageKind.SEGMENTS_OUT, source="message:1", quantity=150)
        usage_record(client=personas.acme, kind=UsageKind.VOICE_MINUTES, source="call:CA1", quantity=3)
        usage_record(client=personas.bolt, kind=UsageKind.SEGMENTS_IN, source="message:1", quantity=53)
        usage_record(client=personas.bolt, kind=UsageKind.LOOKUPS, source="lookup:1", quantity=1)
    price_for(personas.acme, included_segments=100)
    return NOV


def _lines(data) -> list[tuple[str, int, Decimal, Decimal]]:
    return [(line.description, line.quantity, line.unit_price, line.amount) for line in data.lines]


def test_the_platforms_statement_to_the_agency(personas, november):
    data = statement_compute(kind=PLATFORM, agency=personas.northwind, client=None, month=NOV)
    assert _lines(data) == [
        ("Growth plan, monthly fee", 1, Decimal("49.00"), Decimal("49.00")),
        ("Active clients", 2, Decimal("10.00"), Decimal("20.00")),
        # 203 used against 2 × 100 pooled: 3 × 0.0125 = 0.0375 → 0.04
        ("SMS segments above the 200 included (203 used)", 3, Decimal("0.0125"), Decimal("0.04")),
        # 3 × 0.015 = 0.045 → 0.05 half up (banker's rounding would say 0.04)
        ("Voice minutes", 3, Decimal("0.0150"), Decimal("0.05")),
        ("Line-type look-ups", 1, Decimal("0.0050"), Decimal("0.01")),
    ]
    assert data.total == Decimal("69.10") == sum(line.amount for line in data.lines)
    assert all(isinstance(value, Decimal) for line in data.lines for value in (line.unit_price, line.amount))


def test_the_agencys_statement_to_its_client(personas, november):
    data = statement_compute(kind=CLIENT, agency=personas.northwind, client=personas.acme, month=NOV)
    assert _lines(data) == [
        ("Monthly service", 1, Decimal("99.00"), Decimal("99.00")),
        ("SMS segments above the 100 included (150 used)", 50, Decimal("0.0300"), Decimal("1.50")),
        ("Voice minutes", 3, Decimal("0.0400"), Decimal("0.12")),
    ]
    assert data.total == Decimal("100.62")


def test_a_client_without_a_price_has_an_empty_statement_that_says_why(personas, november):
    data = statement_compute(kind=CLIENT, agency=personas.northwind, client=personas.bolt, month=NOV)
    assert (data.lines, data.total) == ([], Decimal("0.00"))
    assert data.notes == ["The agency has not set a price for this client."]


def test_a_month_cannot_be_closed_before_it_ends_in_the_agencys_zone(personas, november):
    # 23:59 on 30 November in Chicago is already December in UTC.
    late = time_machine.travel(datetime(2026, 11, 30, 23, 59, tzinfo=CHICAGO), tick=False)
    with late, pytest.raises(MonthNotOver):
        statements_close(agency=personas.northwind, month=NOV)
    assert not Statement.objects.exists()


def test_a_closed_month_is_a_snapshot_later_usage_and_prices_do_not_change(personas, november, plan):
    with time_machine.travel(datetime(2026, 12, 1, 0, 30, tzinfo=CHICAGO), tick=False):
        stored = statements_close(agency=personas.northwind, month=NOV)
    assert sorted((s.kind, s.client_id) for s in stored) == sorted(
        [(PLATFORM, None), (CLIENT, personas.acme.pk), (CLIENT, personas.bolt.pk)]
    )
    platform = Statement.objects.get(kind=PLATFORM, agency=personas.northwind, month=NOV)
    assert platform.total == Decimal("69.10")

    # A late status callback recounts a November text, and the operator raises the plan's price.
    usage_reconcile(
        client=personas.acme,
        kind=UsageKind.SEGMENTS_OUT,
        source="message:1",
        quantity=400,
        provider_price=None,
    )
    Plan.objects.filter(pk=plan.pk).update(monthly_price=Decimal("99.00"))
    assert MonthlyUsage.objects.get(client=personas.acme, month=NOV).segments_out == 400

    shown = statement_get(kind=PLATFORM, agency=personas.northwind, client=None, month=NOV)
    assert shown.closed and shown.total == Decimal("69.10")
    assert _lines(shown)[0] == ("Growth plan, monthly fee", 1, Decimal("49.00"), Decimal("49.00"))
    assert (
        statement_compute(kind=PLATFORM, agency=personas.northwind, client=None, month=NOV).total
        != shown.total
    )
    client_shown = statement_get(kind=CLIENT, agency=personas.northwind, client=personas.acme, month=NOV)
    assert client_shown.total == Decimal("100.62")

    with time_machine.travel(datetime(2026, 12, 5, tzinfo=CHICAGO), tick=False):
        again = statements_close(agency=personas.northwind, month=NOV)
    assert {s.pk for s in again} == {s.pk for s in stored}
    assert Statement.objects.get(pk=platform.pk).total == Decimal("69.10")


def test_a_client_holding_a_number_with_no_traffic_is_billed_as_active(personas, plan):
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO), tick=False):
        statements_close(agency=personas.northwind, month=NOV)
    platform = Statement.objects.get(kind=PLATFORM, agency=personas.northwind, month=NOV)
    active = next(line for line in platform.lines if line["description"] == "Active clients")
    assert (active["quantity"], active["amount"]) == (2, "20.00")
    assert platform.total == Decimal("69.00")


def test_the_csv_has_the_same_lines_and_they_add_up(personas, november):
    data = statement_compute(kind=PLATFORM, agency=personas.northwind, client=None, month=NOV)
    rows = list(csv.reader(io.StringIO(statement_csv(data))))
    assert rows[0] == ["description", "quantity", "unit_price", "amount", "currency"]
    lines = rows[1:6]
    total = rows[6]
    assert total[0] == "Total" and Decimal(total[3]) == Decimal("69.10")
    assert sum(Decimal(row[3]) for row in lines) == Decimal(total[3])


def test_the_pdf_is_a_pdf_with_the_total(personas, november):
    data = statement_compute(kind=PLATFORM, agency=personas.northwind, client=None, month=NOV)
    pdf = statement_pdf(data)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 1000


def test_the_close_command_closes_the_last_month_and_refuses_bad_input(personas, november):
    out = io.StringIO()
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=CHICAGO), tick=False):
        call_command("close_billing_month", agency="northwind", stdout=out)
        assert "northwind 2026-11: 3 statements, platform total 69.10" in out.getvalue()
        with pytest.raises(CommandError, match="YYYY-MM"):
            call_command("close_billing_month", month="2026-13")
        with pytest.raises(CommandError, match="not over yet"):
            call_command("close_billing_month", month="2026-12", agency="northwind")
        with pytest.raises(CommandError, match="No agency"):
            call_command("close_billing_month", agency="nobody")
