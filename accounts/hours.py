"""Business hours: parsing the compact text form, and asking whether a moment is inside them.

The stored form is a dict of weekday → list of [start, end] "HH:MM" pairs, e.g.
``{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": [["09:00", "12:00"]]}``; a day that is absent is
closed. "24:00" may end a shift. The text form is what the create_client command and the settings page take:
``"mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00"``, ``"24/7"`` or ``"none"``.

Closures (holidays, a day off) are whole days in the client's zone, stored as a list of
``{"start": "2026-12-24", "end": "2026-12-26", "label": "Christmas"}`` (end inclusive). Their text form is one
per line: ``2026-12-25 Christmas`` or ``2026-12-24..2026-12-26 Christmas break``.
"""

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

Hours = dict[str, list[list[str]]]


class HoursError(ValueError):
    """The hours text cannot be understood; the message says what to fix."""


def _minutes(text: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise HoursError(f"{text.strip()!r} is not a time; write it as HH:MM, e.g. 08:30")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(f"{text.strip()!r} is not a time of day")
    return hours * 60 + minutes


def _format(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_FULL_NAMES = dict(
    zip(DAYS, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), strict=True)
)


def _day(word: str) -> str:
    word = word.strip()
    for day, full in _FULL_NAMES.items():
        if word in (day, full):
            return day
    raise HoursError(f"{word!r} is not a day; use mon, tue, wed, thu, fri, sat or sun")


def _days(text: str) -> list[str]:
    days: list[str] = []
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if not sep:
            days.append(_day(first))
            continue
        start, end = DAYS.index(_day(first)), DAYS.index(_day(last))
        if end < start:
            raise HoursError(f"{part.strip()!r} runs backwards; write the days in week order, e.g. mon-fri")
        days.extend(DAYS[start : end + 1])
    return days


def parse_hours(spec: str) -> Hours:
    """Parse the text form into the stored form, refusing anything ambiguous (overlaps, empty shifts)."""
    text = (spec or "").strip().lower()
    if text == "24/7":
        return {day: [["00:00", "24:00"]] for day in DAYS}
    if text in ("none", "closed"):
        return {}
    if not text:
        raise HoursError('hours are empty; write e.g. "mon-fri 09:00-17:00", "24/7" or "none"')
    result: dict[str, list[tuple[int, int]]] = {}
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        first_digit = re.search(r"\d", clause)
        day_part = clause[: first_digit.start()] if first_digit else clause
        shifts_part = clause[first_digit.start() :] if first_digit else ""
        if not shifts_part.strip():
            raise HoursError(f'{clause!r} names days but no hours; write e.g. "{clause} 09:00-17:00"')
        for day in _days(day_part):
            if day in result:
                raise HoursError(f"{day} is given twice; list each day once")
            result[day] = []
            for shift in shifts_part.split(","):
                start_text, sep, end_text = shift.partition("-")
                if not sep:
                    raise HoursError(f"{shift.strip()!r} is not a shift like 09:00-17:00")
                start, end = _minutes(start_text), _minutes(end_text)
                if end <= start:
                    raise HoursError(
                        f"{shift.strip()!r} ends before it starts; split overnight shifts at midnight"
                    )
                result[day].append((start, end))
    for day, shifts in result.items():
        shifts.sort()
        for (_, previous_end), (next_start, _) in zip(shifts, shifts[1:], strict=False):
            if next_start < previous_end:
                raise HoursError(f"the shifts on {day} overlap")
    return {
        day: [[_format(start), _format(end)] for start, end in result[day]] for day in DAYS if day in result
    }


def validate_hours(hours: Hours) -> Hours:
    """Check a stored-form value (from a form, JSON or the admin) by printing and re-parsing it."""
    if not isinstance(hours, dict) or any(day not in DAYS for day in hours):
        raise HoursError("hours must map weekdays (mon … sun) to lists of [start, end] times")
    return parse_hours(format_hours(hours)) if hours else {}


def format_hours(hours: Hours) -> str:
    """The text form of stored hours; consecutive days with the same shifts are folded into a range."""
    if not hours:
        return "none"
    if all(hours.get(day) == [["00:00", "24:00"]] for day in DAYS):
        return "24/7"
    clauses: list[str] = []
    run: list[str] = []

    def shifts_text(day: str) -> str:
        return ",".join(f"{start}-{end}" for start, end in hours[day])

    for day in [*DAYS, None]:
        if run and (day is None or day not in hours or shifts_text(day) != shifts_text(run[0])):
            days = run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}"
            clauses.append(f"{days} {shifts_text(run[0])}")
            run = []
        if day is not None and day in hours:
            run.append(day)
    return "; ".join(clauses)


def is_open(hours: Hours, local: datetime, closures: Sequence[dict[str, str]] = ()) -> bool:
    """Whether `local` (a time in the client's own zone) falls inside the business hours and on no closure."""
    if is_closed(closures, local.date()):
        return False
    shifts = hours.get(DAYS[local.weekday()], [])
    now = local.time().replace(tzinfo=None)
    for start, end in shifts:
        end_time = time.max if end == "24:00" else time.fromisoformat(end)
        if time.fromisoformat(start) <= now < end_time:
            return True
    return False


Closures = list[dict[str, str]]
MAX_CLOSURES = 200


def _date(text: str, line: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise HoursError(
            f"{text.strip()!r} in {line.strip()!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def parse_closures(spec: str) -> Closures:
    """Parse the text form (one closure a line) into the stored form, sorted, refusing overlaps."""
    closures: list[tuple[date, date, str]] = []
    for line in (spec or "").splitlines():
        if not line.strip():
            continue
        when, _, label = line.strip().partition(" ")
        first, sep, last = when.partition("..")
        start = _date(first, line)
        end = _date(last, line) if sep else start
        if end < start:
            raise HoursError(f"{line.strip()!r} ends before it starts")
        if (end - start).days > 366:
            raise HoursError(f"{line.strip()!r} is longer than a year; pause the business instead")
        closures.append((start, end, label.strip()[:80]))
    if len(closures) > MAX_CLOSURES:
        raise HoursError(f"at most {MAX_CLOSURES} closures; remove past ones")
    closures.sort()
    for (_, previous_end, previous), (next_start, _, label) in zip(closures, closures[1:], strict=False):
        if next_start <= previous_end:
            raise HoursError(
                f"the closures {previous or previous_end.isoformat()!r} and "
                f"{label or next_start.isoformat()!r} overlap"
            )
    return [{"start": s.isoformat(), "end": e.isoformat(), "label": label} for s, e, label in closures]


def format_closures(closures: Closures) -> str:
    lines = []
    for closure in closures:
        when = (
            closure["start"]
            if closure["start"] == closure["end"]
            else f"{closure['start']}..{closure['end']}"
        )
        lines.append(f"{when} {closure.get('label', '')}".strip())
    return "\n".join(lines)


def validate_closures(closures: Closures) -> Closures:
    """Check a stored-form value (from a form, JSON or the admin) by printing and re-parsing it."""
    if not isinstance(closures, list) or not all(
        isinstance(c, dict) and isinstance(c.get("start"), str) and isinstance(c.get("end"), str)
        for c in closures
    ):
        raise HoursError(
            'closures must be a list of {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD", "label": ...}'
        )
    return parse_closures(format_closures(closures))


def is_closed(closures: Sequence[dict[str, str]], day: date) -> bool:
    text = day.isoformat()  # ISO dates compare in date order as strings
    return any(c["start"] <= text <= c["end"] for c in closures)


def open_deadline(
    hours: Hours, closures: Closures, zone: ZoneInfo, start: datetime, minutes: int
) -> datetime:
    """The moment `minutes` of open time have passed since `start`: a reply that arrives at 11 pm with a
    15-minute response target is due 15 minutes after the business opens next morning. Open time is counted
    in real minutes (a shift that spans a daylight-saving change is an hour shorter or longer). A business with
    no hours at all counts every minute; one closed for over a year answers a year away."""
    budget = timedelta(minutes=minutes)
    if not hours:
        return start + budget
    utc = ZoneInfo("UTC")
    begin = start.astimezone(utc)
    day = start.astimezone(zone).date()
    for _ in range(400):
        if not is_closed(closures, day):
            for shift_start, shift_end in hours.get(DAYS[day.weekday()], []):
                opens = datetime.combine(day, time.fromisoformat(shift_start), zone).astimezone(utc)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), zone)
                    if shift_end == "24:00"
                    else datetime.combine(day, time.fromisoformat(shift_end), zone)
                ).astimezone(utc)
                counted_from = max(opens, begin)
                if counted_from >= closes:
                    continue
                if closes - counted_from >= budget:
                    return counted_from + budget
                budget -= closes - counted_from
        day += timedelta(days=1)
    return begin + timedelta(days=366)
