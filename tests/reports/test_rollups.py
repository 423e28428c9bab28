"""The public daily roll-ups: rebuilt from a client's tables they say what the known history says, day by day
in the client's zone; bumps add up exactly under concurrency; and the agency's selectors read them in one query
whatever the number of clients."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from reports.rollups import (
    first_staff_reply_rows,
    monthly_rollup_rows,
    rollup_bump,
    rollup_rebuild_client,
    rollup_rows,
    rollup_rows_by_month,
)
from reports.selectors import (
    Period,
    funnel_for_clients,
    rollup_by_client,
    rollup_client_ranking,
    rollup_month_by_client,
    rollup_trend,
)
from reports.tasks import rebuild_rollups
from tests.reports.history import ACME_DAYS, BOLT_DAYS

pytestmark = pytest.mark.django_db


def _days(expected: dict) -> dict:
    return {date.fromisoformat(day): values for day, values in expected.items()}


def _rebuild_all(personas):
    for client in (personas.acme, personas.bolt, personas.cedar):
        rollup_rebuild_client(client=client)


def test_rebuilt_rollups_are_the_known_days(history):
    assert rollup_rebuild_client(client=history.acme) == 5
    assert rollup_rows(client=history.acme) == _days(ACME_DAYS)
    rollup_rebuild_client(client=history.bolt)
    assert rollup_rows(client=history.bolt) == _days(BOLT_DAYS)
    # Their months are their days summed: Acme's October (30 and 31 Oct) and November (1–3 Nov).
    acme_months = monthly_rollup_rows(client=history.acme)
    assert acme_months == rollup_rows_by_month(_days(ACME_DAYS))
    assert acme_months[date(2026, 10, 1)]["calls"] == 4 and acme_months[date(2026, 11, 1)]["calls"] == 7
    november = acme_months[date(2026, 11, 1)]
    assert november["skipped_reasons"] == {"landline": 1, "anonymous_caller": 1, "blocked": 1}
    assert monthly_rollup_rows(client=history.bolt) == rollup_rows_by_month(_days(BOLT_DAYS))
    # Calls 1, 5 and 8 were answered by staff 10, 30 and 10 minutes after the caller's reply; Bolt's was not.
    assert sorted(
        (day, wait.total_seconds()) for day, wait in first_staff_reply_rows(client=history.acme).values()
    ) == [
        (date(2026, 10, 31), 600),
        (date(2026, 11, 1), 1800),
        (date(2026, 11, 2), 600),
    ]
    assert first_staff_reply_rows(client=history.bolt) == {}


def test_a_rebuild_replaces_whatever_was_there(history):
    rollup_bump(client_id=history.acme.pk, day=date(2020, 1, 1), calls=7)
    rollup_bump(
        client_id=history.acme.pk,
        day=date(2026, 10, 31),
        calls=100,
        skipped_reason="landline",
        textbacks_skipped=1,
    )
    # Kept by the bumps: January 2020 has a month of its own, October's month has the 100 calls.
    kept = monthly_rollup_rows(client=history.acme)
    assert kept == rollup_rows_by_month(rollup_rows(client=history.acme))
    assert kept[date(2020, 1, 1)] == {"calls": 7} and kept[date(2026, 10, 1)]["calls"] == 104
    rollup_rebuild_client(client=history.acme)
    rollup_rebuild_client(client=history.acme)
    assert rollup_rows(client=history.acme) == _days(ACME_DAYS)
    assert monthly_rollup_rows(client=history.acme) == rollup_rows_by_month(_days(ACME_DAYS))


def test_the_nightly_task_rebuilds_every_live_client(history, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery_app import app

    app.conf.task_always_eager = True
    try:
        assert rebuild_rollups.apply().get() >= 3
    finally:
        app.conf.task_always_eager = False
    assert rollup_rows(client=history.acme) == _days(ACME_DAYS)
    assert monthly_rollup_rows(client=history.acme) == rollup_rows_by_month(_days(ACME_DAYS))
    assert "reports-rebuild-rollups" in app.conf.beat_schedule


def test_bump_rejects_what_is_not_a_counter(personas):
    with pytest.raises(ValueError, match="Not a roll-up counter: nonsense"):
        rollup_bump(client_id=personas.acme.pk, day=date(2026, 1, 1), nonsense=1)


# --- What the agency reads -------------------------------------------------------------------------------


def test_agency_totals_are_its_clients_only(history):
    _rebuild_all(history)
    northwind = [history.acme.pk, history.bolt.pk]
    totals = funnel_for_clients(client_ids=northwind, start=date(2026, 10, 31), end=date(2026, 11, 2))
    assert (totals.calls, totals.missed_calls, totals.textbacks_sent, totals.replies) == (10, 9, 6, 4)
    assert totals.recovered_revenue == Decimal("1750.49")  # not cedar's $5,000: another agency's client
    assert totals.reply_rate == Decimal("66.7")
    assert totals.skipped_reasons == {"landline": 1, "anonymous_caller": 1, "blocked": 1}
    # Acme's three answered text-backs (10, 30, 10 minutes); Bolt's caller got no staff reply.
    assert (totals.first_reply_median_seconds, totals.first_reply_p90_seconds) == (600, 1560)
    assert {h: n for h, n in enumerate(totals.missed_by_hour) if n} == {0: 1, 1: 2, 9: 1, 10: 1, 16: 1, 23: 3}


def test_clients_ranked_by_recovered_revenue(history):
    _rebuild_all(history)
    ranking = rollup_client_ranking(agency=history.northwind, start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert [(r.client.slug, r.numbers.won_value) for r in ranking] == [
        ("acme", Decimal("1650.50")),
        ("bolt", Decimal("99.99")),
    ]


def test_month_numbers_for_the_dashboard_in_one_query(history, django_assert_num_queries):
    _rebuild_all(history)
    clients = [history.acme, history.bolt, history.cedar]
    # 04:30 UTC on 1 Nov: November in New York, still October in Chicago and Los Angeles.
    at = datetime(2026, 11, 1, 4, 30, tzinfo=ZoneInfo("UTC"))
    with django_assert_num_queries(1):
        numbers = rollup_month_by_client(clients=clients, at=at)
    assert numbers[history.bolt.pk].won_value == Decimal("99.99")  # November
    assert numbers[history.acme.pk].calls == 4  # October: the 30th and 31st
    assert numbers[history.acme.pk].missed_calls == 2 and numbers[history.acme.pk].reply_rate == Decimal(
        "50.0"
    )
    assert numbers[history.cedar.pk].calls == 0  # its call is on 1 November, its month has not begun
    with django_assert_num_queries(1):
        rollup_by_client(client_ids=[c.pk for c in clients], start=date(2026, 11, 1), end=date(2026, 11, 30))


def test_trends_by_day_week_and_month(history):
    _rebuild_all(history)
    period = Period(date(2026, 10, 26), date(2026, 11, 8), "America/Chicago")
    days = rollup_trend(client_ids=[history.acme.pk], period=period, bucket="day")
    assert len(days) == 14 and [p.numbers.missed_calls for p in days][5:9] == [2, 3, 3, 0]
    weeks = rollup_trend(client_ids=[history.acme.pk], period=period, bucket="week")
    assert [(p.start, p.numbers.calls, p.numbers.won_value) for p in weeks] == [
        (date(2026, 10, 26), 7, Decimal("0.00")),
        (date(2026, 11, 2), 4, Decimal("1650.50")),
    ]
    months = rollup_trend(client_ids=[history.acme.pk], period=period, bucket="month")
    assert [(p.label, p.numbers.calls) for p in months] == [("Oct 2026", 4), ("Nov 2026", 7)]
