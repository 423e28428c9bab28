"""Texting health before carriers act: what carriers did with each client's texts over the last 7 days, judged
against the thresholds, on the agency's dashboard and its own page, and emailed to the agency's admins (with an
automatic pause past a hard limit, when the agency chose it).

Personas: Northwind (nina admin, nate staff) serves acme and bolt; Southpeak (sara) serves cedar."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import AuditEntry, Client
from crm.services import contact_upsert
from deliverability.models import DeliverabilityDay, DeliverabilityPolicy, DeliverabilityState
from deliverability.selectors import deliverability_by_client, deliverability_total, window
from deliverability.services import deliverability_check
from messaging.models import ConsentEvent, Message
from messaging.services import contact_opt_out, send_deliver, textback_schedule
from tests.webhooks import post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
STATUS = "/hooks/twilio/sms/status/"


@pytest.fixture(autouse=True)
def _no_days_from_other_tests():
    """Tests against the running stack commit real counts for the persona clients; start from none."""
    DeliverabilityDay.objects.all().delete()
    DeliverabilityState.objects.all().delete()
    DeliverabilityPolicy.objects.all().delete()


def day(client, *, days_ago: int = 0, **counters):
    first, last = window()
    return DeliverabilityDay.objects.create(client=client, date=last - timedelta(days=days_ago), **counters)


def acme_week(personas):
    """Acme's hand-counted week: 200 texts in the window (plus 100 eight days ago, outside it)
    opt-outs 5 of 200 = 2.5% (warning above 2%), filtered 1 = 0.5% (fine), undelivered 11 = 5.5% (warning above
    5%), failed 2 = 1%, unregistered 0."""
    day(personas.acme, days_ago=0, attempted=50, opt_outs=2, undelivered=3)
    day(personas.acme, days_ago=3, attempted=100, opt_outs=3, filtered=1, undelivered=8, failed=2)
    day(personas.acme, days_ago=6, attempted=50)
    # A week and a day ago: outside the window, not counted.
    day(personas.acme, days_ago=7, attempted=100, opt_outs=40, filtered=40)


# --- Counting, through the real paths -------------------------------------------------------------------------


def _text_back(client, caller: str) -> Message:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=caller, missed_at=timezone.now())
    assert send_deliver(send_id=send.pk) == "sent"
    with schema_context(client.schema_name):
        return Message.objects.get(call_sid=send.call_sid)


def _status(web, client, message, status, **extra):
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "ApiVersion": "2010-04-01",
        "MessageSid": message.provider_sid,
        "MessageStatus": status,
        "SmsSid": message.provider_sid,
        "SmsStatus": status,
        "From": str(client.phone_number),
        "To": message.to_number,
        **extra,
    }
    return post_signed(web("localhost"), STATUS, params)


def _today(client) -> DeliverabilityDay:
    return DeliverabilityDay.objects.get(client=client, date=window()[1])


def test_carrier_answers_are_counted_with_their_meaning(twilio, web, personas):
    filtered = _text_back(personas.acme, "+13125550121")
    unregistered = _text_back(personas.acme, "+13125550122")
    undelivered = _text_back(personas.acme, "+13125550123")
    assert _status(web, personas.acme, filtered, "undelivered", ErrorCode="30007").status_code == 200
    assert _status(web, personas.acme, unregistered, "failed", ErrorCode="30034").status_code == 200
    assert _status(web, personas.acme, undelivered, "undelivered", ErrorCode="30003").status_code == 200
    # A repeated callback moves nothing forward and counts nothing again.
    _status(web, personas.acme, filtered, "undelivered", ErrorCode="30007")
    today = _today(personas.acme)
    assert (today.attempted, today.filtered, today.unregistered) == (3, 1, 1)
    assert (today.undelivered, today.failed) == (1, 0)
    assert not DeliverabilityDay.objects.filter(client=personas.bolt).exists()
    with schema_context(personas.acme.schema_name):
        unregistered.refresh_from_db()
        filtered.refresh_from_db()
    assert unregistered.error_message == "Blocked: the number is not registered for A2P 10DLC texting (30034)"
    assert filtered.error_message == "Filtered as spam by the carrier (30007)"
    # Staff read it in the thread.
    with schema_context(personas.acme.schema_name):
        conversation_id = unregistered.conversation_id
    html = web("acme.localhost", personas.alice).get(f"/inbox/{conversation_id}/").content.decode()
    assert "not registered for A2P 10DLC texting" in html


def test_a_stop_counts_as_an_opt_out_and_staff_marking_one_does_not(web, personas):
    params = sms_params(personas.acme, CALLER, "STOP")
    assert post_signed(web("localhost"), "/hooks/twilio/sms/incoming/", params).status_code == 200
    assert _today(personas.acme).opt_outs == 1
    with schema_context(personas.acme.schema_name):
        contact = contact_upsert(phone_number="+13125550199")
        contact_opt_out(client=personas.acme, contact=contact, source=ConsentEvent.Source.STAFF)
    assert _today(personas.acme).opt_outs == 1


# --- Rates, judged ---------------------------------------------------------------------------------------------


def test_rates_over_the_last_seven_days_by_hand(personas):
    acme_week(personas)
    day(personas.bolt, days_ago=1, attempted=19, opt_outs=5)  # 26%, but 19 texts are too few to judge
    rates = deliverability_by_client(client_ids=[personas.acme.pk, personas.bolt.pk])
    acme = rates[personas.acme.pk]
    assert (acme.attempted, acme.opt_outs, acme.filtered, acme.undelivered, acme.failed) == (200, 5, 1, 11, 2)
    assert acme.rate("opt_outs") == Decimal("0.025") and acme.percent("undelivered") == "5.5%"
    assert [f.text for f in acme.findings] == [
        "Opt-out rate 2.5% (5 of 200 texts in 7 days; the warning level is 2.0%)",
        "Undelivered 5.5% (11 of 200 texts in 7 days; the warning level is 5.0%)",
    ]
    assert rates[personas.bolt.pk].findings == [] and not rates[personas.bolt.pk].judged
    # The agency: 219 texts (bolt's count too), 10 opt-outs = 4.57%, 11 undelivered = 5.02% (just above 5%).
    total = deliverability_total(rates.values())
    assert (total.attempted, total.opt_outs) == (219, 10)
    assert [f.text for f in total.findings] == [
        "Opt-out rate 4.6% (10 of 219 texts in 7 days; the warning level is 2.0%)",
        "Undelivered 5.0% (11 of 219 texts in 7 days; the warning level is 5.0%)",
    ]


def test_a_hard_limit_and_any_unregistered_text(personas):
    day(personas.acme, attempted=100, filtered=4, unregistered=1)  # 4% > 3% limit; 1% > 0 warns
    findings = deliverability_by_client(client_ids=[personas.acme.pk])[personas.acme.pk].findings
    assert [(f.threshold.counter, f.level) for f in findings] == [
        ("filtered", DeliverabilityState.Level.LIMIT),
        ("unregistered", DeliverabilityState.Level.WARNING),
    ]
    assert findings[0].text == (
        "Filtered by carriers as spam 4.0% (4 of 100 texts in 7 days; the hard limit is 3.0%)"
    )


# --- The dashboard and the page ---------------------------------------------------------------------------------


def _row(html: str, client) -> str:
    start = html.index(f'id="client-{client.pk}"')
    return html[start : html.index("</tr>", start)]


def test_the_dashboard_warns_per_client_and_for_the_agency(web, personas):
    acme_week(personas)
    html = web("localhost", personas.nina).get("/").content.decode()
    assert "Opt-out rate 2.5% (5 of 200 texts" in _row(html, personas.acme)
    assert "Opt-out rate" not in _row(html, personas.bolt)
    card = html[html.index('id="texting-health"') :]
    card = card[: card.index("</div>")]
    assert "2 warnings" in card and "Opt-outs 2.5%, filtered 0.5% of 200 texts" in card


def test_the_agency_page(web, personas):
    acme_week(personas)
    day(personas.cedar, attempted=100, filtered=50)
    html = web("localhost", personas.nate).get(f"/deliverability/{personas.northwind.slug}/").content.decode()
    acme = _row(html, personas.acme)
    assert "Acme Plumbing" in acme and "2.5%" in acme and "Undelivered 5.5%" in acme
    assert "Too few texts to judge" in _row(html, personas.bolt)
    assert "Cedar" not in html  # another agency's client
    assert "Pause clients over a hard limit automatically" not in html  # staff read; admins choose


def test_strangers_and_staff_cannot_change_or_read_anothers(web, personas):
    url = f"/deliverability/{personas.northwind.slug}/"
    assert web("localhost", personas.sara).get(url).status_code == 404  # another agency's admin
    assert web("localhost", personas.charlie).get(url)["Location"].startswith("/accounts/login/")  # no agency
    assert web("localhost", personas.sara).post(url, {"auto_pause": "on"}).status_code == 404
    assert web("localhost", personas.nate).post(url, {"auto_pause": "on"}).status_code == 403
    assert web("acme.localhost", personas.nina).get(url).status_code == 404  # not on a client's host
    assert not DeliverabilityPolicy.objects.exists()
    nina = web("localhost", personas.nina)
    assert nina.post(url, {"auto_pause": "maybe"}).status_code == 400
    assert nina.post(url, {"auto_pause": "on"}).status_code == 302
    assert DeliverabilityPolicy.objects.get(agency=personas.northwind).auto_pause
    assert "Stop pausing automatically" in nina.get(url).content.decode()


# --- The check: email, and the automatic pause --------------------------------------------------------------


def test_the_agency_is_emailed_once_when_a_client_gets_worse(personas, django_capture_on_commit_callbacks):
    acme_week(personas)
    day(personas.cedar, attempted=100, opt_outs=3)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        levels = deliverability_check()
    assert levels[personas.acme.pk] == DeliverabilityState.Level.WARNING
    assert levels[personas.bolt.pk] == DeliverabilityState.Level.OK
    by_agency = {tuple(m.to): m for m in mail.outbox}
    northwind = by_agency[("nina@northwind.test",)]
    assert "Acme Plumbing" in northwind.body and "Opt-out rate 2.5%" in northwind.body
    assert "Cedar" not in northwind.body and "Bolt" not in northwind.body
    assert "Cedar Roofing" in by_agency[("sara@southpeak.test",)].body  # its own agency, its own email
    assert "PAUSED" not in northwind.body
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE  # no auto-pause chosen
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deliverability_check()
    assert mail.outbox == []  # nothing new to say


def test_over_the_limit_a_client_is_paused_if_its_agency_chose_it(
    personas, django_capture_on_commit_callbacks
):
    DeliverabilityPolicy.objects.create(agency=personas.northwind, auto_pause=True)
    # Audit entries are kept for ever: tests on the running stack commit theirs, so count only this test's.
    earlier = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    day(personas.acme, attempted=100, opt_outs=6)  # 6% > 5%
    day(personas.cedar, attempted=100, opt_outs=6)  # Southpeak did not choose it
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deliverability_check()
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.PAUSED
    assert Client.objects.get(pk=personas.cedar.pk).status == Client.Status.LIVE
    entry = AuditEntry.objects.get(client=personas.acme, action=AuditEntry.Action.PAUSE, pk__gt=earlier)
    assert entry.actor is None and entry.detail.startswith("Paused automatically: Opt-out rate 6.0%")
    northwind = next(m for m in mail.outbox if "nina@northwind.test" in m.to)
    assert "text-backs PAUSED automatically" in northwind.body
