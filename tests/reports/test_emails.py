"""The monthly report email: each owner gets their client's month with the PDF, each agency's people a summary;
once per month per person, and not to anyone who turned it off from the email's own link."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from billing.models import AgencyBilling
from reports.emails import last_month, monthly_email_send_agency, monthly_email_send_client, unsubscribe_token
from reports.rollups import rollup_rebuild_client
from reports.tasks import send_monthly_reports

pytestmark = pytest.mark.django_db

NOVEMBER = date(2026, 11, 1)


def test_owners_get_their_month_with_the_pdf(history):
    assert monthly_email_send_client(client=history.acme, month=NOVEMBER) == 1
    [email] = mail.outbox
    assert email.to == ["alice@acme.test"]  # the owner; bob is staff
    assert email.subject == "Acme Plumbing: your missed-call report for November 2026"
    assert email.from_email.startswith("Northwind Marketing <")  # the agency's brand, not ours
    assert "Missed calls: 6" in email.body and "Recovered revenue: $1,650.50" in email.body
    assert "Estimate for 1 booked job(s) without a value yet: $300.00 (an estimate" in email.body
    assert "http://acme.localhost:8000/reports/?preset=custom&start=2026-11-01&end=2026-11-30" in email.body
    [(name, content, kind)] = email.attachments
    assert (name, kind) == ("acme-2026-11.pdf", "application/pdf") and content.startswith(b"%PDF")


def test_the_same_month_is_never_sent_twice(history):
    monthly_email_send_client(client=history.acme, month=NOVEMBER)
    assert monthly_email_send_client(client=history.acme, month=NOVEMBER) == 0
    assert len(mail.outbox) == 1


def test_the_agency_summary_ranks_its_clients(history):
    for client in (history.acme, history.bolt, history.cedar):
        rollup_rebuild_client(client=client)
    assert monthly_email_send_agency(agency=history.northwind, month=NOVEMBER) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["nate@northwind.test", "nina@northwind.test"]
    body = mail.outbox[0].body
    assert "November 2026 across your 2 client(s): $1,750.49 recovered." in body
    assert body.index("1. Acme Plumbing") < body.index("2. Bolt Electric")
    assert "Cedar" not in body


def test_the_link_in_the_email_turns_it_off(web, history):
    monthly_email_send_client(client=history.acme, month=NOVEMBER)
    link = re.search(r"Turn it off: http://localhost:8000(\S+)", mail.outbox[0].body)[1]
    browser = web("localhost")
    page = browser.get(link)  # a mail scanner following the link changes nothing
    assert (
        page.status_code == 200
        and b"Stop sending the monthly report email to alice@acme.test?" in page.content
    )
    assert monthly_email_send_client(client=history.acme, month=date(2026, 10, 1)) == 1
    response = browser.post(link)
    assert b"You will not get the monthly report email any more" in response.content
    assert monthly_email_send_client(client=history.acme, month=date(2026, 9, 1)) == 0
    assert len(mail.outbox) == 2


def test_a_tampered_link_is_refused(web, personas):
    token = unsubscribe_token(personas.alice)
    response = web("localhost").post(f"/reports/email/unsubscribe/{token[:-2]}xx/")
    assert response.status_code == 400 and b"This link does not work" in response.content


def test_the_beat_task_sends_last_month_in_each_clients_zone(personas, monkeypatch):
    AgencyBilling.objects.update_or_create(
        agency=personas.northwind, defaults={"time_zone": "America/Los_Angeles"}
    )
    queued = []
    from reports import tasks

    monkeypatch.setattr(tasks.send_client_monthly_report, "delay", lambda *a: queued.append(("client", *a)))
    monkeypatch.setattr(tasks.send_agency_monthly_summary, "delay", lambda *a: queued.append(("agency", *a)))
    send_monthly_reports.apply()
    assert ("client", personas.acme.pk, last_month(tz="America/Chicago").isoformat()) in queued
    # The agency's summary is the agency's month: the one its bills count, in its time zone.
    assert ("agency", personas.northwind.pk, last_month(tz="America/Los_Angeles").isoformat()) in queued
    # 14:00 UTC on the 1st (when beat runs it): last month is over everywhere.
    at = datetime(2026, 12, 1, 14, 0, tzinfo=ZoneInfo("UTC"))
    assert last_month(tz="Pacific/Honolulu", at=at) == last_month(tz="Asia/Tokyo", at=at) == NOVEMBER
