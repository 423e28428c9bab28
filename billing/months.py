"""Billing months: calendar months in the agency's time zone, named by their first day."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.timezone import now

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_start(at: datetime, time_zone: str) -> date:
    """The month ``at`` falls in, in ``time_zone``: 23:30 on 31 January in Chicago is January there even
    though it is February in UTC."""
    local = at.astimezone(ZoneInfo(time_zone))
    return date(local.year, local.month, 1)


def current_month(time_zone: str) -> date:
    return month_start(now(), time_zone)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_has_ended(month: date, time_zone: str) -> bool:
    return current_month(time_zone) > month


def month_parse(text: str) -> date | None:
    """ "2026-03" → 1 March 2026; None for anything else."""
    match = _MONTH.match(text or "")
    return date(int(match[1]), int(match[2]), 1) if match else None


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"
