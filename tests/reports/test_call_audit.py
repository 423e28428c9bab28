"""The missed-call audit for a prospect: its numbers worked out by hand, the agency's page and its controls, the
read-only share link, the PDF, and who may see what.

Acme (Chicago) on a 2-day audit from Tue 10 Nov 2026 09:00; average job $300, 20% of replies book:
  Tue 10 Nov 10:00 missed (in hours)  → would have been texted
  Tue 10 Nov 14:30 answered
  Tue 10 Nov 20:00 missed (after hours) → would have been texted
  Wed 11 Nov 09:15 missed (in hours)  → would have been texted
  Wed 11 Nov 11:00 missed, caller hid their number → would not have been texted
  Thu 12 Nov 10:00 missed: after the audit's two days, not counted
5 calls, 4 missed (80.0%), 3 would have been texted: 3 × 20% × $300 = $180.00 walking away; every missed call at
$300: $1,200.00. Tuesday 2 of 3 missed (66.7%), Wednesday 2 of 2 (100.0%)."""

import re
from datetime import datetime
from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from accounts.models import Client
from reports.call_audit import call_audit_convert, call_audit_for, call_audit_start, share_token
from reports.rollups import rollup_rebuild_client
from telephony.models import Call
from tests.reports.history import CHICAGO, Writer

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 11, 10, 9, 0, tzinfo=CHICAGO)
CALLERS = ["+13125550301", "+13125550302", "+13125550303", "+13125550304"]


@pytest.fixture
def audit(personas):
    acme = personas.acme
    Client.objects.filter(pk=acme.pk).update(average_job_value="300.00", reply_conversion_rate="20.00")
    acme.refresh_from_db()
    call_audit_start(client=acme, days=2, at=STARTED)
    with schema_context(acme.schema_name):
        w = Writer(acme)
        contacts = {number: w.caller(number)[0] for number in CALLERS}
        for number, (day, hour, minute), outcome, in_hours, reason in [
            (CALLERS[0], (10, 10, 0), Call.Outcome.MISSED, True, "call_audit"),
            (CALLERS[1], (10, 14, 30), Call.Outcome.ANSWERED, True, None),
            (CALLERS[2], (10, 20, 0), Call.Outcome.MISSED, False, "call_audit"),
            (CALLERS[3], (11, 9, 15), Call.Outcome.MISSED, True, "call_audit"),
            (None, (11, 11, 0), Call.Outcome.MISSED, True, "anonymous_caller"),
            (CALLERS[0], (12, 10, 0), Call.Outcome.MISSED, True, "call_audit"),
        ]:
            contact = contacts.get(number)
            at = datetime(2026, 11, day, hour, minute, tzinfo=CHICAGO)
            call = w.call(at, outcome, in_hours=in_hours, contact=contact, anonymous=number is None)
            if reason:
                w.skipped(call, reason)
    rollup_rebuild_client(client=acme)
    yield acme
    Client.objects.filter(pk=acme.pk).update(
        average_job_value=None,
        reply_conversion_rate=None,
        call_audit_started_at=None,
        call_audit_converted_at=None,
        call_audit_days=14,
    )
    personas.acme.refresh_from_db()


def test_what_the_audit_found(audit):
    found = call_audit_for(client=audit)
    assert (found.period.start.isoformat(), found.period.end.isoformat()) == ("2026-11-10", "2026-11-11")
    funnel = found.funnel
    assert (funnel.calls, funnel.missed_calls, funnel.missed_rate) == (5, 4, Decimal("80.0"))
    assert (funnel.missed_in_hours, funnel.missed_after_hours) == (3, 1)
    assert {h: n for h, n in enumerate(funnel.missed_by_hour) if n} == {9: 1, 10: 1, 11: 1, 20: 1}
    assert funnel.missed_rate_by_weekday[1] == Decimal("66.7") and funnel.missed_rate_by_weekday[
        2
    ] == Decimal("100.0")
    assert found.would_have_texted == 3
    assert found.walking_away == Decimal("180.00") and found.missed_value == Decimal("1200.00")
    assert set(found.would_text) == {"During business hours", "After hours"}
    assert all("Acme Plumbing" in text for text in found.would_text.values())


def _page(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_agency_sees_it_and_can_share_it(web, audit, personas):
    response = web("localhost", personas.nate).get("/reports/clients/acme/call-audit/")
    text = _page(response)
    assert "Calls 5" in text and "Missed calls 4" in text and "Missed-call rate 80.0%" in text
    assert "Would have been texted 3" in text and "About $180.00 in 2 days" in text
    assert "Every missed call at the average job value: $1,200.00." in text
    share = re.search(r'href="(http://localhost:8000/reports/call-audit/[^"]+/)"', response.content.decode())[
        1
    ]
    anonymous = web("localhost").get(share.removeprefix("http://localhost:8000"))
    assert anonymous.status_code == 200
    shared = _page(anonymous)
    assert "Missed calls 4" in shared and "About $180.00 in 2 days" in shared
    assert "Go live" not in shared and "Start a new audit" not in shared  # read-only
    assert "Northwind Marketing" in shared and "agency=northwind" in anonymous.content.decode()  # their brand
    assert not any(number in anonymous.content.decode() for number in CALLERS)  # no caller's number
    assert not any(number[-4:] in shared for number in CALLERS)


def test_the_pdf_is_one_page(web, audit, personas):
    response = web("localhost", personas.nina).get("/reports/clients/acme/call-audit.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"/Count 1" in response.content
    token = share_token(client=audit)
    shared = web("localhost").get(f"/reports/call-audit/{token}/audit.pdf")
    assert shared.status_code == 200 and shared.content.startswith(b"%PDF")


def test_another_agency_and_forged_links_see_nothing(web, audit, personas):
    sara = web("localhost", personas.sara)
    assert sara.get("/reports/clients/acme/call-audit/").status_code == 404
    assert sara.get("/reports/clients/acme/call-audit.pdf").status_code == 404
    assert sara.post("/reports/clients/acme/call-audit/", {"action": "convert"}).status_code == 404
    audit.refresh_from_db()
    assert audit.in_call_audit
    assert web("localhost").get("/reports/call-audit/forged/").status_code == 404
    old = share_token(client=audit)
    call_audit_start(client=audit, days=7)  # a new audit: the old link stops working
    assert web("localhost").get(f"/reports/call-audit/{old}/").status_code == 404
    assert web("localhost").get(f"/reports/call-audit/{share_token(client=audit)}/").status_code == 200


def test_bad_days_are_refused_with_a_reason(web, audit, personas):
    nate = web("localhost", personas.nate)
    for days in ("0", "91", "two weeks"):
        response = nate.post(
            "/reports/clients/acme/call-audit/", {"action": "start", "days": days}, follow=True
        )
        assert "An audit runs 1 to 90 days" in response.content.decode()
    audit.refresh_from_db()
    assert audit.call_audit_days == 2 and audit.call_audit_started_at == STARTED


def test_going_live_keeps_the_history(web, audit, personas):
    nate = web("localhost", personas.nate)
    response = nate.post("/reports/clients/acme/call-audit/", {"action": "convert"}, follow=True)
    assert "Acme Plumbing is live: missed callers are texted back from now on." in response.content.decode()
    audit.refresh_from_db()
    assert not audit.in_call_audit and audit.call_audit_converted_at is not None
    text = _page(nate.get("/reports/clients/acme/call-audit/"))
    assert "has since gone live with text-back" in text and "Missed calls 4" in text and "Go live" not in text
    with pytest.raises(ValueError):
        call_audit_convert(client=audit)
    report = _page(nate.get("/reports/clients/acme/?preset=custom&start=2026-11-10&end=2026-11-11"))
    assert "Missed calls 4" in report  # the audit's calls are the client's history
