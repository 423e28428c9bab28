"""The SMS webhooks, as Twilio calls them: a caller's replies (STOP, START, HELP or a real answer) and the
delivery reports of the texts we sent. Signed, form-encoded, sometimes repeated, sometimes early."""

import uuid
import xml.etree.ElementTree as ET

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact
from crm.services import contact_upsert
from messaging import twilio_accounts
from messaging.models import ConsentEvent, Conversation, Message, OutboundSend
from messaging.providers import ConsoleProvider, SentMessage
from messaging.services import message_queue, message_status_update, send_deliver, textback_schedule
from tests.webhooks import post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
INCOMING = "/hooks/twilio/sms/incoming/"
STATUS = "/hooks/twilio/sms/status/"

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"]
OPT_OUT_VARIANTS = [
    "stop",
    "Stop.",
    "  STOP  ",
    "STOP!!",
    "opt-out",
    "Opt_Out",
    "unsubscribe 🛑",
    "ＳＴＯＰ",
    "Cancel\n",
]


class RecordingProvider(ConsoleProvider):
    """Stands in for Twilio in this file: every send succeeds with the next sid it is told to use."""

    def __init__(self):
        self.next_sid: str | None = None

    def send(self, *, from_number, to_number, body, status_callback, media_urls=(), key=""):
        message_sid, self.next_sid = self.next_sid or sid("SM"), None
        return SentMessage(sid=message_sid, status="queued", segments=1)


@pytest.fixture(autouse=True)
def provider(monkeypatch):
    fake = RecordingProvider()
    monkeypatch.setattr(twilio_accounts, "get_provider", lambda: fake)  # provider_for's platform provider
    return fake


@pytest.fixture
def platform(web):
    return web("localhost")


def _text(platform, client, body, caller=CALLER, **extra):
    """The caller texts `body` to the client's number; returns (params, response)."""
    params = sms_params(client, caller, body, **extra)
    return params, post_signed(platform, INCOMING, params)


def _contact(client, number=CALLER):
    with schema_context(client.schema_name):
        return Contact.objects.filter(phone_number=number).first()


def _consent(client, number=CALLER):
    with schema_context(client.schema_name):
        return list(ConsentEvent.objects.filter(contact__phone_number=number))


def _messages(client, number=CALLER, **filters):
    with schema_context(client.schema_name):
        return list(Message.objects.filter(conversation__contact__phone_number=number, **filters))


def _conversation(client, number=CALLER):
    with schema_context(client.schema_name):
        return Conversation.objects.get(contact__phone_number=number)


def _keyword_replies(client, number=CALLER):
    return _messages(client, number, kind=Message.Kind.KEYWORD_REPLY)


def _assert_empty_twiml(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    assert len(root) == 0 and not (root.text or "").strip()


def _text_back(personas, caller=CALLER) -> Message:
    """A missed call from `caller` and its text-back, sent; returns the outbound Message."""
    client = personas.acme
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=caller, missed_at=now())
    assert send_deliver(send_id=send.pk) == "sent"  # as the worker does; it finds the schema itself
    with schema_context(client.schema_name):
        return Message.objects.get(call_sid=send.call_sid)


def _staff_text(personas, caller=CALLER) -> Message:
    """Staff text the caller (the caller need not have called); returns the sent Message."""
    client = personas.acme
    with schema_context(client.schema_name):
        contact = contact_upsert(phone_number=caller)
        message = message_queue(client=client, contact=contact, body="On our way.", kind=Message.Kind.REPLY)
    send = OutboundSend.objects.get(client=client, key=f"message:{message.pk}")
    assert send_deliver(send_id=send.pk) == "sent"  # as the worker does; it finds the schema itself
    with schema_context(client.schema_name):
        message.refresh_from_db()
    return message


# --- Opting out ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", OPT_OUT + OPT_OUT_VARIANTS)
def test_every_opt_out_word_opts_the_caller_out_and_confirms_once(platform, personas, word):
    params, response = _text(platform, personas.acme, word)
    _assert_empty_twiml(response)
    assert _contact(personas.acme).opted_out
    [event] = _consent(personas.acme)
    assert (event.kind, event.source, event.message_sid) == ("opt_out", "keyword", params["MessageSid"])
    assert event.keyword == word.strip()
    [reply] = _keyword_replies(personas.acme)
    assert reply.status == Message.Status.QUEUED
    assert (reply.from_number, reply.to_number) == ("+13125550100", CALLER)
    assert reply.body.startswith("Acme Plumbing:") and "unsubscribed" in reply.body and "START" in reply.body
    send = OutboundSend.objects.get(client=personas.acme, key=f"message:{reply.pk}")
    assert (send.kind, send.state, send.to_number) == ("message", "pending", CALLER)


def test_the_stop_itself_is_kept_in_the_thread_but_is_not_an_unread_reply(platform, personas):
    _text_back(personas)
    params, _ = _text(platform, personas.acme, "STOP")
    [stop] = _messages(personas.acme, direction="in")
    assert (stop.body, stop.provider_sid, stop.status) == ("STOP", params["MessageSid"], "received")
    assert _conversation(personas.acme).unread_count == 0


def test_a_sentence_that_merely_contains_stop_is_an_ordinary_reply(platform, personas):
    _text(platform, personas.acme, "Stop by tomorrow at 9 please")
    assert not _contact(personas.acme).opted_out
    assert _consent(personas.acme) == []
    assert _keyword_replies(personas.acme) == []
    assert _conversation(personas.acme).unread_count == 1


def test_a_stop_twilio_already_answered_opts_out_without_a_second_confirmation(platform, personas):
    params, response = _text(platform, personas.acme, "STOP", OptOutType="STOP")
    _assert_empty_twiml(response)
    assert _contact(personas.acme).opted_out
    [event] = _consent(personas.acme)
    assert (event.kind, event.source, event.message_sid) == ("opt_out", "keyword", params["MessageSid"])
    assert _keyword_replies(personas.acme) == []
    assert not OutboundSend.objects.filter(client=personas.acme).exists()


def test_twilios_opt_out_type_is_honoured_even_for_a_custom_keyword(platform, personas):
    # Advanced Opt-Out lets a business add its own keywords (e.g. French "ARRET"); Twilio has already opted
    # the number out at its end and says so with OptOutType=STOP.
    _text(platform, personas.acme, "ARRET", OptOutType="STOP")
    assert _contact(personas.acme).opted_out
    assert [e.kind for e in _consent(personas.acme)] == ["opt_out"]


# --- Opting back in, and help -------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["START", "YES", "UNSTOP", "start", "Yes!"])
def test_an_opt_in_word_after_stop_opts_the_caller_back_in_and_confirms(platform, personas, word):
    _text(platform, personas.acme, "STOP")
    params, response = _text(platform, personas.acme, word)
    _assert_empty_twiml(response)
    assert not _contact(personas.acme).opted_out
    events = _consent(personas.acme)
    assert [e.kind for e in events] == ["opt_out", "opt_in"]
    assert (events[1].source, events[1].message_sid, events[1].keyword) == (
        "keyword",
        params["MessageSid"],
        word.strip(),
    )
    replies = _keyword_replies(personas.acme)
    assert len(replies) == 2
    assert "subscribed again" in replies[1].body and "STOP" in replies[1].body
    assert OutboundSend.objects.filter(client=personas.acme, key=f"message:{replies[1].pk}").exists()


def test_yes_from_a_caller_who_never_opted_out_is_an_ordinary_answer(platform, personas):
    _staff_text(personas)  # e.g. "Can we come at 3pm?"
    with schema_context(personas.acme.schema_name):
        Conversation.objects.update(status="closed")
    _text(platform, personas.acme, "Yes")
    conversation = _conversation(personas.acme)
    assert (conversation.status, conversation.unread_count) == ("open", 1)
    assert _keyword_replies(personas.acme) == []
    assert _consent(personas.acme) == []


@pytest.mark.parametrize("word", ["HELP", "INFO", "help", "Info?"])
def test_help_answers_with_the_business_name_and_phone(platform, personas, word):
    _, response = _text(platform, personas.acme, word)
    _assert_empty_twiml(response)
    [reply] = _keyword_replies(personas.acme)
    assert "Acme Plumbing" in reply.body
    assert "(312) 555-0142" in reply.body  # acme's own phone, not the Textback number
    assert "STOP" in reply.body
    assert OutboundSend.objects.filter(client=personas.acme, key=f"message:{reply.pk}").count() == 1
    contact = _contact(personas.acme)
    assert not contact.opted_out
    assert _consent(personas.acme) == []


# --- Ordinary replies ---------------------------------------------------------------------------------------


def test_a_reply_lands_in_the_callers_conversation_as_unread(platform, personas):
    text_back = _text_back(personas)
    params, response = _text(platform, personas.acme, "Yes my sink is leaking, can you come today?")
    _assert_empty_twiml(response)
    thread = _messages(personas.acme)
    assert [m.pk for m in thread[:1]] == [text_back.pk]
    reply = thread[1]
    assert (reply.direction, reply.kind, reply.status) == ("in", "inbound", "received")
    assert reply.body == "Yes my sink is leaking, can you come today?"
    assert (reply.from_number, reply.to_number, reply.provider_sid) == (
        CALLER,
        "+13125550100",
        params["MessageSid"],
    )
    conversation = _conversation(personas.acme)
    assert reply.conversation_id == text_back.conversation_id == conversation.pk
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == reply.created_at
    assert conversation.last_activity_at == reply.created_at
    _text(platform, personas.acme, "Also the toilet")
    assert _conversation(personas.acme).unread_count == 2


def test_a_reply_reopens_a_closed_conversation(platform, personas):
    text_back = _text_back(personas)
    with schema_context(personas.acme.schema_name):
        Conversation.objects.filter(pk=text_back.conversation_id).update(status="closed")
    _text(platform, personas.acme, "Are you there?")
    conversation = _conversation(personas.acme)
    assert (conversation.status, conversation.unread_count) == ("open", 1)


def test_a_reply_is_not_sent_any_answer(platform, personas):
    _text(platform, personas.acme, "Thanks!")
    assert _messages(personas.acme, direction="out") == []
    assert not OutboundSend.objects.filter(client=personas.acme).exists()


def test_a_text_from_someone_new_starts_a_contact_and_conversation(platform, personas):
    _text(platform, personas.acme, "Do you do water heaters?", caller="+13125550177")
    contact = _contact(personas.acme, "+13125550177")
    assert contact is not None
    [message] = _messages(personas.acme, "+13125550177")
    assert message.body == "Do you do water heaters?"


def test_the_same_message_sid_twice_stores_one_message(platform, personas):
    params, _ = _text(platform, personas.acme, "Hello?")
    for _ in range(3):
        _assert_empty_twiml(post_signed(platform, INCOMING, params))
    assert len(_messages(personas.acme)) == 1
    assert _conversation(personas.acme).unread_count == 1


def test_the_same_stop_twice_opts_out_and_confirms_once(platform, personas):
    params, _ = _text(platform, personas.acme, "STOP")
    post_signed(platform, INCOMING, params)
    assert len(_consent(personas.acme)) == 1
    assert len(_keyword_replies(personas.acme)) == 1
    assert OutboundSend.objects.filter(client=personas.acme).count() == 1


# --- Refused requests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "bm90LWEtc2lnbmF0dXJl"])
def test_an_unsigned_or_badly_signed_text_is_refused_and_stores_nothing(platform, personas, header):
    params = sms_params(personas.acme, CALLER, "STOP")
    extra = {"HTTP_X_TWILIO_SIGNATURE": header} if header else {}
    response = platform.post(INCOMING, params, **extra)
    assert response.status_code == 403
    assert _contact(personas.acme) is None
    assert not OutboundSend.objects.filter(client=personas.acme).exists()


def test_a_text_signed_with_another_token_is_refused(platform, personas):
    params = sms_params(personas.acme, CALLER, "STOP")
    assert post_signed(platform, INCOMING, params, token="someone-elses-token").status_code == 403
    assert _contact(personas.acme) is None


def test_a_text_to_a_number_no_client_owns_is_404(platform, personas):
    params = {**sms_params(personas.acme, CALLER, "Hi"), "To": "+19995550100"}
    response = post_signed(platform, INCOMING, params)
    assert response.status_code == 404
    assert b"+19995550100" in response.content


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_a_text_missing_a_parameter_is_400_naming_it(platform, personas, missing):
    params = sms_params(personas.acme, CALLER, "STOP")
    del params[missing]
    response = post_signed(platform, INCOMING, params)
    assert response.status_code == 400
    assert missing in response.content.decode()
    assert _contact(personas.acme) is None


def test_a_blank_from_is_400_too(platform, personas):
    response = post_signed(platform, INCOMING, sms_params(personas.acme, "  ", "STOP"))
    assert response.status_code == 400
    assert "From" in response.content.decode()


def test_get_is_not_allowed(platform, personas):
    assert platform.get(INCOMING).status_code == 405
    assert platform.get(STATUS).status_code == 405


# --- Tenancy ------------------------------------------------------------------------------------------------


def test_a_reply_is_stored_for_the_texted_client_only(platform, personas):
    _text(platform, personas.acme, "STOP")
    _text(platform, personas.acme, "When can you come?")
    assert _contact(personas.acme).opted_out
    assert _contact(personas.bolt) is None
    assert _messages(personas.bolt) == []
    assert _consent(personas.bolt) == []
    assert not OutboundSend.objects.filter(client=personas.bolt).exists()

    # The same caller texting bolt is a stranger there, and has not opted out of bolt.
    _text(platform, personas.bolt, "Do you install EV chargers?")
    assert not _contact(personas.bolt).opted_out
    assert [m.body for m in _messages(personas.bolt)] == ["Do you install EV chargers?"]
    assert len(_messages(personas.acme, direction="in")) == 2


# --- Delivery reports ---------------------------------------------------------------------------------------


def _status(platform, message, status, **extra):
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "ApiVersion": "2010-04-01",
        "MessageSid": message if isinstance(message, str) else message.provider_sid,
        "MessageStatus": status,
        "From": "+13125550100",
        "To": CALLER,
        **extra,
    }
    params["SmsSid"], params["SmsStatus"] = params["MessageSid"], status
    return post_signed(platform, STATUS, params)


def _reload(personas, message) -> Message:
    with schema_context(personas.acme.schema_name):
        return Message.objects.get(pk=message.pk)


def test_a_delivery_report_moves_the_text_forward(platform, personas):
    message = _text_back(personas)
    assert message.status == "sent"
    _assert_empty_twiml(_status(platform, message, "delivered"))
    assert _reload(personas, message).status == "delivered"


def test_a_delivery_report_is_applied_in_a_fixed_number_of_queries(
    platform, personas, django_assert_max_num_queries
):
    """The budget bench/missed_call_cost.py measures: schemas (2), the client (read on this first webhook of the
    test, from the cache after), its last-webhook stamp at most once a minute, the test's savepoint, and the
    message moved forward in one UPDATE … RETURNING (it was a look-up and an UPDATE)."""
    message = _text_back(personas)
    with django_assert_max_num_queries(7):
        _assert_empty_twiml(_status(platform, message, "delivered"))
    assert _reload(personas, message).status == "delivered"


@pytest.mark.parametrize(
    ("first", "late", "final"),
    [
        ("delivered", "sent", "delivered"),
        ("delivered", "queued", "delivered"),
        ("failed", "delivered", "failed"),
        ("failed", "sent", "failed"),
        ("undelivered", "delivered", "undelivered"),
    ],
)
def test_a_late_report_never_moves_a_text_back(platform, personas, first, late, final):
    message = _text_back(personas)
    _status(platform, message, first)
    assert _status(platform, message, late).status_code == 200
    assert _reload(personas, message).status == final


def test_an_unknown_status_word_changes_nothing(platform, personas):
    message = _text_back(personas)
    assert _status(platform, message, "read").status_code == 200
    assert _reload(personas, message).status == "sent"


def test_error_30006_marks_the_caller_a_landline_that_cannot_get_texts(platform, personas):
    message = _text_back(personas)
    assert _status(platform, message, "undelivered", ErrorCode="30006").status_code == 200
    message = _reload(personas, message)
    assert (message.status, message.error_code) == ("undelivered", 30006)
    contact = _contact(personas.acme)
    assert contact.unreachable and contact.line_type == "landline"
    assert not contact.opted_out


def test_error_21610_in_a_delivery_report_opts_the_caller_out(platform, personas):
    message = _staff_text(personas)
    assert _status(platform, message, "failed", ErrorCode="21610").status_code == 200
    assert _reload(personas, message).status == "failed"
    contact = _contact(personas.acme)
    assert contact.opted_out and not contact.unreachable
    [event] = _consent(personas.acme)
    assert (event.kind, event.source, event.keyword) == ("opt_out", "provider", "21610")


def test_an_error_code_of_0_is_no_error(platform, personas):
    message = _text_back(personas)
    _status(platform, message, "delivered", ErrorCode="0")
    message = _reload(personas, message)
    assert (message.status, message.error_code) == ("delivered", None)


@pytest.mark.parametrize("code", ["abc", "30006x", "-1"])
def test_a_non_numeric_error_code_is_400_and_changes_nothing(platform, personas, code):
    message = _text_back(personas)
    response = _status(platform, message, "failed", ErrorCode=code)
    assert response.status_code == 400
    assert "ErrorCode" in response.content.decode()
    assert _reload(personas, message).status == "sent"
    assert not _contact(personas.acme).unreachable


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus", "From"])
def test_a_delivery_report_missing_a_parameter_is_400_naming_it(platform, personas, missing):
    params = {"MessageSid": sid("SM"), "MessageStatus": "delivered", "From": "+13125550100", "To": CALLER}
    del params[missing]
    response = post_signed(platform, STATUS, params)
    assert response.status_code == 400
    assert missing in response.content.decode()


def test_an_unsigned_delivery_report_is_refused(platform, personas):
    message = _text_back(personas)
    params = {
        "MessageSid": message.provider_sid,
        "MessageStatus": "failed",
        "From": "+13125550100",
        "ErrorCode": "21610",
    }
    assert platform.post(STATUS, params).status_code == 403
    assert _reload(personas, message).status == "sent"
    assert not _contact(personas.acme).opted_out


def test_a_delivery_report_from_a_number_no_client_owns_is_404(platform, personas):
    response = _status(platform, sid("SM"), "delivered", From="+19995550100")
    assert response.status_code == 404


def test_a_delivery_report_is_applied_in_the_sending_clients_schema_only(platform, personas):
    message = _text_back(personas)
    # Reported as if from bolt's number: bolt has no such message, so nothing of acme's changes.
    assert _status(platform, message, "failed", From="+12025550100", ErrorCode="30006").status_code == 200
    assert _reload(personas, message).status == "sent"
    assert not _contact(personas.acme).unreachable


def test_a_report_for_a_message_not_recorded_yet_is_kept_and_applied_when_it_is(platform, personas, provider):
    early_sid = "SM" + uuid.uuid4().hex
    response = _status(platform, early_sid, "delivered")
    _assert_empty_twiml(response)
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(provider_sid=early_sid).exists()

    provider.next_sid = early_sid  # the send that report was about is recorded only now
    message = _text_back(personas)
    assert message.provider_sid == early_sid
    assert message.status == "delivered"


def test_an_early_error_report_marks_the_caller_once_the_send_is_recorded(platform, personas, provider):
    early_sid = "SM" + uuid.uuid4().hex
    with schema_context(personas.acme.schema_name):
        assert (
            message_status_update(client=personas.acme, sid=early_sid, status="undelivered", error_code=30006)
            is None
        )
    provider.next_sid = early_sid
    message = _text_back(personas)
    assert (message.status, message.error_code) == ("undelivered", 30006)
    assert _contact(personas.acme).unreachable
