"""Limits: warnings at 80% and 100% of a client's included segments, once each per month, to the agency (and
the owner when the agency asks), and the agency's choice above the limit: bill overage, or pause text-backs."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing import receivers
from billing.models import ClientPrice, UsageWarning
from billing.services import USAGE_LIMIT, textback_usage_check
from billing.tasks import usage_warning_send, usage_warnings_send_pending
from messaging import events as messaging_events
from messaging.events import TextbackCheck

from .conftest import price_for, republish, sent_message

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO), tick=True):
        yield


def _send(client, count: int, body: str = "hello") -> None:
    for _ in range(count):
        sent_message(client, body)


def _warnings_queued(callbacks) -> int:
    """How many of the on-commit callbacks queue a usage warning (the rest are the core's own sends)."""
    return sum(1 for callback in callbacks if callback.__module__ == "billing.services")


def _thresholds(client) -> list[int]:
    return sorted(UsageWarning.objects.filter(client=client).values_list("threshold", flat=True))


def test_warnings_come_at_80_and_100_percent_once_each(personas, plan, django_capture_on_commit_callbacks):
    price_for(personas.acme, included_segments=10)
    with django_capture_on_commit_callbacks() as queued:
        _send(personas.acme, 7)
    assert _thresholds(personas.acme) == [] and _warnings_queued(queued) == 0
    with django_capture_on_commit_callbacks() as queued:
        _send(personas.acme, 1)
    assert _thresholds(personas.acme) == [80] and _warnings_queued(queued) == 1
    with django_capture_on_commit_callbacks() as queued:
        _send(personas.acme, 5)
    assert _thresholds(personas.acme) == [80, 100] and _warnings_queued(queued) == 1
    assert _thresholds(personas.bolt) == []


def test_one_text_past_both_thresholds_warns_for_both(personas, plan):
    price_for(personas.acme, included_segments=2)
    sent_message(personas.acme, "x" * 400)  # 3 segments
    assert _thresholds(personas.acme) == [80, 100]


def test_a_provider_recount_can_cross_a_threshold(personas, plan):
    price_for(personas.acme, included_segments=5)
    message = sent_message(personas.acme, "hello")
    republish(
        personas.acme,
        messaging_events.MessageStatusChanged,
        message=message,
        status="delivered",
        params={"NumSegments": "4"},
    )
    assert _thresholds(personas.acme) == [80]


def test_each_month_warns_again(personas, plan):
    price_for(personas.acme, included_segments=1)
    sent_message(personas.acme, "hello")
    with time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=CHICAGO), tick=False):
        sent_message(personas.acme, "hello")
    months = sorted(
        UsageWarning.objects.filter(client=personas.acme, threshold=100).values_list("month", flat=True)
    )
    assert months == [date(2026, 11, 1), date(2026, 12, 1)]


def test_no_included_segments_means_no_warnings(personas):
    _send(personas.acme, 3)  # northwind has no plan and acme no price
    assert _thresholds(personas.acme) == []


def test_the_warning_email_goes_to_the_agency_and_optionally_the_owner(personas, plan, mailoutbox):
    price_for(personas.acme, included_segments=10, warn_owner=True, owner_sees_statement=True)
    _send(personas.acme, 8)
    warning = UsageWarning.objects.get(client=personas.acme, threshold=80)
    assert usage_warning_send(warning.pk) == 2
    assert usage_warning_send(warning.pk) == 0  # a repeated task sends nothing
    to_agency, to_owner = mailoutbox
    assert to_agency.to == ["nina@northwind.test"]
    assert to_agency.subject == "Acme Plumbing has used 80% of its included SMS segments for November 2026"
    assert "8 of its 10 included SMS segments" in to_agency.body
    assert "billed as overage" in to_agency.body
    assert "Usage and statements: http://localhost:8000/billing/" in to_agency.body
    assert to_owner.to == ["alice@acme.test"]  # the owner, not the client's staff
    assert to_owner.subject == to_agency.subject
    assert "Usage and statements: http://acme.localhost:8000/billing/" in to_owner.body


def test_an_owner_who_may_not_see_the_statement_is_warned_without_a_link(personas, plan, mailoutbox):
    price_for(personas.acme, included_segments=1, warn_owner=True, owner_sees_statement=False)
    sent_message(personas.acme, "hello")
    usage_warning_send(UsageWarning.objects.get(client=personas.acme, threshold=100).pk)
    to_owner = next(email for email in mailoutbox if email.to == ["alice@acme.test"])
    assert "has used 1 of its 1 included SMS segments" in to_owner.body
    assert "http" not in to_owner.body


def test_without_warn_owner_only_the_agency_hears(personas, plan, mailoutbox):
    price_for(personas.acme, included_segments=1, over_limit=ClientPrice.OverLimit.PAUSE)
    sent_message(personas.acme, "hello")
    warning = UsageWarning.objects.get(client=personas.acme, threshold=100)
    usage_warning_send(warning.pk)
    [email] = mailoutbox
    assert email.to == ["nina@northwind.test"]
    assert "Text-backs are paused until next month" in email.body


def test_warnings_the_broker_never_got_are_sent_by_the_pending_sweep(personas, plan, mailoutbox):
    price_for(personas.acme, included_segments=1)
    sent_message(personas.acme, "hello")
    with time_machine.travel(datetime(2026, 11, 20, 16, 0, tzinfo=CHICAGO), tick=False):
        assert usage_warnings_send_pending() == 2  # 80% and 100%, to nina
        assert usage_warnings_send_pending() == 0
    assert len(mailoutbox) == 2


# --- Above the limit ---------------------------------------------------------------------------------------


def test_pause_stops_text_backs_once_the_included_segments_are_used(personas, plan):
    price_for(personas.acme, included_segments=3, over_limit=ClientPrice.OverLimit.PAUSE)
    _send(personas.acme, 2)
    assert textback_usage_check(client=personas.acme) is None
    _send(personas.acme, 1)
    assert textback_usage_check(client=personas.acme) == USAGE_LIMIT
    assert receivers.textback_usage_veto(TextbackCheck(client=personas.acme, send=None)) == USAGE_LIMIT
    assert textback_usage_check(client=personas.bolt) is None


def test_billing_overage_keeps_text_backs_going(personas, plan):
    price_for(personas.acme, included_segments=1, over_limit=ClientPrice.OverLimit.BILL_OVERAGE)
    _send(personas.acme, 5)
    assert textback_usage_check(client=personas.acme) is None


def test_a_paused_client_sends_again_next_month(personas, plan):
    price_for(personas.acme, included_segments=1, over_limit=ClientPrice.OverLimit.PAUSE)
    sent_message(personas.acme, "hello")
    assert textback_usage_check(client=personas.acme) == USAGE_LIMIT
    with time_machine.travel(datetime(2026, 12, 1, 0, 1, tzinfo=CHICAGO), tick=False):
        assert textback_usage_check(client=personas.acme) is None


def test_the_plans_included_segments_apply_when_the_client_has_none_of_its_own(personas, plan):
    price_for(personas.acme, included_segments=None, over_limit=ClientPrice.OverLimit.PAUSE)
    _send(personas.acme, 99)
    assert textback_usage_check(client=personas.acme) is None
    sent_message(personas.acme, "hello")
    assert textback_usage_check(client=personas.acme) == USAGE_LIMIT
