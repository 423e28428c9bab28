"""When a caller may get a text they did not just ask for (the follow-up): inside their own allowed hours, on their
own clock. The clock comes from the number's area code (phonenumbers' time-zone data); an area code that spans
zones must be inside the hours in every one of them, and a number with no known zone uses the client's.

The hours are the client's (Client.followup_window_start/end, 8:00-21:00 by default), narrowed by the stricter
rules some US states set for texts a business starts (Client.followup_state_rules, on by default): Florida,
Oklahoma, Maryland and Washington allow 8:00-20:00; Texas 9:00-21:00, and from noon on Sundays. The state is
the area code's, as phonenumbers' geocoder names it.
"""

import zoneinfo
from datetime import date, datetime, time, timedelta

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as number_timezones

from accounts.models import Client

SUNDAY = 6

STATE_NAMES = {"Florida": "FL", "Oklahoma": "OK", "Maryland": "MD", "Washington State": "WA", "Texas": "TX"}


def _state_hours(state: str | None, day: date) -> tuple[int, int] | None:
    """The hours (start, end) a state allows texts on this day, or None when it sets no stricter rule."""
    if state in ("FL", "OK", "MD", "WA"):
        return 8, 20
    if state == "TX":
        return (12 if day.weekday() == SUNDAY else 9), 21
    return None


def caller_state(number: str) -> str | None:
    """The US state of the number's area code (two letters), or None."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(parsed) != "US":
        return None
    where = geocoder.description_for_number(parsed, "en")
    if where in STATE_NAMES:
        return STATE_NAMES[where]
    # "Chicago, IL": a city and its state's code.
    return where.rsplit(", ", 1)[1] if ", " in where and len(where.rsplit(", ", 1)[1]) == 2 else None


def caller_zones(number: str, *, fallback: str) -> list[zoneinfo.ZoneInfo]:
    """The time zones the number's area code lies in, or [the fallback] when phonenumbers does not know."""
    try:
        names = number_timezones.time_zones_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        names = ()
    zones = []
    for name in names:
        try:
            zones.append(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue  # "Etc/Unknown"
    return zones or [zoneinfo.ZoneInfo(fallback)]


def allowed_hours(*, client: Client, state: str | None, day: date) -> tuple[int, int]:
    """The hours (start, end; end may be 24) texts are allowed on this local day: the client's, narrowed by the
    state's when the client keeps to them. start >= end means none."""
    start, end = client.followup_window_start, client.followup_window_end
    stricter = _state_hours(state, day) if client.followup_state_rules else None
    if stricter:
        start, end = max(start, stricter[0]), min(end, stricter[1])
    return start, end


def _allowed_at(client: Client, state: str | None, zones: list[zoneinfo.ZoneInfo], at: datetime) -> bool:
    for zone in zones:
        local = at.astimezone(zone)
        start, end = allowed_hours(client=client, state=state, day=local.date())
        if not start * 60 <= local.hour * 60 + local.minute < end * 60:
            return False
    return True


def next_allowed(*, client: Client, number: str, at: datetime) -> datetime | None:
    """`at` itself when the caller may be texted then, else the next time they may (the start of an allowed
    window in one of their zones that is allowed in all of them); None when no hour in the coming week is."""
    state, zones = caller_state(number), caller_zones(number, fallback=client.timezone)
    if _allowed_at(client, state, zones, at):
        return at
    starts = []
    for zone in zones:
        local_day = at.astimezone(zone).date()
        for offset in range(8):
            day = local_day + timedelta(days=offset)
            start, end = allowed_hours(client=client, state=state, day=day)
            if start < end:
                starts.append(datetime.combine(day, time(start), tzinfo=zone))
    for candidate in sorted(s for s in starts if s > at):
        if _allowed_at(client, state, zones, candidate):
            return candidate
    return None
