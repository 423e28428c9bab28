"""Return on cost: recovered revenue against what the agency charges the client for the period, and the
estimate shown apart. Every number worked out by hand.

March 2026 at Acme (one day's roll-up, as the events would leave it): 40 calls, 20 missed, 18 text-backs,
10 replies, 3 booked (2 still without an outcome), 2 won worth $1,000. Average job value $300, 20% of replies
become a job, and Acme pays $100 a month.

- recovered: $1,000; cost: $100 → returned 10.0× its cost
- estimate: 2 booked × $300 = $600; replies not booked or won 10 − 3 − 2 = 5, × 20% × $300 = $300; $900 in all
  → with the estimate (1,000 + 900) / 100 = 19.0×"""

import re
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Client
from billing.models import ClientPrice, Statement
from billing.selectors import client_price_for_period
from reports.rollups import rollup_bump
from reports.selectors import Period, funnel_for_client, return_on_cost

pytestmark = pytest.mark.django_db

CHI = "America/Chicago"
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), CHI)
REPORT = "/reports/?preset=custom&start=2026-03-01&end=2026-03-31"


@pytest.fixture
def march(personas):
    acme = personas.acme
    rollup_bump(
        client_id=acme.pk,
        day=date(2026, 3, 10),
        calls=40,
        missed_calls=20,
        textbacks_sent=18,
        replies=10,
        booked=3,
        booked_pending=2,
        won=2,
        won_value=Decimal("1000.00"),
    )
    Client.objects.filter(pk=acme.pk).update(average_job_value="300.00", reply_conversion_rate="20.00")
    ClientPrice.objects.create(client=acme, monthly_price=Decimal("100.00"))
    acme.refresh_from_db()
    yield acme
    Client.objects.filter(pk=acme.pk).update(average_job_value=None, reply_conversion_rate=None)
    personas.acme.refresh_from_db()


def _roi(client, period=MARCH):
    return return_on_cost(
        client=client, funnel=funnel_for_client(client=client, period=period), period=period
    )


def test_returned_its_cost_with_the_estimate_apart(march):
    roi = _roi(march)
    assert (roi.recovered, roi.cost, roi.multiple) == (Decimal("1000.00"), Decimal("100.00"), Decimal("10.0"))
    assert roi.estimate_booked == Decimal("600.00")
    assert roi.open_replies == 5 and roi.estimate_replies == Decimal("300.00")
    assert roi.estimate == Decimal("900.00") and roi.multiple_with_estimate == Decimal("19.0")


def test_without_a_conversion_rate_replies_are_not_valued(march):
    march.reply_conversion_rate = None
    roi = _roi(march)
    assert roi.estimate_replies is None and roi.estimate == Decimal("600.00")
    assert roi.multiple_with_estimate == Decimal("16.0")  # (1,000 + 600) / 100
    march.average_job_value = None
    roi = _roi(march)
    assert roi.estimate is None and roi.multiple_with_estimate is None and roi.multiple == Decimal("10.0")


def test_part_of_a_month_costs_its_share_of_the_days(march):
    # 1–15 March: 15/31 of $100 = $48.387… → $48.39; the won jobs of the 10th are in it.
    half = Period(date(2026, 3, 1), date(2026, 3, 15), CHI)
    assert client_price_for_period(client=march, start=half.start, end=half.end) == Decimal("48.39")
    assert _roi(march, half).multiple == Decimal("20.7")  # 1,000 / 48.39 = 20.66…


def test_a_closed_month_costs_what_its_statement_says(march):
    # February was closed at $130 (its usage above the monthly price); March is still open at $100.
    Statement.objects.create(
        kind=Statement.Kind.CLIENT,
        agency=march.agency,
        client=march,
        month=date(2026, 2, 1),
        lines=[{"description": "Monthly service", "quantity": 1, "unit_price": "130.00", "amount": "130.00"}],
        total=Decimal("130.00"),
    )
    assert client_price_for_period(client=march, start=date(2026, 2, 1), end=date(2026, 3, 31)) == Decimal(
        "230.00"
    )


def test_no_price_no_return(personas):
    roi = _roi(personas.bolt)
    assert roi.cost is None and roi.multiple is None


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("who", ["alice", "bob", "nate"])
def test_the_report_says_what_it_returned(web, march, personas, who):
    text = _text(web("acme.localhost", getattr(personas, who)).get(REPORT))
    assert "Returned 10.0× its cost" in text
    assert "Recovered revenue (won jobs) $1,000.00" in text
    assert "Price for the period (the client's statements, by days) $100.00" in text
    assert "Estimate (this is an estimate, not counted in recovered revenue):" in text
    assert "2 booked jobs without an outcome yet × $300.00 average job value ≈ $600.00" in text
    assert "5 replies not booked or won × 20% conversion × $300.00 ≈ $300.00" in text
    assert "With the estimate: 19.0× its cost." in text


def test_the_agency_sees_the_return_on_the_clients_report(web, march, personas):
    text = _text(web("localhost", personas.nate).get("/reports/clients/acme/" + REPORT.split("/reports/")[1]))
    assert "Returned 10.0× its cost" in text


def test_another_agency_sees_no_return(web, march, personas):
    # Southpeak's admin: Acme is not theirs, on the agency's host (404) or on Acme's host (sent to log in).
    assert web("localhost", personas.sara).get("/reports/clients/acme/").status_code == 404
    response = web("acme.localhost", personas.sara).get(REPORT)
    assert response.status_code == 302 and "Returned" not in response.content.decode()


def test_without_a_price_the_report_says_so(web, personas):
    text = _text(web("bolt.localhost", personas.dave).get(REPORT))
    assert "No price is set for Bolt Electric yet" in text and "Returned" not in text


def test_an_open_months_price_is_its_statement_so_far(march):
    # 80 segments against 50 included at $0.05 ($1.50) and 30 voice minutes at $0.10 ($3.00) on $100: $104.50,
    # what the statement page says for March.
    from billing.models import MonthlyUsage
    from billing.selectors import client_prices_for_period, statement_compute

    ClientPrice.objects.filter(client=march).update(
        included_segments=50, price_per_segment=Decimal("0.05"), price_per_voice_minute=Decimal("0.10")
    )
    MonthlyUsage.objects.create(client=march, month=date(2026, 3, 1), segments_out=80, voice_minutes=30)
    statement = statement_compute(kind="client", agency=march.agency, client=march, month=date(2026, 3, 1))
    assert statement.total == Decimal("104.50")
    assert client_price_for_period(client=march, start=MARCH.start, end=MARCH.end) == Decimal("104.50")
    prices = client_prices_for_period(
        clients=[march, march.agency.clients.get(slug="bolt")], start=MARCH.start, end=MARCH.end
    )
    assert list(prices.values()) == [Decimal("104.50"), None]


def test_the_agency_sees_each_clients_return_and_all_of_them(web, march, personas):
    text = _text(web("localhost", personas.nate).get(REPORT))
    assert "Returned 10.0× what they paid" in text
    assert "The 1 client with a price: $1,000.00 recovered (won jobs) against $100.00 of statements" in text
    assert re.search(r"Acme Plumbing .*? \$1,000\.00 10\.0× ", text)
    assert re.search(r"Bolt Electric .*? \$0\.00 — ", text)
    # Southpeak's roll-up has none of it.
    assert "Returned" not in _text(web("localhost", personas.sara).get(REPORT))
