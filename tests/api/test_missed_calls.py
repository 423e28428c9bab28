"""POST /api/v1/calls/missed/: a call another phone system missed is texted back through the same path as a
call Twilio rang, once however often it is reported, and never to a caller the business must not text."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client
from crm.services import contact_upsert
from messaging.models import Message, OutboundSend
from messaging.services import send_deliver
from telephony.models import Call

from .conftest import BOLT, error_of

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
WEDNESDAY_10AM = datetime(2025, 6, 11, 10, 0, tzinfo=CHICAGO)  # inside acme's hours
WEDNESDAY_8PM = datetime(2025, 6, 11, 20, 0, tzinfo=CHICAGO)  # after them
CALLER = "+13125550123"
PATH = "/api/v1/calls/missed/"


def report(api, *, call_id="pbx-1001", number=CALLER, at=None, **fields):
    body = {
        "call_id": call_id,
        "from_number": number,
        "called_at": (at or WEDNESDAY_10AM).isoformat(),
        **fields,
    }
    return api.post(PATH, body)


def ledger(client) -> list[OutboundSend]:
    return list(OutboundSend.objects.filter(client=client, kind=OutboundSend.Kind.TEXT_BACK))


def test_a_reported_missed_call_is_texted_back_from_the_business_number(api, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        response = report(api(), caller_name="Jane Doe")
        assert response.status_code == 201, response.content
        call = response.json()
        assert (call["call_sid"], call["from_number"], call["outcome"], call["missed_reason"]) == (
            "ext:pbx-1001",
            CALLER,
            "missed",
            "reported",
        )
        assert call["caller_name"] == "Jane Doe" and call["in_business_hours"] is True
        [send] = ledger(personas.acme)
        assert send_deliver(send_id=send.pk) == "sent"
    [text] = twilio.messages
    assert (text["params"]["From"], text["params"]["To"]) == ("+13125550100", CALLER)
    assert text["params"]["Body"].startswith("Hi Jane, sorry we missed your call at Acme Plumbing!")
    with schema_context(personas.acme.schema_name):
        assert Call.objects.get(call_sid="ext:pbx-1001").contact.name == "Jane Doe"


def test_reporting_the_same_call_again_changes_nothing(api, personas, twilio):
    client = api()
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        first = report(client)
        again = report(client)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        [send] = ledger(personas.acme)
        assert send_deliver(send_id=send.pk) == "sent"
        assert report(client).status_code == 200  # after the text went out, too
        assert len(ledger(personas.acme)) == 1
    assert len(twilio.messages) == 1
    with schema_context(personas.acme.schema_name):
        assert Call.objects.filter(call_sid="ext:pbx-1001").count() == 1


def test_the_same_call_id_for_another_caller_is_refused(api, personas):
    client = api()
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        assert report(client).status_code == 201
        response = report(client, number="+13125550177")
    assert response.status_code == 409
    assert error_of(response)["code"] == "call_id_reused"
    assert len(ledger(personas.acme)) == 1


def test_after_hours_the_caller_gets_the_after_hours_text(api, personas, twilio):
    """The hours are judged when the call came in, not when it was reported."""
    with time_machine.travel(WEDNESDAY_8PM + timedelta(minutes=2)):
        response = report(api(), at=WEDNESDAY_8PM)
        assert response.json()["in_business_hours"] is False
        [send] = ledger(personas.acme)
        assert send_deliver(send_id=send.pk) == "sent"
    assert twilio.messages[0]["body"].startswith("Hi there, thanks for calling Acme Plumbing. We're closed")
    with schema_context(personas.acme.schema_name):
        assert Message.objects.get(kind=Message.Kind.TEXT_BACK).template_kind == "after_hours"


def test_a_caller_who_opted_out_is_not_texted(api, personas, twilio):
    with schema_context(personas.acme.schema_name):
        contact = contact_upsert(phone_number=CALLER)
        contact.opted_out = True
        contact.save(update_fields=["opted_out"])
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        assert report(api()).status_code == 201  # the call is recorded all the same
        [send] = ledger(personas.acme)
        assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    assert twilio.messages == []


def test_a_landline_is_not_texted(api, personas, twilio):
    twilio.line_types[CALLER] = "landline"
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        report(api())
        [send] = ledger(personas.acme)
        assert send_deliver(send_id=send.pk) == "skipped: landline"
    assert twilio.messages == []


def test_a_caller_texted_back_a_moment_ago_is_not_texted_again(api, personas, twilio):
    """Two systems reporting one call under two ids (a PBX and a call tracker) still text once."""
    client = api()
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)) as clock:
        report(client, call_id="pbx-1")
        [first] = ledger(personas.acme)
        assert send_deliver(send_id=first.pk) == "sent"
        clock.shift(timedelta(minutes=5))
        report(client, call_id="tracker-1", at=WEDNESDAY_10AM + timedelta(minutes=4))
        [second] = [send for send in ledger(personas.acme) if send.pk != first.pk]
        assert send_deliver(send_id=second.pk) == "skipped: recently_texted"
    assert len(twilio.messages) == 1


def test_a_paused_client_answers_409_and_records_nothing(api, personas):
    Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.PAUSED)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        response = report(api())
    assert response.status_code == 409
    assert error_of(response)["code"] == "client_paused"
    assert ledger(personas.acme) == []
    with schema_context(personas.acme.schema_name):
        assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"from_number": "anonymous"}, "from_number"),
        ({"from_number": "12"}, "from_number"),
        ({"called_at": "yesterday"}, "called_at"),
        ({"called_at": (WEDNESDAY_10AM - timedelta(days=2)).isoformat()}, "called_at"),
        ({"called_at": (WEDNESDAY_10AM + timedelta(hours=1)).isoformat()}, "called_at"),
        ({"call_id": ""}, "call_id"),
        ({"call_id": "x" * 61}, "call_id"),
        ({"caller_name": "x" * 121}, "caller_name"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, personas, fields, bad):
    body = {"call_id": "pbx-1", "from_number": CALLER, "called_at": WEDNESDAY_10AM.isoformat(), **fields}
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        response = api().post(PATH, body)
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {bad}
    assert ledger(personas.acme) == []


def test_missing_fields_are_named(api):
    response = api().post(PATH, {})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"call_id", "from_number", "called_at"}


def test_a_read_only_key_may_not_report(api, personas):
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        response = report(api(scope="read"))
    assert response.status_code == 403
    assert ledger(personas.acme) == []


def test_another_clients_key_is_404_and_texts_nobody(api, personas):
    """bolt's key on acme's host, and acme's key on bolt's host: as if the endpoint were not there."""
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        assert report(api(owner="bolt")).status_code == 404
        assert report(api(host=BOLT, owner="acme")).status_code == 404
    assert ledger(personas.acme) == [] and ledger(personas.bolt) == []
    for client in (personas.acme, personas.bolt):
        with schema_context(client.schema_name):
            assert not Call.objects.exists()


def test_each_client_records_the_call_in_its_own_schema(api, personas):
    """The same call id from two clients' systems is two calls, each in its own client."""
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        assert report(api()).status_code == 201
        assert report(api(host=BOLT, owner="bolt")).status_code == 201
    assert len(ledger(personas.acme)) == len(ledger(personas.bolt)) == 1


def test_the_agencys_key_reports_for_its_client_and_not_for_another_agencys(api, personas):
    """An agency wiring its clients' phone systems uses one key: it works on its own clients' hosts only."""
    with time_machine.travel(WEDNESDAY_10AM + timedelta(seconds=30)):
        assert report(api(owner="northwind")).status_code == 201
        assert report(api(owner="southpeak")).status_code == 404
    assert len(ledger(personas.acme)) == 1
