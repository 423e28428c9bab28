"""What works in the texts: reply, booked and opt-out rates per template and per wording under an A/B test, and
the winner named only when Fisher's exact test says the difference is more than chance. Every number is set up
by hand below; the two p-values are textbook ones (Fisher's tea-tasting table, 34/70 = 0.486, and Wikipedia's
[[1, 9], [11, 3]], 0.0028).

Acme, 2–6 Nov 2026 (Chicago), one caller a text:
  business hours, wording A: 10 texts, 1 replied, 1 opted out (STOP is not a reply)
  business hours, wording B: 14 texts, 11 replied, 4 of them booked  → B wins, p = 0.0028
  after hours (one wording): 4 texts, 2 replied, 1 of them won; plus one more whose caller said nothing until the
                             follow-up the next morning, then replied to it: that reply is the follow-up's
  returning caller A: 4 texts, 3 replied; B: 4 texts, 1 replied   → no clear winner, p = 0.486
  follow-up: 1 text, 1 replied"""

import html
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from crm.models import Outcome
from messaging.models import Message
from reports.selectors import Period, text_results
from reports.stats import fisher_exact
from telephony.models import Call
from tests.reports.history import CHICAGO, Writer

pytestmark = pytest.mark.django_db

PERIOD = Period(date(2026, 11, 2), date(2026, 11, 6), "America/Chicago")
REPORT = "?preset=custom&start=2026-11-02&end=2026-11-06"


def _text(
    w: Writer, at: datetime, template: str, variant: str = "", *, replied=False, booked=None, stop=False
):
    contact, conversation = w.caller()
    call = w.call(at - timedelta(minutes=1), Call.Outcome.MISSED, contact=contact)
    message = w.textback(conversation, call, at)
    Message.objects.filter(pk=message.pk).update(template_kind=template, template_variant=variant)
    if stop:
        w.opt_out(conversation, at + timedelta(minutes=3))
    if replied:
        w.inbound(conversation, at + timedelta(minutes=5))
    if booked:
        w.outcome(
            contact, booked, at + timedelta(minutes=30), "500.00" if booked == Outcome.Kind.WON else None
        )
    return contact, conversation


@pytest.fixture
def texts(personas):
    acme = personas.acme
    day = datetime(2026, 11, 3, 10, 0, tzinfo=CHICAGO)
    with schema_context(acme.schema_name):
        w = Writer(acme)
        for i in range(10):
            _text(w, day + timedelta(minutes=i), "business_hours", "a", replied=i == 0, stop=i == 1)
        for i in range(14):
            booked = Outcome.Kind.BOOKED if i < 4 else None
            _text(
                w, day + timedelta(hours=1, minutes=i), "business_hours", "b", replied=i < 11, booked=booked
            )
        evening = datetime(2026, 11, 3, 20, 0, tzinfo=CHICAGO)
        for i in range(4):
            won = Outcome.Kind.WON if i == 0 else None
            _text(w, evening + timedelta(minutes=i), "after_hours", replied=i < 2, booked=won)
        # Silent after the text-back; the follow-up next morning is what the caller answers.
        contact, conversation = _text(w, evening + timedelta(minutes=30), "after_hours")
        followup_at = evening + timedelta(hours=14)
        Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            kind="followup",  # messaging.followups' kind; a fixed text, no template
            body="Just checking in after your call.",
            status=Message.Status.DELIVERED,
            from_number=str(acme.phone_number),
            to_number=contact.phone_number,
            created_at=followup_at,
            sent_at=followup_at,
        )
        w.inbound(conversation, followup_at + timedelta(minutes=2))
        for i in range(4):
            _text(w, day + timedelta(days=1, minutes=i), "returning_caller", "a", replied=i < 3)
            _text(w, day + timedelta(days=1, minutes=10 + i), "returning_caller", "b", replied=i < 1)
        # Outside the period (the 7th): not counted.
        _text(w, datetime(2026, 11, 7, 9, 0, tzinfo=CHICAGO), "business_hours", "a", replied=True)
    return acme


def test_fisher_exact_matches_the_textbook():
    assert round(fisher_exact(3, 1, 1, 3), 4) == 0.4857  # the lady tasting tea: 34/70
    assert round(fisher_exact(1, 9, 11, 3), 6) == 0.002759
    assert fisher_exact(0, 10, 0, 10) == 1.0  # nobody replied to either: nothing to tell apart
    with pytest.raises(ValueError):
        fisher_exact(-1, 1, 1, 1)


def test_rates_per_template_and_wording(texts):
    results = {r.template: r for r in text_results(client=texts, period=PERIOD)}
    assert list(results) == ["business_hours", "after_hours", "returning_caller", "followup"]
    a, b = results["business_hours"].test
    assert (a.sent, a.replied, a.booked, a.opted_out) == (10, 1, 0, 1)
    assert (a.reply_rate, a.opt_out_rate) == (Decimal("10.0"), Decimal("10.0"))
    assert (b.sent, b.replied, b.booked, b.opted_out) == (14, 11, 4, 0)
    assert (b.reply_rate, b.booked_rate) == (Decimal("78.6"), Decimal("28.6"))  # 11/14, 4/14
    (after,) = results["after_hours"].wordings
    # The fifth caller's reply came after the follow-up: it is the follow-up's.
    assert (after.variant, after.sent, after.replied, after.booked, after.opted_out) == ("", 5, 2, 1, 0)
    assert after.reply_rate == Decimal("40.0") and after.booked_rate == Decimal("20.0")
    (followup,) = results["followup"].wordings
    assert (followup.sent, followup.replied, followup.reply_rate) == (1, 1, Decimal("100.0"))


def test_the_winner_is_named_only_when_significant(texts):
    results = {r.template: r for r in text_results(client=texts, period=PERIOD)}
    business = results["business_hours"]
    assert round(business.p_value, 6) == 0.002759
    assert business.winner is business.test[1]  # B
    returning = results["returning_caller"]
    assert round(returning.p_value, 4) == 0.4857 and returning.winner is None
    assert results["after_hours"].p_value is None and results["after_hours"].winner is None


def _page(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_the_report_shows_what_works(web, texts, personas):
    text = _page(web("acme.localhost", personas.alice).get("/reports/" + REPORT))
    assert "What works in the texts" in text
    assert "Business hours B (winner) 14 78.6% (11) 28.6% (4) 0.0% (0)" in text
    assert "Business hours A 10 10.0% (1) 0.0% (0) 10.0% (1)" in text
    assert (
        "Business hours: wording B wins, replied to 78.6% against 10.0% (Fisher's exact test, p = 0.003)."
        in text
    )
    assert (
        "Returning caller: no clear winner yet, 75.0% against 25.0% replied (Fisher's exact test, p = 0.49"
        in text
    )
    assert "After hours — 5 40.0% (2) 20.0% (1) 0.0% (0)" in text
    assert "Follow-up — 1 100.0% (1)" in text


def test_the_agency_sees_it_and_another_agency_does_not(web, texts, personas):
    text = _page(web("localhost", personas.nate).get("/reports/clients/acme/" + REPORT))
    assert "wording B wins" in text
    assert web("localhost", personas.sara).get("/reports/clients/acme/" + REPORT).status_code == 404
    # Bolt's own report has none of Acme's texts.
    bolt = _page(web("bolt.localhost", personas.dave).get("/reports/" + REPORT))
    assert "No texts went out in 2 Nov 2026 – 6 Nov 2026." in bolt and "wording B" not in bolt
