"""The report pages: who may see which, and that they show the known history's numbers.

Client host /reports/: the client's people and its agency's staff; anyone else is logged out by the host and
sent to log in. Agency host /reports/: the agency's people see their clients only; another agency's client is a
404 like a missing one."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import AgencyBilling

pytestmark = pytest.mark.django_db

ACME = "acme.localhost"
PERIOD = "?preset=custom&start=2026-10-31&end=2026-11-02"
ALLOWED_ON_ACME = ["alice", "bob", "nina", "nate", "oscar"]
TURNED_AWAY_FROM_ACME = ["dave", "erin", "sara", "charlie"]


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("who", ALLOWED_ON_ACME)
def test_the_clients_people_and_agency_staff_see_the_report(web, personas, who):
    response = web(ACME, getattr(personas, who)).get("/reports/")
    assert response.status_code == 200
    assert "Recovered revenue · Acme Plumbing" in response.content.decode()


@pytest.mark.parametrize("who", [*TURNED_AWAY_FROM_ACME, None])
@pytest.mark.parametrize("path", ["/reports/", "/reports/export/calls.csv", "/reports/monthly.pdf"])
def test_strangers_and_anonymous_are_sent_to_log_in(web, personas, who, path):
    response = web(ACME, getattr(personas, who) if who else None).get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/reports/")


def test_the_report_shows_the_known_history(web, history):
    text = _text(web(ACME, history.alice).get("/reports/" + PERIOD))
    assert "Missed calls 8" in text and "Text-backs sent 5" in text
    assert "Reply rate 60.0%" in text and "Recovered revenue $1,650.50" in text
    assert "Time to first staff reply (median) 10 min" in text
    assert "Time to first staff reply (90th percentile) 26 min" in text
    # The estimate is there, and said to be one.
    assert "1 booked job without an outcome yet × $300.00 average job value ≈ $300.00" in text
    assert "this is an estimate, not counted in recovered revenue" in text
    assert "Landline 1" in text and "Caller hid their number 1" in text and "On the block list 1" in text
    assert "3 in business hours, 5 after hours" in text
    # The period before (28–30 Oct) had Friday's answered call only.
    assert "Calls 9 1 +800%" in text


def test_the_charts_are_svg_without_inline_style_or_script(web, history):
    html = web(ACME, history.alice).get("/reports/" + PERIOD + "&bucket=day").content.decode()
    assert html.count('<svg class="chart"') == 6  # trends ×2, when missed ×2, missed-call rate ×2
    assert "<title>2 Nov: Recovered revenue $1,650.50</title>" in html
    assert "<title>31 Oct: Missed calls 2</title>" in html
    assert " style=" not in html and not re.search(r"<script(?![^>]* src=)", html)  # scripts are files


def test_the_revenue_chart_has_the_period_before_beside_it(web, history):
    html = (
        web(ACME, history.alice)
        .get("/reports/?preset=custom&start=2026-11-03&end=2026-11-05")
        .content.decode()
    )
    # 3–5 Nov against 31 Oct–2 Nov, day by day: the third bars are 5 Nov ($0) and 2 Nov ($1,650.50).
    assert "<title>5 Nov: Recovered revenue $0.00</title>" in html
    assert "<title>2 Nov: The period before $1,650.50</title>" in html


def test_a_bad_period_is_explained_and_this_month_shown(web, personas):
    response = web(ACME, personas.alice).get("/reports/?preset=custom&start=2026-11-05&end=2026-11-01")
    assert response.status_code == 200
    assert "The period ends before it starts. Showing this month instead." in _text(response)
    response = web(ACME, personas.alice).get("/reports/?preset=custom&start=2026-11-05")
    assert "A custom period needs a start and an end date." in _text(response)
    assert web(ACME, personas.alice).get("/reports/?preset=nonsense&start=garbage").status_code == 200


# --- The agency's host ------------------------------------------------------------------------------------


def test_agency_rollup_ranks_its_clients_by_recovered_revenue(web, history):
    text = _text(
        web("localhost", history.nate).get("/reports/?preset=custom&start=2026-11-01&end=2026-11-30")
    )
    assert "Recovered revenue · Northwind Marketing" in text
    # Recovered, then the return on cost (no price set: —), then the estimate.
    assert re.search(r"1 Acme Plumbing .*\$1,650\.50 — \$300\.00 2 Bolt Electric .*\$99\.99", text)
    assert "Cedar Roofing" not in text and "5,000" not in text
    assert "Recovered revenue $1,750.49" in text


def test_the_agency_reports_this_month_is_the_agencys_month(web, history):
    """The month its bills count, in the agency's time zone: at 03:00 UTC on 1 December it is still
    30 November in Los Angeles, so "this month" is November, with November's numbers."""
    AgencyBilling.objects.update_or_create(
        agency=history.northwind, defaults={"time_zone": "America/Los_Angeles"}
    )
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        text = _text(web("localhost", history.nate).get("/reports/"))
    assert (
        "1 Nov 2026 – 30 Nov 2026" in text and "Periods are the agency's days (America/Los_Angeles)" in text
    )
    assert "Recovered revenue $1,750.49" in text


def test_the_agency_report_has_the_reply_times_and_when_calls_are_missed(web, history):
    text = _text(web("localhost", history.nate).get("/reports/" + PERIOD))
    # Across Acme and Bolt: Acme's three answered text-backs (10, 30, 10 minutes).
    assert "Time to first staff reply (median) 10 min" in text
    assert "Time to first staff reply (90th percentile) 26 min" in text
    assert "4 in business hours, 5 after hours" in text  # Bolt is open 24/7


@pytest.mark.parametrize("who", ["nina", "nate", "oscar"])
def test_agency_staff_open_a_clients_report(web, history, who):
    response = web("localhost", getattr(history, who)).get("/reports/clients/acme/" + PERIOD)
    assert response.status_code == 200
    assert "Recovered revenue $1,650.50" in _text(response)


@pytest.mark.parametrize("path", ["/reports/clients/acme/", "/reports/clients/acme/monthly.pdf"])
def test_another_agencys_client_is_404(web, personas, path):
    assert web("localhost", personas.sara).get(path).status_code == 404
    assert web("localhost", personas.nina).get("/reports/clients/no-such-client/").status_code == 404


def test_sara_sees_only_her_agency(web, history):
    text = _text(
        web("localhost", history.sara).get("/reports/?preset=custom&start=2026-11-01&end=2026-11-30")
    )
    assert "Southpeak Digital" in text and "Cedar Roofing" in text and "Acme Plumbing" not in text
    assert web("localhost", history.sara).get("/reports/?agency=northwind").status_code == 404


@pytest.mark.parametrize("who", ["alice", "dave", "erin", "charlie", None])
def test_client_people_and_strangers_get_no_agency_report(web, personas, who):
    response = web("localhost", getattr(personas, who) if who else None).get("/reports/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_agency_report_is_not_on_a_clients_host(web, personas):
    assert web(ACME, personas.nina).get("/reports/clients/acme/").status_code == 404


def test_exports_are_on_the_clients_own_host_only(web, personas):
    assert web("localhost", personas.nina).get("/reports/export/calls.csv").status_code == 404


def test_read_only_staff_see_the_report_and_may_export(web, personas, reader):
    browser = web(ACME, reader)
    assert browser.get("/reports/").status_code == 200
    assert browser.get("/reports/export/funnel.csv").status_code == 200


def test_the_clients_navigation_leads_to_the_report(web, personas):
    html = web(ACME, personas.bob).get("/inbox/").content.decode()
    nav = html.split('<nav class="shell-nav" aria-label="Main">')[1].split("</nav>")[0]
    assert re.search(r'<a href="/reports/"[^>]*>.*?<span>Reports</span></a>', nav, re.S)


def test_the_clients_report_reads_only_the_rollups(history, django_assert_num_queries):
    """However many calls: seven indexed reads of the public roll-ups for any period (the seventh: both periods'
    calls by weekday), none of the client's tables."""
    from reports.selectors import Period
    from reports.views import client_report_data

    year = Period(date(2026, 1, 1), date(2026, 12, 31), "America/Chicago")
    with django_assert_num_queries(7) as captured:
        data = client_report_data(client=history.acme, period=year, bucket="month")
    assert (data["funnel"].calls, data["funnel"].missed_calls, data["funnel"].first_reply_median_seconds) == (
        11,
        8,
        600,
    )
    tables = " ".join(query["sql"] for query in captured.captured_queries)
    # A whole year is twelve whole months: read from the monthly roll-ups, no day of it from the daily ones.
    assert "reports_monthlyrollup" in tables and "reports_firststaffreply" in tables
    assert not any(name in tables for name in ("telephony_call", "messaging_message", "crm_outcome"))


@pytest.mark.parametrize(
    "start, end, bucket",
    [
        (date(2026, 10, 31), date(2026, 11, 2), "day"),
        (date(2026, 11, 1), date(2026, 11, 30), "day"),
        (date(2026, 1, 1), date(2026, 12, 31), "month"),
    ],
)
def test_the_agencys_report_data_is_a_few_reads_of_the_rollups(
    history, django_assert_num_queries, start, end, bucket
):
    """However many clients and days: the clients and their ranking, then the funnel day by day, the skip
    reasons and both periods' reply times (in one transaction with its SETs), none of a client's tables; the
    same numbers as each one summed on its own (funnel_for_clients, rollup_trends)."""
    from reports.selectors import Period, funnel_for_clients, rollup_trends, set_weekdays
    from reports.views import agency_report_data

    period = Period(start, end, "America/Chicago")
    previous = period.previous()
    # two for the ranking; the funnels' transaction: its savepoint, two SETs, five reads, its release
    with django_assert_num_queries(2 + 1 + 2 + 5 + 1) as captured:
        data = agency_report_data(agency=history.northwind, period=period, bucket=bucket)
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert not any(name in sql for name in ("telephony_call", "messaging_message", "crm_outcome"))
    ids = [history.acme.pk, history.bolt.pk]
    assert sorted(r.client.pk for r in data["ranking"]) == sorted(ids)
    totals = funnel_for_clients(client_ids=ids, start=period.start, end=period.end)
    before = funnel_for_clients(client_ids=ids, start=previous.start, end=previous.end, reasons=False)
    set_weekdays(
        [totals, before], client_ids=ids, periods=[(period.start, period.end), (previous.start, previous.end)]
    )
    assert data["totals"] == totals
    assert data["before"] == before
    assert (data["trend"], data["trend_before"]) == tuple(
        rollup_trends(client_ids=ids, periods=[period, previous], bucket=bucket)
    )
    if (start, end) == (date(2026, 10, 31), date(2026, 11, 2)):  # the known history, as the page shows it
        assert data["totals"].calls == 10 and data["totals"].recovered_revenue == Decimal("1750.49")
        assert (data["totals"].first_reply_median_seconds, data["totals"].first_reply_p90_seconds) == (
            600,
            1560,
        )
