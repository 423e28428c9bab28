"""What an agency's own Twilio account used and cost, read from Twilio (api v2010 Usage Records, this month and
last month) for the agency's subaccount or own account. An agency sharing the platform's account has no usage of
its own to show (its texts are mixed with everyone's there), and is told so.

Twilio computes these records; they are read at most every CACHE_SECONDS per agency (platform cache), so the page
costs no request to Twilio most of the time; a failure says so on the page and is not cached."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import requests
from django.core.cache import caches
from twilio.base.exceptions import TwilioException, TwilioRestException

from accounts.models import Agency
from messaging.twilio_accounts import client_for, credentials_for

CACHE_SECONDS = 900
# The categories worth an agency's eye, in this order, in its words; "totalprice" is the account's whole bill.
CATEGORIES = {
    "sms-outbound": "Texts sent",
    "sms-inbound": "Texts received",
    "sms": "Texts (all)",
    "mms": "Picture messages",
    "calls": "Calls",
    "phonenumbers": "Phone numbers",
    "lookups": "Line-type lookups",
    "totalprice": "Everything (Twilio's total)",
}
PERIODS = (("this_month", "This month"), ("last_month", "Last month"))


@dataclass(frozen=True)
class UsageLine:
    category: str
    label: str
    count: str
    usage: str
    usage_unit: str
    price: Decimal
    price_unit: str


@dataclass
class PeriodUsage:
    label: str
    start: str = ""
    end: str = ""
    lines: list[UsageLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """Twilio's own total when it gave one, else the sum of the lines shown."""
        for line in self.lines:
            if line.category == "totalprice":
                return line.price
        return sum((line.price for line in self.lines), Decimal(0))

    @property
    def price_unit(self) -> str:
        return (self.lines[0].price_unit if self.lines else "usd").upper()


@dataclass
class AgencyUsage:
    account_sid: str
    periods: list[PeriodUsage]
    error: str = ""


def _key(agency_id: int, account_sid: str) -> str:
    return f"twilio-usage:{agency_id}:{account_sid}"


def usage_for(agency: Agency) -> AgencyUsage | None:
    """This month's and last month's usage and prices of the agency's own account; None when it has none."""
    credentials = credentials_for(agency.pk)
    if credentials is None:
        return None
    cache = caches["platform"]
    cached = cache.get(_key(agency.pk, credentials.account_sid))
    if cached is not None:
        return cached
    api = client_for(agency)
    records = api.api.v2010.accounts(credentials.account_sid).usage.records
    periods = []
    try:
        for attribute, label in PERIODS:
            period = PeriodUsage(label=label)
            for record in getattr(records, attribute).list(page_size=200):
                if record.category not in CATEGORIES:
                    continue
                period.start, period.end = str(record.start_date or ""), str(record.end_date or "")
                period.lines.append(
                    UsageLine(
                        category=record.category,
                        label=CATEGORIES[record.category],
                        count=record.count or "0",
                        usage=record.usage or "0",
                        usage_unit=record.usage_unit or "",
                        price=_decimal(record.price),
                        price_unit=record.price_unit or "usd",
                    )
                )
            period.lines.sort(key=lambda line: list(CATEGORIES).index(line.category))
            periods.append(period)
    except TwilioRestException as exc:
        return AgencyUsage(
            credentials.account_sid, [], error=f"Twilio refused: {exc.msg} (error {exc.code})."
        )
    except TwilioException:  # a list page Twilio answered with an error (twilio-python says no more)
        return AgencyUsage(
            credentials.account_sid, [], error="Twilio answered with an error; try again later."
        )
    except requests.RequestException:
        return AgencyUsage(
            credentials.account_sid, [], error="Could not reach Twilio; try again in a moment."
        )
    usage = AgencyUsage(credentials.account_sid, periods)
    cache.set(_key(agency.pk, credentials.account_sid), usage, CACHE_SECONDS)
    return usage


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
