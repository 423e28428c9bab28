"""The business hears about a missed call and a reply, and about a reply left waiting past its response target,
each person as they chose: by email, by a text to their own mobile, or not at all."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context
from tenant_schemas_celery.task import _shared_storage

from inbox import tasks
from inbox.models import EscalationSent, NotificationPreference
from inbox.services import conversation_reply
from messaging.services import inbound_receive
from telephony.models import Call
from tests.webhooks import call_params, post_signed, sid

pytestmark = pytest.mark.django_db

CALLER = "+13125550155"
CHICAGO = ZoneInfo("America/Chicago")
WEDNESDAY_10AM = datetime(2026, 6, 10, 10, 0, tzinfo=CHICAGO)  # acme is open (mon-fri 08-12, 13-17)
WEDNESDAY_11PM = datetime(2026, 6, 10, 23, 0, tzinfo=CHICAGO)


def _reply(client, body="Can you come fix a burst pipe today?", caller=CALLER):
    with schema_context(client.schema_name):
        return inbound_receive(client=client, sid=sid("SM"), from_number=caller, body=body)


def _choose(client, user, **choices):
    with schema_context(client.schema_name):
        NotificationPreference.objects.update_or_create(user_id=user.pk, defaults=choices)


def _recipients(mailoutbox) -> list[str]:
    return sorted(address for email in mailoutbox for address in email.to)


# --- Replies and missed calls, through the webhooks ---------------------------------------------------------


def test_a_reply_is_emailed_to_the_owner_and_staff_by_default(
    web, personas, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(
            web("localhost"),
            "/hooks/twilio/sms/incoming/",
            {
                "MessageSid": sid("SM"),
                "From": CALLER,
                "To": str(personas.acme.phone_number),
                "Body": "Can you come fix a burst pipe today?",
            },
        )
    assert _recipients(mailoutbox) == ["alice@acme.test", "bob@acme.test"]
    # The escalation check is queued too, waking within the broker's visibility timeout to look again.
    [(args, countdown)] = eager_tasks
    assert args[0] == personas.acme.pk and 0 < countdown <= tasks.LONGEST_WAIT.total_seconds()
    email = mailoutbox[0]
    assert "replied to Acme Plumbing" in email.subject
    assert "Can you come fix a burst pipe today?" in email.body
    assert "http://acme.localhost:8000/inbox/" in email.body
    assert email.from_email.startswith('"Northwind Marketing"')  # the agency's brand, never the platform's


def test_a_stop_alerts_nobody(web, personas, mailoutbox, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(
            web("localhost"),
            "/hooks/twilio/sms/incoming/",
            {
                "MessageSid": sid("SM"),
                "From": CALLER,
                "To": str(personas.acme.phone_number),
                "Body": "STOP",
            },
        )
    assert mailoutbox == [] and eager_tasks == []


def test_a_missed_call_is_emailed_and_texted_as_each_person_chose(
    web, personas, mailoutbox, eager_tasks, twilio, django_capture_on_commit_callbacks
):
    _choose(
        personas.acme,
        personas.alice,
        missed_call_email=False,
        missed_call_text=True,
        text_to="+13125550199",
        text_to_confirmed="+13125550199",
    )
    params = call_params(personas.acme, CALLER, CallerName="JANE DOE")
    platform = web("localhost")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(platform, "/hooks/twilio/voice/incoming/", params)
        post_signed(platform, "/hooks/twilio/voice/dial-complete/", {**params, "DialCallStatus": "no-answer"})
    assert _recipients(mailoutbox) == ["bob@acme.test"]
    assert "Missed call from JANE DOE at Acme Plumbing" in mailoutbox[0].subject
    alerts = [m for m in twilio.messages if m["to"] == "+13125550199"]
    assert len(alerts) == 1
    assert alerts[0]["from"] == str(personas.acme.phone_number)
    assert "missed call from JANE DOE" in alerts[0]["body"]


def test_a_missed_calls_alert_is_sent_in_a_fixed_number_of_queries(
    personas, mailoutbox, django_assert_max_num_queries
):
    """The budget bench/missed_call_cost.py measures for the alert task (--show-sql lists them). The task finds
    its client and the client's agency in one statement (config.celery_app.ClientTask; here the client is not
    cached yet, as for a client called a few times an hour; the connection comes from the public schema), then
    the call, the client's people, their choices and their devices, in the client's schema (a call with a caller
    adds their thread). Before, the client was read by the ORM and its agency by a second statement."""
    with schema_context(personas.acme.schema_name):
        call = Call.objects.create(call_sid=sid("CA"), from_number=CALLER, to_number="+13125550100")
    _shared_storage.clear()  # tenant-schemas-celery's cache of the clients tasks ran for
    with django_assert_max_num_queries(7):
        run = tasks.notify_missed_call.apply(
            (personas.acme.pk, call.pk), headers={"_schema_name": personas.acme.schema_name}
        )
    assert run.get() == 2
    assert _recipients(mailoutbox) == ["alice@acme.test", "bob@acme.test"]


def test_a_repeated_task_alerts_once(personas, mailoutbox):
    message = _reply(personas.acme)
    assert tasks.notify_reply(personas.acme.pk, message.pk) == 2
    assert tasks.notify_reply(personas.acme.pk, message.pk) == 0
    assert len(mailoutbox) == 2


def test_read_only_staff_hear_nothing_unless_they_ask(personas, reader, mailoutbox):
    message = _reply(personas.acme)
    tasks.notify_reply(personas.acme.pk, message.pk)
    assert "rita@acme.test" not in _recipients(mailoutbox)
    _choose(personas.acme, reader, reply_email=True)
    tasks.notify_reply(personas.acme.pk, _reply(personas.acme, "Also the sink").pk)
    assert "rita@acme.test" in _recipients(mailoutbox)


# --- Escalation ---------------------------------------------------------------------------------------------


def test_a_reply_nobody_answers_is_escalated_to_the_owner_after_the_target(personas, mailoutbox):
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        message = _reply(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=14), tick=False):
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 0  # not yet: it waits again
    with time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=15), tick=False):
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 1
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 0  # a repeated task: once
    [email] = mailoutbox
    assert email.to == ["alice@acme.test"]  # staff get no escalations unless they ask
    assert "waited over 15 minutes" in email.subject


def test_a_reply_at_night_is_escalated_15_business_minutes_after_opening(personas, mailoutbox):
    with time_machine.travel(WEDNESDAY_11PM, tick=False):
        message = _reply(personas.acme)
    with time_machine.travel(WEDNESDAY_11PM + timedelta(hours=9), tick=False):  # 8:00 Thursday
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 0
    with time_machine.travel(WEDNESDAY_11PM + timedelta(hours=9, minutes=15), tick=False):
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 1


def test_a_reply_answered_in_time_is_never_escalated(personas, mailoutbox):
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        message = _reply(personas.acme)
    with (
        time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=5), tick=False),
        schema_context(personas.acme.schema_name),
    ):
        conversation_reply(
            client=personas.acme, conversation=message.conversation, body="On our way!", user=personas.bob
        )
    with time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=30), tick=False):
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 0
    with schema_context(personas.acme.schema_name):
        assert not EscalationSent.objects.exists()
    assert mailoutbox == []


def test_the_response_target_is_the_clients_own(personas, mailoutbox):
    type(personas.acme).objects.filter(pk=personas.acme.pk).update(response_target_minutes=60)
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        message = _reply(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=30), tick=False):
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 0
    # 10:00 + 60 open minutes, and the lunch hour does not count: 11:00 is still inside the morning shift.
    with time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=60), tick=False):
        assert tasks.escalate_reply(personas.acme.pk, message.pk) == 1


# --- The page where each person chooses -------------------------------------------------------------------


HOST = "acme.localhost"


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_a_member_chooses_their_own_alerts(web, personas, who):
    user = getattr(personas, who)
    browser = web(HOST, user)
    assert browser.get("/inbox/notifications/").status_code == 200
    response = browser.post(
        "/inbox/notifications/", {"reply_email": "on", "text_to": "+1 312 555 0199", "escalation_text": "on"}
    )
    assert response.status_code == 302
    with schema_context(personas.acme.schema_name):
        saved = NotificationPreference.objects.get(user_id=user.pk)
    assert (saved.missed_call_email, saved.reply_email, saved.escalation_text) == (False, True, True)
    assert str(saved.text_to) == "+13125550199"
    with schema_context(personas.bolt.schema_name):
        assert not NotificationPreference.objects.exists()


def test_texts_need_a_number(web, personas):
    response = web(HOST, personas.alice).post("/inbox/notifications/", {"reply_text": "on"})
    assert response.status_code == 400
    assert "Give the mobile number" in response.content.decode()


def test_read_only_staff_may_choose_their_own_alerts(web, personas, reader):
    response = web(HOST, reader).post("/inbox/notifications/", {"reply_email": "on"})
    assert response.status_code == 302
    with schema_context(personas.acme.schema_name):
        assert NotificationPreference.objects.get(user_id=reader.pk).reply_email


def test_agency_staff_are_told_alerts_go_to_the_business(web, personas):
    html = web(HOST, personas.nate).get("/inbox/notifications/").content.decode()
    assert "go to the business's own people" in html


@pytest.mark.parametrize("who", ["dave", "erin", "charlie", None])
def test_strangers_are_sent_to_log_in(web, personas, who):
    response = web(HOST, getattr(personas, who) if who else None).get("/inbox/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_confirming_a_mobile_is_for_the_businesss_own_people_on_its_own_host(web, personas):
    """Agency staff get no alerts (404); a person of another client is sent to log in; nothing is written."""
    assert (
        web(HOST, personas.nate).post("/inbox/notifications/number/", {"action": "send"}).status_code == 404
    )
    response = web("bolt.localhost", personas.bob).post("/inbox/notifications/number/", {"action": "send"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for client in (personas.acme, personas.bolt):
        with schema_context(client.schema_name):
            assert not NotificationPreference.objects.exists()


def test_a_code_cannot_be_asked_for_before_a_number_is_saved(web, personas, twilio):
    response = web(HOST, personas.bob).post("/inbox/notifications/number/", {"action": "send"})
    assert response.status_code == 400 and "Save your mobile number first." in response.content.decode()
    assert twilio.messages == []
