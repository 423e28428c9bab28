"""Monthly roll-ups: a month's row is the sum of its days' rows, and a report reads a period's whole months
from them and only the days at either end from the days. Whatever the period (a day, a month, mid-month to
mid-month, across a new year, years long), every number is exactly what the days alone add up to."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reports.models import ROLLUP_COUNTERS, DailyRollup, FirstStaffReply, MonthlyRollup
from reports.rollups import (
    monthly_rollup_rows,
    monthly_rollups_rebuild,
    rollup_bump,
    rollup_rows,
    rollup_rows_by_month,
)
from reports.selectors import (
    Period,
    RollupNumbers,
    RollupSpans,
    agency_funnels,
    funnel_for_clients,
    rollup_by_client,
    rollup_spans,
    rollup_trends,
    set_weekdays,
)
from reports.views import agency_report_data

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2025, 1, 1), date(2026, 12, 31)
REASONS = ("landline", "opted_out", "recently_texted")


def _day_row(client_id: int, day: date, n: int) -> DailyRollup:
    """Made-up numbers that differ from day to day and client to client."""
    return DailyRollup(
        client_id=client_id,
        date=day,
        **{name: (n * (i + 3) + client_id) % 11 for i, name in enumerate(ROLLUP_COUNTERS)},
        won_value=Decimal(n % 9) * Decimal("37.25"),
        skipped_reasons={REASONS[n % 3]: n % 4 + 1} if n % 5 else {},
        missed_hours=[(n + hour * client_id) % 3 for hour in range(24)],
    )


def _with_weekdays(row: DailyRollup) -> DailyRollup:
    """The day's calls and missed calls at its own weekday, as the bumps and the rebuild keep them."""
    row.call_weekdays = [row.calls if i == row.date.weekday() else 0 for i in range(7)]
    row.missed_weekdays = [row.missed_calls if i == row.date.weekday() else 0 for i in range(7)]
    return row


@pytest.fixture
def two_years(personas):
    """Two years of days for Acme and Bolt (a day without a row every so often), their months rebuilt from
    them, and some events on top counted by bumps, which keep the months themselves."""
    ids = [personas.acme.pk, personas.bolt.pk]
    for model in (DailyRollup, MonthlyRollup, FirstStaffReply):
        model.objects.filter(client_id__in=ids).delete()
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    DailyRollup.objects.bulk_create(
        [_with_weekdays(_day_row(pk, day, n)) for pk in ids for n, day in enumerate(days) if (n + pk) % 13]
    )
    monthly_rollups_rebuild(client_ids=ids)
    for day in (date(2025, 1, 31), date(2025, 12, 31), date(2026, 1, 1), date(2026, 2, 28), date(2026, 7, 4)):
        rollup_bump(
            client_id=ids[0],
            day=day,
            calls=1,
            missed_calls=1,
            missed_hour=23,
            call_hour=23,
            weekday=day.weekday(),
            skipped_reason="blocked",
            textbacks_skipped=1,
            won=1,
            won_value=Decimal("10.01"),
        )
        rollup_bump(client_id=ids[1], day=day, booked_pending=-1)
    FirstStaffReply.objects.bulk_create(
        [
            FirstStaffReply(client_id=pk, date=day, textback_id=n, wait_seconds=60 + n * 7 % 3600)
            for pk in ids
            for n, day in enumerate(days[::3])
        ]
    )
    return ids


def _from_days(ids, start: date, end: date) -> dict:
    """The sums of the days start..end, read from DailyRollup alone: {client id or "all": numbers}."""
    sums: dict = defaultdict(lambda: defaultdict(int))
    for row in DailyRollup.objects.filter(client_id__in=ids, date__gte=start, date__lte=end):
        for key in (row.client_id, "all"):
            into = sums[key]
            for name in (*ROLLUP_COUNTERS, "won_value"):
                into[name] += getattr(row, name)
            for hour, n in enumerate(row.missed_hours):
                into[f"hour_{hour}"] += n
            # By the row's date, not its weekday arrays: what those arrays must add up to.
            into[f"calls_wd_{row.date.weekday()}"] += row.calls
            into[f"missed_wd_{row.date.weekday()}"] += row.missed_calls
            for reason, n in row.skipped_reasons.items():
                into[f"reason_{reason}"] += n
    return sums


def _numbers(sums: dict) -> RollupNumbers:
    return RollupNumbers.from_sums(sums)


def _by_month(ids, period: Period) -> list[tuple[date, RollupNumbers]]:
    months = []
    month = period.start.replace(day=1)
    while month <= period.end:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        sums = _from_days(ids, max(month, period.start), min(following - timedelta(days=1), period.end))
        months.append((month, _numbers(sums["all"])))
        month = following
    return months


def test_a_month_is_the_sum_of_its_days(two_years, personas):
    for client in (personas.acme, personas.bolt):
        assert monthly_rollup_rows(client=client) == rollup_rows_by_month(rollup_rows(client=client))
    assert MonthlyRollup.objects.filter(client_id__in=two_years).count() == 2 * 24


def test_a_bump_is_one_statement_for_the_day_and_its_month(two_years, personas, django_assert_num_queries):
    with django_assert_num_queries(1):
        rollup_bump(client_id=personas.acme.pk, day=date(2026, 3, 15), calls=1, missed_hour=0, missed_calls=1)
    with django_assert_num_queries(1):
        rollup_bump(client_id=personas.acme.pk, day=date(2030, 5, 5), replies=1)  # neither row exists yet
    assert monthly_rollup_rows(client=personas.acme) == rollup_rows_by_month(
        rollup_rows(client=personas.acme)
    )
    assert monthly_rollup_rows(client=personas.acme)[date(2030, 5, 1)] == {"replies": 1}


TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "start, end, spans",
    [
        # A single day: its own row.
        (
            date(2026, 11, 23),
            date(2026, 11, 23),
            RollupSpans(days=((date(2026, 11, 23), date(2026, 11, 23)),)),
        ),
        # A whole month: its monthly row.
        (date(2026, 10, 1), date(2026, 10, 31), RollupSpans(months=(date(2026, 10, 1), date(2026, 10, 1)))),
        # This year on 23 November: January to October whole, November less the days to come (no rows yet).
        (
            date(2026, 1, 1),
            TODAY,
            RollupSpans(
                months=(date(2026, 1, 1), date(2026, 10, 1)),
                part_months=(
                    (date(2026, 11, 1), date(2026, 11, 1), ((date(2026, 11, 24), date(2026, 11, 30)),)),
                ),
            ),
        ),
        # Mid-month to mid-month across a new year: December less its first nine days, January whole, 1–5 Feb.
        (
            date(2025, 12, 10),
            date(2026, 2, 5),
            RollupSpans(
                days=((date(2026, 2, 1), date(2026, 2, 5)),),
                months=(date(2026, 1, 1), date(2026, 1, 1)),
                part_months=(
                    (date(2025, 12, 1), date(2025, 12, 10), ((date(2025, 12, 1), date(2025, 12, 9)),)),
                ),
            ),
        ),
        # Inside one month, most of it: the month less the days on either side.
        (
            date(2026, 3, 5),
            date(2026, 3, 25),
            RollupSpans(
                part_months=(
                    (
                        date(2026, 3, 1),
                        date(2026, 3, 5),
                        ((date(2026, 3, 1), date(2026, 3, 4)), (date(2026, 3, 26), date(2026, 3, 31))),
                    ),
                )
            ),
        ),
        # A few days on each side of the turn of a month: one range of days.
        (date(2026, 1, 20), date(2026, 2, 10), RollupSpans(days=((date(2026, 1, 20), date(2026, 2, 10)),))),
        # The last week of a month and the thirteen months after it.
        (
            date(2025, 11, 24),
            date(2026, 12, 31),
            RollupSpans(
                days=((date(2025, 11, 24), date(2025, 11, 30)),),
                months=(date(2025, 12, 1), date(2026, 12, 1)),
            ),
        ),
    ],
)
def test_a_period_splits_into_its_whole_months_and_the_rest(start, end, spans):
    assert rollup_spans(start, end, today=TODAY) == spans


@given(
    start=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    length=st.integers(0, 1200),
    today=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
)
def test_the_spans_count_each_day_once(start, length, today):
    end = start + timedelta(days=length)
    spans = rollup_spans(start, end, today=today)
    counted: dict[date, int] = defaultdict(int)

    def count(first, last, sign=1):
        for n in range((last - first).days + 1):
            counted[first + timedelta(days=n)] += sign

    def month_of(first):
        return first, date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)

    for first, last in spans.days:
        count(first, last)
    if spans.months is not None:
        assert spans.months[0].day == 1 and spans.months[1].day == 1
        month = spans.months[0]
        while month <= spans.months[1]:
            count(*month_of(month))
            month = month_of(month)[1] + timedelta(days=1)
    for month, day, outside in spans.part_months:
        assert month.day == 1 and start <= day <= end and day.replace(day=1) == month  # summed in its month
        count(*month_of(month))
        for first, last in outside:
            assert first.replace(day=1) == month == last.replace(day=1)
            count(first, last, -1)
    assert {day: n for day, n in counted.items() if n} == {
        start + timedelta(days=n): 1 for n in range(length + 1)
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.dates(date(2024, 11, 1), date(2027, 1, 31)), length=st.integers(0, 800))
@example(start=date(2026, 3, 17), length=0)  # a single day
@example(start=date(2026, 2, 1), length=27)  # a whole month (February)
@example(start=date(2025, 12, 20), length=25)  # across the new year, no whole month
@example(start=date(2025, 11, 15), length=100)  # mid-month to mid-month, across the new year
@example(start=date(2025, 1, 1), length=729)  # two whole years
@example(start=date(2025, 3, 5), length=20)  # most of a month: the month less the days around
def test_every_report_equals_its_days_summed(two_years, start, length):
    ids = two_years
    period = Period(start, start + timedelta(days=length), "UTC")
    previous = period.previous()
    days = _from_days(ids, period.start, period.end)

    funnel = funnel_for_clients(client_ids=ids, start=period.start, end=period.end)
    assert _numbers(vars(funnel) | {"won_value": funnel.recovered_revenue}) == _numbers(days["all"])
    assert funnel.missed_by_hour == [days["all"][f"hour_{hour}"] for hour in range(24)]
    assert funnel.skipped_reasons == {
        name.removeprefix("reason_"): n for name, n in days["all"].items() if name.startswith("reason_") and n
    }
    by_client = rollup_by_client(client_ids=ids, start=period.start, end=period.end)
    assert by_client == {pk: _numbers(days[pk]) for pk in ids}

    trend, trend_before = rollup_trends(client_ids=ids, periods=[period, previous], bucket="month")
    assert [(p.start, p.numbers) for p in trend] == _by_month(ids, period)
    assert [(p.start, p.numbers) for p in trend_before] == _by_month(ids, previous)

    # The agency's report by month (whole months from the months) and by week (every day from the days).
    by_month = agency_funnels(client_ids=ids, period=period, previous=previous, bucket="month")
    by_week = agency_funnels(client_ids=ids, period=period, previous=previous, bucket="week")
    before = funnel_for_clients(client_ids=ids, start=previous.start, end=previous.end, reasons=False)
    set_weekdays(
        [funnel, before], client_ids=ids, periods=[(period.start, period.end), (previous.start, previous.end)]
    )
    # The weekday arrays (whole months from the months) against the days' own dates.
    assert funnel.calls_by_weekday == [days["all"][f"calls_wd_{i}"] for i in range(7)]
    assert funnel.missed_by_weekday == [days["all"][f"missed_wd_{i}"] for i in range(7)]
    assert by_month.funnel == by_week.funnel == funnel
    assert by_month.before == by_week.before == before
    assert (by_month.trend, by_month.trend_before) == (trend, trend_before)


def test_the_agency_report_over_part_months_is_still_a_few_queries(
    two_years, personas, django_assert_num_queries
):
    """Days at both ends, whole months between, and a period before split the same way: the same eleven
    queries as any other period (tests/reports/test_pages.py), one read a period however it splits."""
    period = Period(date(2025, 3, 17), date(2026, 2, 9), "America/Los_Angeles")
    with django_assert_num_queries(11) as captured:
        data = agency_report_data(agency=personas.northwind, period=period, bucket="month")
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "reports_monthlyrollup" in sql and "reports_dailyrollup" in sql
    ranking = {r.client.pk: r.numbers for r in data["ranking"]}
    days = _from_days(two_years, period.start, period.end)
    assert ranking == {pk: _numbers(days[pk]) for pk in two_years}
