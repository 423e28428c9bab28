"""Form controls that are more than a text box: business hours as seven day rows, and the one time-zone picker.
Both post what the fields always took (the hours' text form, an IANA zone name), so the services behind them
and anyone posting by hand see no change."""

import re
import zoneinfo
from functools import cache

from django import forms
from django.template.loader import render_to_string

from .hours import DAYS, HoursError, parse_closures, parse_hours

DAY_NAMES = dict(
    zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
SHIFTS_SHOWN = 2  # a day's opening hours and, for a split shift, a second span after a break
LAST_MINUTE = "23:59"


class HoursWidget(forms.Widget):
    """Seven day rows, each a switch (open or closed) and up to two spans of opening hours with time pickers.
    It posts <name>_<day>_open, <name>_<day>_start_<i> and <name>_<day>_end_<i>, and hands the field the text
    form ("mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00"), so parse_hours judges it as it judges typed text.
    A post with just <name> (typed text, as the API and older clients send it) is taken as it is."""

    is_group = True  # a fieldset of controls: the page names it with a heading, not a <label for>

    def value_omitted_from_data(self, data, files, name):
        # Every day switched off posts no <name> but is a value (always closed), not a missing one.
        return name not in data and not any(f"{name}_{day}_start_0" in data for day in DAYS)

    def value_from_datadict(self, data, files, name):
        if not any(f"{name}_{day}_start_0" in data for day in DAYS):
            return data.get(name)
        clauses = []
        for day in DAYS:
            if not data.get(f"{name}_{day}_open"):
                continue
            spans = []
            for i in range(SHIFTS_SHOWN):
                start, end = (data.get(f"{name}_{day}_{edge}_{i}", "").strip() for edge in ("start", "end"))
                if end == LAST_MINUTE:
                    end = "24:00"  # a time picker stops at 23:59; the stored form says midnight
                if start or end:
                    spans.append(f"{start or '?'}-{end or '?'}")
            clauses.append(f"{day} {','.join(spans)}" if spans else day)
        return "; ".join(clauses) or "none"

    def render(self, name, value, attrs=None, renderer=None):
        days = _days_of(value)
        rows = []
        for day in DAYS:
            spans = [list(span) for span in days.get(day, [])][:SHIFTS_SHOWN]
            spans += [["", ""]] * (SHIFTS_SHOWN - len(spans))
            rows.append(
                {
                    "key": day,
                    "label": DAY_NAMES[day],
                    "open": day in days,
                    "spans": spans,
                    "split": bool(spans[1][0] or spans[1][1]),
                }
            )
        attrs = attrs or {}
        return render_to_string(
            "ui/hours.html",
            {
                "name": name,
                "rows": rows,
                "id": attrs.get("id", name),
                "disabled": attrs.get("disabled", False),
            },
        )


_CLAUSE = re.compile(r"^(?P<day>[a-z]{3})(?:\s+(?P<spans>\S+))?$")


def _days_of(value) -> dict[str, list]:
    """The rows to show: the stored form, or the text form as posted (valid or not, so a mistake is shown where it
    was made rather than lost)."""
    if isinstance(value, dict):
        return value
    text = (value or "").strip().lower()
    try:
        return parse_hours(text) if text else {}
    except HoursError:
        pass
    days: dict[str, list] = {}
    for clause in filter(None, (c.strip() for c in text.split(";"))):
        match = _CLAUSE.match(clause)
        if match and match["day"] in DAYS:
            spans = (match["spans"] or "").split(",") if match["spans"] else []
            days[match["day"]] = [
                [part.replace("?", "") for part in span.partition("-")[::2]] for span in spans
            ]
    return days


class ClosuresWidget(forms.Widget):
    """Holidays and closures as rows of date pickers (first day, last day) and a name, with empty rows to add
    more. Posts <name>_start_<i>, <name>_end_<i>, <name>_label_<i> and hands the field the text form, one
    closure a line ("2026-12-24..2026-12-26 Christmas break"); a post with just <name> is taken as typed."""

    SPARE_ROWS = 2
    is_group = True

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_start_0" not in data  # every row emptied: no closures, a value

    def value_from_datadict(self, data, files, name):
        if f"{name}_start_0" not in data:
            return data.get(name)
        lines = []
        for i in range(MAX_ROWS):
            start = data.get(f"{name}_start_{i}", "").strip()
            if f"{name}_start_{i}" not in data:
                break
            end = data.get(f"{name}_end_{i}", "").strip()
            label = " ".join(data.get(f"{name}_label_{i}", "").split())
            if not (start or end or label):
                continue
            when = start if not end or end == start else f"{start}..{end}"
            lines.append(f"{when or '?'} {label}".strip())
        return "\n".join(lines)

    def render(self, name, value, attrs=None, renderer=None):
        rows = [
            {
                "start": c["start"],
                "end": c["end"] if c["end"] != c["start"] else "",
                "label": c.get("label", ""),
            }
            for c in _closures_of(value)
        ]
        rows += [{"start": "", "end": "", "label": ""}] * self.SPARE_ROWS
        attrs = attrs or {}
        return render_to_string(
            "ui/closures.html",
            {
                "name": name,
                "rows": rows,
                "id": attrs.get("id", name),
                "disabled": attrs.get("disabled", False),
            },
        )


MAX_ROWS = 250  # more than hours.MAX_CLOSURES, so the parser, not the widget, says there are too many


def _closures_of(value) -> list[dict]:
    """The rows to show: the stored form, or the text form as posted (kept as typed when it does not parse)."""
    if isinstance(value, list):
        return value
    try:
        return parse_closures(value or "")
    except HoursError:
        rows = []
        for line in (value or "").splitlines():
            when, _, label = line.strip().partition(" ")
            first, _, last = when.partition("..")
            rows.append({"start": first.replace("?", ""), "end": last or first, "label": label})
        return rows


# --- Time zones --------------------------------------------------------------------------------------------

US_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
]


@cache
def timezone_choices() -> list:
    """Every IANA zone, grouped by region for a <select>: the US's first (most clients), then the rest A to Z."""
    common = {zone for zone, _ in US_ZONES}
    regions: dict[str, list] = {}
    for zone in sorted(zoneinfo.available_timezones()):
        region, _, place = zone.partition("/")
        if zone in common or not place or region in ("Etc", "SystemV", "US"):
            continue
        regions.setdefault(region, []).append((zone, place.replace("_", " ").replace("/", " / ")))
    return [("United States", US_ZONES), *sorted(regions.items()), ("Other", [("UTC", "UTC")])]


class TimezoneField(forms.ChoiceField):
    """The one time-zone picker (settings, the wizard): a select grouped by region, valued by IANA name."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "“%(value)s” is not a time zone; use an IANA name such as America/Chicago."},
        )
        super().__init__(choices=timezone_choices, **kwargs)
