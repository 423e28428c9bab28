"""The funnel of one client over a period, checked number by number against the known history
(tests/reports/history.py, rolled up by the nightly rebuild): local days in the client's zone, the night the
clocks went back, replies that are not keywords, the estimate kept apart from recovered revenue."""

from datetime import date
from decimal import Decimal

import pytest

from reports.selectors import Period, funnel_for_client, period_from_preset
from tests.reports.history import CHICAGO, local

pytestmark = pytest.mark.django_db

CHI = "America/Chicago"


def test_every_number_of_the_funnel(history):
    funnel = funnel_for_client(client=history.acme, period=Period(date(2026, 10, 31), date(2026, 11, 2), CHI))
    assert (funnel.calls, funnel.missed_calls, funnel.answered_calls) == (9, 8, 1)
    assert (funnel.missed_after_hours, funnel.missed_in_hours) == (5, 3)
    assert (funnel.textbacks_sent, funnel.textbacks_skipped) == (5, 3)
    assert funnel.skipped_reasons == {"landline": 1, "anonymous_caller": 1, "blocked": 1}
    assert funnel.replies == 3  # call 2's caller only said STOP; call 8's second text is the same reply
    assert funnel.reply_rate == Decimal("60.0")
    assert funnel.answered_by_staff == 3
    # 10, 30 and 10 minutes: the median is 10 minutes; p90 interpolates 80% of the way from 10 to 30.
    assert funnel.first_reply_median_seconds == 600
    assert funnel.first_reply_p90_seconds == 1560
    assert (funnel.booked, funnel.won) == (2, 2)
    assert funnel.recovered_revenue == Decimal("1650.50")
    # Call 1's booking was won later; call 5's is still waiting: one booking at Acme's $300 average.
    assert funnel.booked_pending == 1
    assert funnel.estimated_revenue == Decimal("300.00")
    assert (funnel.opt_outs, funnel.delivery_failures) == (1, 1)


def test_days_are_the_clients_days_not_utc(history):
    # 23:59 on Friday in Chicago is Saturday in UTC; it belongs to Friday.
    friday = funnel_for_client(
        client=history.acme, period=Period(date(2026, 10, 30), date(2026, 10, 30), CHI)
    )
    assert (friday.calls, friday.answered_calls, friday.missed_calls) == (1, 1, 0)
    # Both 01:30s of the night the clocks went back, and 23:59 that night, are Sunday's.
    sunday = funnel_for_client(client=history.acme, period=Period(date(2026, 11, 1), date(2026, 11, 1), CHI))
    assert (sunday.calls, sunday.missed_calls, sunday.textbacks_sent, sunday.textbacks_skipped) == (
        3,
        3,
        1,
        2,
    )
    assert sunday.first_reply_median_seconds == 1800  # 01:45 CST to 02:15 CST, not an hour more or less
    night = Period(date(2026, 11, 1), date(2026, 11, 1), CHI)
    assert night.end_at.timestamp() - night.start_at.timestamp() == 25 * 3600
    # Monday 23:30 in Chicago is Tuesday in UTC, still Monday's; Tuesday has only its midnight call.
    tuesday = funnel_for_client(client=history.acme, period=Period(date(2026, 11, 3), date(2026, 11, 3), CHI))
    assert (tuesday.calls, tuesday.missed_calls) == (1, 0)


def test_the_estimate_needs_an_average_job_value(history):
    history.acme.average_job_value = None
    funnel = funnel_for_client(client=history.acme, period=Period(date(2026, 10, 31), date(2026, 11, 2), CHI))
    assert funnel.booked_pending == 1 and funnel.estimated_revenue is None
    assert funnel.recovered_revenue == Decimal("1650.50")


def test_another_clients_history_is_not_counted(history):
    bolt = funnel_for_client(
        client=history.bolt, period=Period(date(2026, 11, 1), date(2026, 11, 1), "America/New_York")
    )
    assert (bolt.calls, bolt.textbacks_sent, bolt.replies, bolt.answered_by_staff) == (1, 1, 1, 0)
    assert bolt.recovered_revenue == Decimal("99.99") and bolt.reply_rate == Decimal("100.0")
    assert bolt.skipped_reasons == {} and bolt.first_reply_median_seconds is None


def test_an_empty_period_has_no_rates(history):
    funnel = funnel_for_client(client=history.acme, period=Period(date(2025, 1, 1), date(2025, 1, 31), CHI))
    assert funnel.calls == 0 and funnel.reply_rate is None and funnel.recovered_revenue == Decimal("0.00")


def test_missed_calls_by_local_hour(history):
    hours = funnel_for_client(
        client=history.acme, period=Period(date(2026, 10, 31), date(2026, 11, 2), CHI)
    ).missed_by_hour
    assert sum(hours) == 8
    assert {h: n for h, n in enumerate(hours) if n} == {1: 2, 9: 1, 10: 1, 16: 1, 23: 3}


def test_periods_and_the_one_before():
    october = Period(date(2026, 10, 1), date(2026, 10, 31), CHI)
    assert october.previous() == Period(date(2026, 9, 1), date(2026, 9, 30), CHI)
    week = Period(date(2026, 11, 2), date(2026, 11, 8), CHI)
    assert week.previous() == Period(date(2026, 10, 26), date(2026, 11, 1), CHI)
    # 03:00 UTC on 1 November is still October in Chicago.
    assert period_from_preset(preset="this_month", tz=CHI, at=local(CHICAGO, 2026, 10, 31, 22)).start == date(
        2026, 10, 1
    )
    assert period_from_preset(preset="last_month", tz=CHI, at=local(CHICAGO, 2026, 11, 1, 0, 30)) == october
    with pytest.raises(ValueError):
        Period(date(2026, 11, 2), date(2026, 11, 1), CHI)
