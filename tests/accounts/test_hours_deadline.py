"""A response target counts business hours: a reply at 11 pm is due 15 minutes after opening, not at 11:15 pm."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from accounts.hours import open_deadline, parse_closures, parse_hours

CHICAGO = ZoneInfo("America/Chicago")
SPLIT = parse_hours("mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00")


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def test_inside_hours_it_is_plain_minutes():
    assert open_deadline(SPLIT, [], CHICAGO, _at(2026, 6, 10, 10, 0), 15) == _at(2026, 6, 10, 10, 15)


def test_late_at_night_the_clock_starts_when_the_business_opens():
    assert open_deadline(SPLIT, [], CHICAGO, _at(2026, 6, 10, 23, 0), 15) == _at(2026, 6, 11, 8, 15)


def test_the_lunch_break_does_not_count():
    assert open_deadline(SPLIT, [], CHICAGO, _at(2026, 6, 10, 11, 50), 15) == _at(2026, 6, 10, 13, 5)


def test_saturday_afternoon_waits_for_monday():
    assert open_deadline(SPLIT, [], CHICAGO, _at(2026, 6, 13, 14, 0), 15) == _at(2026, 6, 15, 8, 15)


def test_a_holiday_does_not_count():
    closures = parse_closures("2026-07-03 Independence Day (observed)")
    # Thursday evening: Friday is closed, Saturday opens at 9.
    assert open_deadline(SPLIT, closures, CHICAGO, _at(2026, 7, 2, 18, 0), 15) == _at(2026, 7, 4, 9, 15)


def test_a_business_open_all_night_counts_real_minutes_across_the_clock_change():
    always = parse_hours("24/7")
    # 1:50 am on the night clocks spring forward (2 am → 3 am): 15 real minutes later it is 3:05 am.
    assert open_deadline(always, [], CHICAGO, _at(2026, 3, 8, 1, 50), 15) == _at(2026, 3, 8, 3, 5)


def test_a_business_with_no_hours_counts_every_minute():
    start = _at(2026, 6, 10, 23, 0)
    assert open_deadline({}, [], CHICAGO, start, 15) == start + timedelta(minutes=15)


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(CHICAGO)
    ),
    minutes=st.integers(min_value=1, max_value=600),
)
@example(
    start=datetime(2025, 1, 1, 16, 59, 0, 1, tzinfo=CHICAGO), minutes=1
)  # a microsecond into the next day
def test_the_deadline_is_never_sooner_than_the_target_and_falls_in_open_hours(start, minutes):
    deadline = open_deadline(SPLIT, [], CHICAGO, start, minutes)
    assert deadline - start >= timedelta(minutes=minutes)
    local = deadline.astimezone(CHICAGO)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    clock = local.time()
    assert any(
        time.fromisoformat(begin) < clock <= time.fromisoformat(end) for begin, end in SPLIT.get(day, [])
    ), local
