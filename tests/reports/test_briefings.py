"""Briefings: each of a client's people chooses a daily or weekly email (owners get the weekly one unless they
choose otherwise); it says the missed calls, who is still waiting, and the week's recovered revenue, worked out
by hand from the known history (tests/reports/history.py); it goes out once per person and period however often
beat asks; every link in it is on a host we serve.

Acme (Chicago), Mon 2 Nov 2026: calls at 10:00, 16:59 and 23:30, all missed (23:30 after hours), two text-backs,
one reply; won $450 and $1,200.50. Mon 26 Oct – Sun 1 Nov: 7 calls, 5 missed (4 after hours), 3 text-backs,
2 replies, nothing won."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django_tenants.utils import schema_context

from accounts.models import ClientMembership
from crm.models import Contact
from reports import tasks
from reports.briefings import (
    briefing_choose,
    briefing_frequency,
    briefing_recipients,
    briefings_due,
    briefings_send,
    choice_token,
)
from reports.models import BriefingPreference
from tests.reports.history import CHICAGO, Writer

pytestmark = pytest.mark.django_db

TUESDAY_8AM = datetime(2026, 11, 3, 8, 0, tzinfo=CHICAGO)  # the daily briefing covers Monday the 2nd
MONDAY_8AM = datetime(2026, 11, 2, 8, 0, tzinfo=CHICAGO)  # the weekly one covers 26 Oct – 1 Nov
TRUSTED = ("http://acme.localhost:8000/", "http://localhost:8000/")


def _by(to: str):
    return [m for m in mail.outbox if m.to == [to]]


def test_owners_get_the_weekly_one_by_default_and_staff_none(personas):
    assert briefing_frequency(user=personas.alice, client=personas.acme) == "weekly"
    assert briefing_frequency(user=personas.bob, client=personas.acme) == "off"
    assert list(briefing_recipients(client=personas.acme, frequency="weekly")) == [personas.alice]
    briefing_choose(user=personas.bob, client=personas.acme, frequency="daily")
    briefing_choose(user=personas.alice, client=personas.acme, frequency="off")
    assert list(briefing_recipients(client=personas.acme, frequency="daily")) == [personas.bob]
    assert list(briefing_recipients(client=personas.acme, frequency="weekly")) == []
    with pytest.raises(ValueError):
        briefing_choose(user=personas.bob, client=personas.acme, frequency="hourly")


def test_what_is_due_follows_the_clients_clock(personas):
    assert briefings_due(client=personas.acme, at=MONDAY_8AM.replace(hour=6, minute=59)) == []
    [daily, weekly] = briefings_due(client=personas.acme, at=MONDAY_8AM)
    assert (daily.frequency, daily.period.start, daily.period.end) == (
        "daily",
        *[MONDAY_8AM.date() - timedelta(1)] * 2,
    )
    assert (weekly.period.start.isoformat(), weekly.period.end.isoformat()) == ("2026-10-26", "2026-11-01")
    assert [d.frequency for d in briefings_due(client=personas.acme, at=TUESDAY_8AM)] == ["daily"]
    assert briefings_due(client=personas.acme, at=TUESDAY_8AM.replace(hour=12)) == []
    # 08:00 in Chicago is 06:00 in Los Angeles: not yet Cedar's morning.
    assert briefings_due(client=personas.cedar, at=TUESDAY_8AM) == []


def test_the_daily_briefing_says_yesterday_who_waits_and_the_week(history):
    with schema_context(history.acme.schema_name):
        w = Writer(history.acme)
        contact, conversation = w.caller("+13125550999")
        Contact.objects.filter(pk=contact.pk).update(name="Dana Whitfield")
        w.inbound(conversation, datetime(2026, 11, 2, 18, 0, tzinfo=CHICAGO), "Is anyone there?")
    briefing_choose(user=history.alice, client=history.acme, frequency="daily")
    assert briefings_send(client=history.acme, at=TUESDAY_8AM) == 1
    [email] = _by("alice@acme.test")
    assert email.subject == "Acme Plumbing: 3 missed calls yesterday, Mon 2 Nov"
    assert email.from_email.startswith("Northwind Marketing <")
    body = email.body
    assert "Missed calls: 3 (1 after hours) of 3 calls" in body
    assert "Text-backs sent: 2   Replies: 1" in body
    assert "Recovered revenue, Tue 27 Oct – Mon 2 Nov: $1,650.50" in body
    assert "Still waiting for an answer (1):" in body
    assert re.search(r"- Dana Whitfield, since Mon 2 Nov 18:00: http://acme\.localhost:8000/inbox/\d+/", body)
    assert "http://acme.localhost:8000/reports/?preset=custom&start=2026-11-02&end=2026-11-02" in body
    urls = re.findall(r"https?://\S+", body)
    assert urls and all(url.startswith(TRUSTED) for url in urls)


def test_the_weekly_briefing_covers_monday_to_sunday(history):
    assert briefings_send(client=history.acme, at=MONDAY_8AM) == 1  # alice, weekly by default; bob none
    [email] = mail.outbox
    assert email.to == ["alice@acme.test"]
    assert email.subject == "Acme Plumbing: 5 missed calls last week, Mon 26 Oct – Sun 1 Nov"
    assert "Missed calls: 5 (4 after hours) of 7 calls" in email.body
    assert "Text-backs sent: 3   Replies: 2" in email.body
    assert "Recovered revenue, Mon 26 Oct – Sun 1 Nov: $0.00" in email.body
    assert "Nobody is waiting for an answer." in email.body


def test_once_per_person_and_period_however_often_beat_asks(history):
    briefing_choose(user=history.bob, client=history.acme, frequency="daily")
    assert briefings_send(client=history.acme, at=MONDAY_8AM) == 2  # alice's weekly, bob's daily
    assert briefings_send(client=history.acme, at=MONDAY_8AM) == 0
    assert briefings_send(client=history.acme, at=MONDAY_8AM + timedelta(hours=3)) == 0  # a later hour
    assert briefings_send(client=history.acme, at=TUESDAY_8AM) == 1  # bob's next daily; alice's week is done
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@acme.test", "bob@acme.test", "bob@acme.test"]


def test_people_who_left_or_chose_never_get_none(history):
    briefing_choose(user=history.alice, client=history.acme, frequency="off")
    ClientMembership.objects.filter(user=history.bob, client=history.acme).delete()
    BriefingPreference.objects.create(user=history.bob, client=history.acme, frequency="daily")
    assert briefings_send(client=history.acme, at=MONDAY_8AM) == 0
    assert mail.outbox == []


def test_the_link_in_the_email_changes_the_choice_on_a_post_only(web, history):
    briefings_send(client=history.acme, at=MONDAY_8AM)
    link = re.search(r"Daily, weekly or not at all: http://localhost:8000(\S+)", mail.outbox[0].body)[1]
    browser = web("localhost")
    page = browser.get(link)  # a mail scanner following the link changes nothing
    assert page.status_code == 200 and b"Briefing email \xc2\xb7 Acme Plumbing" in page.content
    assert briefing_frequency(user=history.alice, client=history.acme) == "weekly"
    assert browser.post(link, {"frequency": "daily"}).status_code == 200
    assert briefing_frequency(user=history.alice, client=history.acme) == "daily"
    assert browser.post(link, {"frequency": "hourly"}).status_code == 400
    assert briefing_frequency(user=history.alice, client=history.acme) == "daily"


def test_a_forged_or_stale_link_changes_nothing(web, personas):
    browser = web("localhost")
    assert browser.post("/reports/email/briefing/nonsense/", {"frequency": "off"}).status_code == 400
    token = choice_token(user=personas.bob, client=personas.acme)
    ClientMembership.objects.filter(user=personas.bob, client=personas.acme).delete()
    assert browser.post(f"/reports/email/briefing/{token}/", {"frequency": "daily"}).status_code == 400
    assert not BriefingPreference.objects.filter(user=personas.bob).exists()


def test_each_person_chooses_on_the_clients_host(web, personas):
    alice = web("acme.localhost", personas.alice)
    report = alice.get("/reports/").content.decode()
    assert (
        'Briefing email: Every Monday morning (last week&#x27;s calls) · <a href="/reports/briefing/">'
        in report
    )
    page = alice.get("/reports/briefing/").content.decode()
    assert 'value="weekly" checked' in page
    assert alice.post("/reports/briefing/", {"frequency": "daily"}).status_code == 200
    assert briefing_frequency(user=personas.alice, client=personas.acme) == "daily"
    # Agency staff may enter the client's host but get no briefing of it; another client's owner is turned away.
    assert web("acme.localhost", personas.nate).get("/reports/briefing/").status_code == 404
    stranger = web("acme.localhost", personas.dave).get("/reports/briefing/")
    assert stranger.status_code == 302 and "/accounts/login/" in stranger["Location"]
    assert not BriefingPreference.objects.filter(user=personas.dave).exists()


def test_beat_queues_only_the_clients_whose_morning_it_is(personas, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.send_client_briefings, "delay", queued.append)
    with time_machine.travel(datetime(2026, 11, 3, 14, 5, tzinfo=ZoneInfo("UTC"))):  # 08:05 Chicago, 06:05 LA
        tasks.send_briefings.apply()
    assert personas.acme.pk in queued and personas.cedar.pk not in queued
