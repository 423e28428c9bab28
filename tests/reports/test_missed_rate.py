"""The missed-call rate (missed calls / all calls), of a client and of an agency's clients together, by hour of
the day and by day of the week, beside the period before: every number worked out by hand from the known
history (tests/reports/history.py).

Acme, 31 Oct – 2 Nov (Chicago): Sat 09:30 missed, 14:00 answered, 23:30 missed; Sun 01:30 CDT and 01:30 CST
missed, 23:59 missed; Mon 10:00, 16:59 and 23:30 missed. 8 of 9 calls missed. The period before (28–30 Oct) has
only Friday's 23:59, answered: 0 of 1. Bolt (same agency, New York): Sun 00:30 missed, 1 of 1."""

from datetime import date
from decimal import Decimal

import pytest

from reports.selectors import Period, funnel_for_client, set_weekdays
from reports.views import agency_report_data, client_report_data

pytestmark = pytest.mark.django_db

CHI = "America/Chicago"
PERIOD = Period(date(2026, 10, 31), date(2026, 11, 2), CHI)
MON, FRI, SAT, SUN = 0, 4, 5, 6


def _d(value: str) -> Decimal:
    return Decimal(value)


def test_a_clients_missed_call_rate_and_the_period_before(history):
    data = client_report_data(client=history.acme, period=PERIOD, bucket="day")
    funnel, before = data["funnel"], data["before"]
    assert (funnel.missed_calls, funnel.calls, funnel.missed_rate) == (8, 9, _d("88.9"))  # 8/9 = 88.888…
    assert (before.missed_calls, before.calls, before.missed_rate) == (0, 1, _d("0.0"))


def test_a_clients_rate_by_hour_of_day(history):
    funnel = funnel_for_client(client=history.acme, period=PERIOD)
    assert {h: n for h, n in enumerate(funnel.calls_by_hour) if n} == {1: 2, 9: 1, 10: 1, 14: 1, 16: 1, 23: 3}
    rates = funnel.missed_rate_by_hour
    assert rates[23] == _d("100.0")  # Sat 23:30, Sun 23:59, Mon 23:30: all missed
    assert rates[1] == _d("100.0")  # both 01:30s of the night the clocks went back
    assert rates[14] == _d("0.0")  # Saturday's 14:00 was answered
    assert rates[12] is None  # no calls at noon: no rate, not 0%
    assert sum(rate is not None for rate in rates) == 6


def test_a_clients_rate_by_day_of_the_week_beside_the_week_before(history):
    data = client_report_data(client=history.acme, period=PERIOD, bucket="day")
    funnel, before = data["funnel"], data["before"]
    assert funnel.calls_by_weekday == [3, 0, 0, 0, 0, 3, 3]
    assert funnel.missed_by_weekday == [3, 0, 0, 0, 0, 2, 3]
    assert funnel.missed_rate_by_weekday[SAT] == _d("66.7")  # 2 of 3
    assert funnel.missed_rate_by_weekday[SUN] == funnel.missed_rate_by_weekday[MON] == _d("100.0")
    assert funnel.missed_rate_by_weekday[FRI] is None
    # Friday 30 Oct 23:59 is Saturday in UTC but Friday on Acme's clock.
    assert before.calls_by_weekday == [0, 0, 0, 0, 1, 0, 0] and before.missed_rate_by_weekday[FRI] == _d(
        "0.0"
    )


def test_the_agencys_rate_counts_each_client_on_its_own_clock(history):
    data = agency_report_data(agency=history.northwind, period=PERIOD, bucket="day")
    totals = data["totals"]
    # Acme's 8 of 9 and Bolt's 1 of 1: 9 of 10, not the mean of 88.9% and 100%.
    assert (totals.missed_calls, totals.calls, totals.missed_rate) == (9, 10, _d("90.0"))
    assert totals.calls_by_hour[0] == 1 and totals.missed_rate_by_hour[0] == _d("100.0")  # Bolt's 00:30 EDT
    assert totals.missed_rate_by_weekday[SUN] == _d("100.0") and totals.calls_by_weekday[SUN] == 4
    assert data["before"].missed_rate == _d("0.0")  # Acme's answered Friday call; Bolt had none
    rates = {row.client.slug: row.numbers.missed_rate for row in data["ranking"]}
    assert rates == {"acme": _d("88.9"), "bolt": _d("100.0")}


def test_another_agencys_client_is_not_in_the_rate(history):
    # Cedar (Southpeak) missed its one call the same day; Northwind's rate does not see it.
    totals = agency_report_data(agency=history.northwind, period=PERIOD, bucket="day")["totals"]
    assert totals.calls == 10
    cedar = agency_report_data(agency=history.southpeak, period=PERIOD, bucket="day")["totals"]
    assert (cedar.missed_calls, cedar.calls, cedar.missed_rate) == (1, 1, _d("100.0"))


def test_no_calls_no_rate(history):
    empty = Period(date(2025, 1, 1), date(2025, 1, 31), CHI)
    funnel = funnel_for_client(client=history.acme, period=empty)
    set_weekdays([funnel], client_ids=[history.acme.pk], periods=[(empty.start, empty.end)])
    assert funnel.missed_rate is None
    assert set(funnel.missed_rate_by_hour) == {None} and set(funnel.missed_rate_by_weekday) == {None}


def _text(response) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_client_report_page_shows_the_rate(web, history):
    text = _text(
        web("acme.localhost", history.alice).get("/reports/?preset=custom&start=2026-10-31&end=2026-11-02")
    )
    assert "Missed-call rate 88.9%" in text  # the headline
    # The funnel, against the days before: a rate changes by percentage points.
    assert "Missed-call rate (missed calls per call) 88.9% 0.0% +88.9 pts" in text
    assert "88.9% in 31 Oct 2026 – 2 Nov 2026 (8 of 9)" in text
    assert "Saturday 3 2 66.7% —" in text and "Friday 0 0 — 0.0%" in text


def test_the_agency_report_shows_each_clients_rate(web, history):
    text = _text(
        web("localhost", history.nate).get("/reports/?preset=custom&start=2026-10-31&end=2026-11-02")
    )
    assert "Missed-call rate 90.0%" in text
    assert "Acme Plumbing 8 88.9%" in text and "Bolt Electric 1 100.0%" in text
    assert "Cedar" not in text
