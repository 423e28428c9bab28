"""The fake Twilio, driven by the real twilio library through a URL-rewriting HTTP client. No database."""

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from urllib.request import Request, urlopen

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.twilio_fake import FakeTwilio, extract_spec

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TO = "+15017122661"
FROM = "+15005550006"


class RewritingClient(TwilioHttpClient):
    """Sends every request to `origin`, keeping the path and query (what the app's HTTP client does)."""

    def __init__(self, origin: str, **kwargs):
        super().__init__(**kwargs)
        self.origin = urlsplit(origin)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.origin.scheme, self.origin.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def fake():
    with FakeTwilio() as server:
        yield server


def make_client(fake, auth_token=None, account_sid=None, timeout=None) -> Client:
    return Client(
        account_sid or fake.account_sid,
        auth_token or fake.auth_token,
        http_client=RewritingClient(fake.base_url, timeout=timeout),
    )


@pytest.fixture
def api(fake):
    """A twilio.rest.Client pointed at the fake (not named `client`: that is pytest-django's)."""
    return make_client(fake)


def raw(api: Client, method: str, path: str, **kwargs):
    """A request through the twilio library's plumbing (auth, headers, URL rewriting), any params."""
    response = api.request(method, f"https://api.twilio.com{path}", **kwargs)
    return response.status_code, json.loads(response.text)


def messages_path(fake):
    return f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


# ---------------------------------------------------------------- create, list, fetch


def test_create_answers_201_and_records_the_exact_params(fake, api):
    message = api.messages.create(
        to=TO,
        from_=FROM,
        body="We missed your call! Reply here.",
        status_callback="https://agency.example.com/twilio/status?tenant=7",
        media_url=["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"],
    )

    assert api.http_client._test_only_last_response.status_code == 201
    assert message.sid.startswith("MM") and len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_, message.num_media) == (TO, FROM, "2")
    [recorded] = fake.messages
    assert recorded["sid"] == message.sid
    assert recorded["params"] == {
        "To": TO,
        "From": FROM,
        "Body": "We missed your call! Reply here.",
        "StatusCallback": "https://agency.example.com/twilio/status?tenant=7",
        "MediaUrl": ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"],
    }
    assert abs(recorded["received_at"] - time.time()) < 5
    [request] = fake.requests
    assert (request["method"], request["path"], request["status"]) == ("POST", messages_path(fake), 201)
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    fake.assert_no_violations()


def test_responses_have_exactly_the_fields_of_the_spec_schemas(fake, api):
    message_schema = fake.spec.operation("CreateMessage").response_schemas["201"]
    list_schema = fake.spec.operation("ListMessage").response_schemas["200"]
    lookup_schema = fake.spec.operation("FetchPhoneNumber").response_schemas["200"]
    api.messages.create(to=TO, from_=FROM, body="hi")

    _, listed = raw(api, "GET", messages_path(fake))
    api.lookups.v2.phone_numbers(TO).fetch(fields="line_type_intelligence")
    looked_up = json.loads(api.http_client._test_only_last_response.text)

    assert set(listed) == set(list_schema["properties"])
    assert set(listed["messages"][0]) == set(message_schema["properties"])
    assert set(looked_up) == set(lookup_schema["properties"])
    line_type_fields = lookup_schema["properties"]["line_type_intelligence"]["properties"]
    assert set(looked_up["line_type_intelligence"]) == set(line_type_fields)
    assert listed["messages"][0]["date_created"].endswith("+0000")  # RFC 2822, as Twilio sends


def test_messaging_service_create_is_accepted_without_from(fake, api):
    service = "MG" + "a" * 32
    message = api.messages.create(to=TO, messaging_service_sid=service, body="hi")
    assert (message.status, message.from_, message.messaging_service_sid) == ("accepted", None, service)
    fake.assert_no_violations()


def test_list_pages_newest_first_and_the_library_follows_next_page_uri(fake, api):
    for i in range(7):
        api.messages.create(to=TO, from_=FROM, body=f"to A #{i}")
    api.messages.create(to="+15017122662", from_=FROM, body="to B")

    listed = api.messages.list(to=TO, page_size=3)
    streamed = list(api.messages.stream(to=TO, page_size=3))

    assert [m.body for m in listed] == [f"to A #{i}" for i in reversed(range(7))]
    assert [m.sid for m in streamed] == [m.sid for m in listed]
    list_requests = [r for r in fake.requests if r["method"] == "GET"]
    assert len(list_requests) == 6  # 3 pages (3 + 3 + 1), twice
    assert "PageToken" not in list_requests[0]["query"]
    assert list_requests[1]["query"]["PageToken"] == "PA" + listed[2].sid
    assert list_requests[1]["query"]["Page"] == "1"
    fake.assert_no_violations()


def test_list_envelope_is_twilios(fake, api):
    for i in range(3):
        api.messages.create(to=TO, from_=FROM, body=str(i))
    status, page0 = raw(api, "GET", messages_path(fake), params={"To": TO, "PageSize": 2})
    status1, page1 = raw(api, "GET", page0["next_page_uri"])

    assert status == status1 == 200
    assert (page0["page"], page0["page_size"], page0["start"], page0["end"]) == (0, 2, 0, 1)
    assert page0["previous_page_uri"] is None
    assert page0["first_page_uri"] == f"{messages_path(fake)}?To=%2B15017122661&PageSize=2&Page=0"
    assert page0["uri"] == page0["first_page_uri"]
    assert [m["body"] for m in page0["messages"] + page1["messages"]] == ["2", "1", "0"]
    assert (page1["page"], page1["start"], page1["end"], page1["next_page_uri"]) == (1, 2, 2, None)
    assert page1["previous_page_uri"] is not None


def test_list_filters_by_date_sent(fake, api):
    for day in (1, 3, 5):
        fake.add_message(TO, FROM, f"day {day}", date_sent=datetime(2024, 1, day, 12, 0, tzinfo=UTC))
    fake.add_message("+15017122662", FROM, "other number", date_sent=datetime(2024, 1, 3, 12, 0, tzinfo=UTC))

    def bodies(**filters):
        return [m.body for m in api.messages.list(to=TO, **filters)]

    assert bodies() == ["day 5", "day 3", "day 1"]
    assert bodies(date_sent_after=datetime(2024, 1, 3, 12, 0, tzinfo=UTC)) == ["day 5", "day 3"]
    assert bodies(date_sent_after=datetime(2024, 1, 3, 12, 0, 1, tzinfo=UTC)) == ["day 5"]
    assert bodies(date_sent_before=datetime(2024, 1, 3, 11, 59, tzinfo=UTC)) == ["day 1"]
    assert bodies(date_sent_before="2024-01-03") == ["day 3", "day 1"]  # a day: on and before
    assert bodies(date_sent=datetime(2024, 1, 3, tzinfo=UTC)) == ["day 3"]
    date_requests = [r["query"] for r in fake.requests if "DateSent>" in r["query"]]
    assert date_requests[0]["DateSent>"] == "2024-01-03T12:00:00Z"  # what twilio-python sends
    fake.assert_no_violations()


def test_list_rejects_an_unparseable_date(fake, api):
    status, error = raw(api, "GET", messages_path(fake), params={"DateSent>": "yesterday"})
    assert (status, error["code"]) == (400, 20001)
    assert "DateSent>" in error["message"]


def test_fetch_one_message_and_404_for_unknown(fake, api):
    created = api.messages.create(to=TO, from_=FROM, body="fetch me")
    assert api.messages(created.sid).fetch().body == "fetch me"

    with pytest.raises(TwilioRestException) as excinfo:
        api.messages("SM" + "f" * 32).fetch()
    assert (excinfo.value.status, excinfo.value.code) == (404, 20404)
    fake.assert_no_violations()


def test_another_accounts_path_is_404(fake, api):
    other = "AC" + "1" * 32
    with pytest.raises(TwilioRestException) as excinfo:
        api.api.v2010.accounts(other).messages.create(to=TO, from_=FROM, body="hi")
    assert (excinfo.value.status, excinfo.value.code) == (404, 20404)
    assert fake.messages == []


# ---------------------------------------------------------------- lookup


def test_lookup_line_type_defaults_to_mobile_and_is_scriptable(fake, api):
    fake.line_types["+14155552671"] = "landline"

    mobile = api.lookups.v2.phone_numbers("+14155550100").fetch(fields="line_type_intelligence")
    landline = api.lookups.v2.phone_numbers("+14155552671").fetch(fields="line_type_intelligence")

    assert mobile.line_type_intelligence["type"] == "mobile"
    assert mobile.line_type_intelligence["error_code"] is None
    assert landline.line_type_intelligence["type"] == "landline"
    assert (landline.valid, landline.country_code, landline.calling_country_code) == (True, "US", "1")
    assert (landline.phone_number, landline.national_format) == ("+14155552671", "(415) 555-2671")
    assert [(lk["phone_number"], lk["line_type"]) for lk in fake.lookups] == [
        ("+14155550100", "mobile"),
        ("+14155552671", "landline"),
    ]
    assert fake.requests[0]["path"] == "/v2/PhoneNumbers/+14155550100"
    assert fake.requests[0]["query"] == {"Fields": "line_type_intelligence"}
    fake.assert_no_violations()


def test_lookup_of_an_invalid_number_is_200_with_valid_false(fake, api):
    result = api.lookups.v2.phone_numbers("+1415555").fetch(fields="line_type_intelligence")
    assert result.valid is False
    assert result.validation_errors == ["TOO_SHORT"]
    assert result.line_type_intelligence is None


def test_lookup_with_unknown_field_is_a_violation(fake, api):
    with pytest.raises(TwilioRestException) as excinfo:
        api.lookups.v2.phone_numbers(TO).fetch(fields="carrier")
    assert excinfo.value.status == 400
    assert "carrier" in fake.violations[0]["problem"]


# ---------------------------------------------------------------- auth and spec validation


def test_bad_auth_token_is_401_code_20003(fake):
    with pytest.raises(TwilioRestException) as excinfo:
        make_client(fake, auth_token="wrong").messages.create(to=TO, from_=FROM, body="hi")
    assert (excinfo.value.status, excinfo.value.code) == (401, 20003)
    assert fake.messages == []


def test_request_without_auth_is_401(fake):
    response = requests.get(fake.base_url + messages_path(fake), timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authentication Error - invalid username",
        "detail": "Your AccountSid or AuthToken was incorrect.",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_unknown_form_param_is_400_and_a_violation(fake, api):
    status, error = raw(
        api, "POST", messages_path(fake), data={"To": TO, "From": FROM, "Body": "x", "Sender": "y"}
    )

    assert status == 400
    assert set(error) == {"code", "message", "more_info", "status"}
    assert "'Sender'" in error["message"]
    assert fake.messages == []
    [violation] = fake.violations
    assert violation["operation"] == "CreateMessage" and "Sender" in violation["problem"]
    with pytest.raises(AssertionError, match="Sender"):
        fake.assert_no_violations()


def test_wrongly_typed_params_are_violations(fake, api):
    status, _ = raw(
        api, "POST", messages_path(fake), data={"To": TO, "From": FROM, "Body": "x", "Attempt": "two"}
    )
    assert status == 400
    status, _ = raw(api, "GET", messages_path(fake), params={"PageSize": "0"})
    assert status == 400
    status, _ = raw(api, "GET", messages_path(fake), params={"Status": "delivered"})
    assert status == 400
    problems = [v["problem"] for v in fake.violations]
    assert len(problems) == 3
    assert "integer" in problems[0] and ">= 1" in problems[1] and "'Status'" in problems[2]


def test_unknown_path_and_method_are_violations(fake, api):
    status, error = raw(api, "GET", f"/2010-04-01/Accounts/{fake.account_sid}/Queues.json")
    assert (status, error["code"]) == (404, 20404)
    status, error = raw(api, "DELETE", messages_path(fake))
    assert (status, error["code"]) == (405, 20004)
    assert len(fake.violations) == 2


def test_a_call_is_created_queued_with_its_twiml_kept(fake, api):
    call = api.calls.create(to=TO, from_=FROM, twiml="<Response><Say>Hello</Say></Response>")
    assert (call.status, call.direction, call.to) == ("queued", "outbound-api", TO)
    [created] = fake.calls
    assert (
        created["sid"] == call.sid and created["params"]["Twiml"] == "<Response><Say>Hello</Say></Response>"
    )


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"To": TO, "From": FROM}, 21205),  # neither Url nor Twiml
        ({"To": TO, "From": FROM, "Url": "https://x.example/a", "Twiml": "<Response/>"}, 21205),
        ({"To": "12", "From": FROM, "Twiml": "<Response/>"}, 21211),
    ],
)
def test_a_call_twilio_would_refuse_is_refused(fake, api, form, code):
    status, error = raw(api, "POST", f"/2010-04-01/Accounts/{fake.account_sid}/Calls.json", data=form)
    assert (status, error["code"]) == (400, code) and fake.calls == []


def test_missing_to_is_21604_and_a_spec_violation(fake, api):
    status, error = raw(api, "POST", messages_path(fake), data={"From": FROM, "Body": "x"})
    assert (status, error["code"]) == (400, 21604)
    assert "'To' phone number is required" in error["message"]
    assert "Required form parameter 'To'" in fake.violations[0]["problem"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": FROM, "body": "x"}, 21604),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "from_": FROM}, 21602),
        ({"to": TO, "from_": FROM, "body": ""}, 21602),
        ({"to": "555-0100", "from_": FROM, "body": "x"}, 21211),
        ({"to": TO, "from_": "not a number!", "body": "x"}, 21212),
        ({"to": TO, "from_": FROM, "body": "x" * 1601}, 21617),
        ({"to": TO, "from_": FROM, "body": "x", "status_callback": "http://my_host/cb"}, 21609),
    ],
)
def test_semantic_checks_answer_twilios_codes(fake, api, kwargs, code):
    with pytest.raises(TwilioRestException) as excinfo:
        api.messages.create(**kwargs)
    assert (excinfo.value.status, excinfo.value.code) == (400, code)
    assert fake.messages == []


def test_media_only_and_alphanumeric_sender_are_fine(fake, api):
    api.messages.create(to=TO, from_=FROM, media_url=["https://cdn.example.com/a.png"])
    api.messages.create(to=TO, from_="Textback", body="hi")
    assert len(fake.messages) == 2


# ---------------------------------------------------------------- scripted failures


def test_fail_next_429_then_success(fake, api):
    fake.fail_next(429)
    with pytest.raises(TwilioRestException) as excinfo:
        api.messages.create(to=TO, from_=FROM, body="hi")
    assert (excinfo.value.status, excinfo.value.code) == (429, 20429)
    assert fake.messages == []

    api.messages.create(to=TO, from_=FROM, body="hi")
    assert len(fake.messages) == 1


def test_fail_next_500_count_2(fake, api):
    fake.fail_next(500, count=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as excinfo:
            api.messages.create(to=TO, from_=FROM, body="hi")
        assert (excinfo.value.status, excinfo.value.code) == (500, 20500)
    api.messages.create(to=TO, from_=FROM, body="hi")
    assert len(fake.messages) == 1


def test_fail_next_503_with_own_message_only_affects_creates(fake, api):
    fake.fail_next(503, message="Service is down for maintenance")
    assert api.messages.list() == []  # not a create: unaffected
    with pytest.raises(TwilioRestException) as excinfo:
        api.messages.create(to=TO, from_=FROM, body="hi")
    assert (excinfo.value.status, excinfo.value.code) == (503, 20503)
    assert "down for maintenance" in excinfo.value.msg


def test_scripted_failures_run_in_order(fake, api):
    fake.fail_next(429)
    fake.fail_next(500)
    codes = []
    for _ in range(3):
        try:
            api.messages.create(to=TO, from_=FROM, body="hi")
            codes.append(201)
        except TwilioRestException as exc:
            codes.append(exc.status)
    assert codes == [429, 500, 201]


def test_fail_next_can_target_lookups(fake, api):
    fake.fail_next(500, operation="lookup")
    with pytest.raises(TwilioRestException) as excinfo:
        api.lookups.v2.phone_numbers(TO).fetch(fields="line_type_intelligence")
    assert excinfo.value.status == 500
    assert api.lookups.v2.phone_numbers(TO).fetch(fields="line_type_intelligence").valid


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (21610, "Attempt to send to unsubscribed recipient"),
        (21211, "Invalid 'To' Phone Number"),
        (21614, "'To' number is not a valid mobile number"),
        (30006, "Landline or unreachable carrier"),
    ],
)
def test_reject_answers_400_with_twilios_code_and_message(fake, api, code, text):
    fake.reject(TO, code)
    with pytest.raises(TwilioRestException) as excinfo:
        api.messages.create(to=TO, from_=FROM, body="hi")
    assert (excinfo.value.status, excinfo.value.code) == (400, code)
    assert text in excinfo.value.msg
    assert fake.messages == []
    api.messages.create(to="+15017122662", from_=FROM, body="another number is fine")
    with pytest.raises(TwilioRestException):  # and it keeps rejecting
        api.messages.create(to=TO, from_=FROM, body="hi")
    assert len(fake.messages) == 1


def test_hang_next_records_the_message_but_the_client_times_out(fake):
    fake.hang_next(3)
    impatient = make_client(fake, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        impatient.messages.create(to=TO, from_=FROM, body="did it go?")
    assert time.monotonic() - started < 2

    [listed] = impatient.messages.list(to=TO)  # reconciling through the list endpoint finds it
    assert listed.body == "did it go?"
    assert fake.messages[0]["sid"] == listed.sid
    impatient.messages.create(to=TO, from_=FROM, body="next one is prompt")
    assert len(fake.messages) == 2


def test_hang_next_answers_after_the_delay_if_the_client_waits(fake, api):
    fake.hang_next(0.5)
    started = time.monotonic()
    api.messages.create(to=TO, from_=FROM, body="slow")
    assert 0.45 <= time.monotonic() - started < 3


def test_reset_ends_a_hung_response_at_once(fake, api):
    fake.hang_next(30)
    outcome = []
    sender = threading.Thread(
        target=lambda: outcome.append(api.messages.create(to=TO, from_=FROM, body="hung").status)
    )
    sender.start()
    fake.wait_for_messages(1, timeout=5)
    started = time.monotonic()
    fake.reset()
    sender.join(timeout=5)
    assert outcome == ["queued"]
    assert time.monotonic() - started < 2


def test_drop_connection_next_is_a_connection_error_and_creates_nothing(fake, api):
    api.messages.create(to="+15017122662", from_=FROM, body="warm the connection pool")
    fake.drop_connection_next()
    with pytest.raises(requests.exceptions.ConnectionError):
        api.messages.create(to=TO, from_=FROM, body="lost")
    assert api.messages.list(to=TO) == []
    api.messages.create(to=TO, from_=FROM, body="retried")
    assert [m["body"] for m in fake.messages_to(TO)] == ["retried"]
    dropped = [r for r in fake.requests if r.get("scripted") == "drop"]
    assert len(dropped) == 1 and dropped[0]["status"] is None


# ---------------------------------------------------------------- status callbacks


class _Receiver(BaseHTTPRequestHandler):
    received: list

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    received: list = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Receiver", (_Receiver,), {"received": received}))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_status_callback_is_signed_like_twilio(fake, api, receiver):
    receiver_url, received = receiver
    callback = "http://tenant-7.textback.test:8000/webhooks/twilio/status?m=42"
    message = api.messages.create(to=TO, from_=FROM, body="hi", status_callback=callback)

    status = fake.send_status_callback(message.sid, "delivered", post_to=receiver_url)

    assert status == 204
    [request] = received
    assert request["path"] == "/webhooks/twilio/status?m=42"
    assert request["headers"]["Host"] == "tenant-7.textback.test:8000"
    params = dict(parse_qsl(request["body"]))
    assert params["MessageSid"] == params["SmsSid"] == message.sid
    assert params["MessageStatus"] == params["SmsStatus"] == "delivered"
    assert (params["To"], params["From"], params["AccountSid"]) == (TO, FROM, fake.account_sid)
    assert params["ApiVersion"] == "2010-04-01"
    assert "ErrorCode" not in params
    url_as_seen = f"http://{request['headers']['Host']}{request['path']}"
    signature = request["headers"]["X-Twilio-Signature"]
    assert RequestValidator(fake.auth_token).validate(url_as_seen, params, signature)
    assert not RequestValidator("another-token").validate(url_as_seen, params, signature)
    assert not RequestValidator(fake.auth_token).validate(url_as_seen, {**params, "To": FROM}, signature)
    assert api.messages(message.sid).fetch().status == "delivered"


def test_failed_status_callback_carries_the_error_code(fake, api, receiver):
    receiver_url, received = receiver
    message = api.messages.create(to=TO, from_=FROM, body="hi", status_callback="http://localhost:8000/cb")

    fake.send_status_callback(message.sid, "undelivered", error_code=30006, post_to=receiver_url)

    params = dict(parse_qsl(received[0]["body"]))
    assert params["ErrorCode"] == "30006"
    fetched = api.messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30006)
    assert fake.callbacks[0]["status"] == 204


# ---------------------------------------------------------------- recording helpers


def test_wait_for_messages_blocks_until_created(fake, api):
    timer = threading.Timer(0.2, lambda: api.messages.create(to=TO, from_=FROM, body="later"))
    timer.start()
    try:
        [message] = fake.wait_for_messages(1, timeout=5)
    finally:
        timer.join()
    assert message["body"] == "later"


def test_wait_for_messages_times_out_saying_what_arrived(fake, api):
    fake.reject(TO, 21610)
    with pytest.raises(TwilioRestException):
        api.messages.create(to=TO, from_=FROM, body="hi")
    with pytest.raises(AssertionError) as excinfo:
        fake.wait_for_messages(1, timeout=0.2)
    assert "got 0" in str(excinfo.value)
    assert "21610" in str(excinfo.value)


def test_concurrent_creates_are_all_recorded(fake):
    def send(n):
        c = make_client(fake)
        for i in range(20):
            c.messages.create(to=f"+1501712{n:04d}", from_=FROM, body=str(i))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    messages = fake.wait_for_messages(120, timeout=5)
    assert len({m["sid"] for m in messages}) == 120
    assert len(fake.messages_to("+15017120003")) == 20


def test_reset_forgets_everything(fake, api):
    api.messages.create(to="+15017122662", from_=FROM, body="before the reset")
    raw(api, "GET", messages_path(fake), params={"Bogus": "1"})
    fake.reject(TO, 21610)
    fake.fail_next(500)
    fake.line_types[TO] = "landline"
    assert fake.messages and fake.requests and fake.violations

    fake.reset()

    assert (fake.messages, fake.requests, fake.violations, fake.lookups) == ([], [], [], [])
    api.messages.create(to=TO, from_=FROM, body="fine now")
    assert api.messages.list() and len(api.messages.list()) == 1
    lookup = api.lookups.v2.phone_numbers(TO).fetch(fields="line_type_intelligence")
    assert lookup.line_type_intelligence["type"] == "mobile"


# ---------------------------------------------------------------- standalone process and the spec subset


def test_standalone_process_serves_and_exposes_control_endpoints():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.twilio_fake", "--port", "0", "--auth-token", "standalone-token"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        api = Client(
            "AC00000000000000000000000000000000", "standalone-token", http_client=RewritingClient(base_url)
        )
        sent = api.messages.create(to=TO, from_=FROM, body="from the benchmark")

        with urlopen(f"{base_url}/_fake/messages", timeout=5) as response:  # noqa: S310 - local http
            messages = json.load(response)
        assert [(m["sid"], m["body"]) for m in messages] == [(sent.sid, "from the benchmark")]

        request = Request(f"{base_url}/_fake/reset", method="POST", data=b"")  # noqa: S310
        with urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 200
        with urlopen(f"{base_url}/_fake/messages", timeout=5) as response:  # noqa: S310
            assert json.load(response) == []
    finally:
        process.terminate()
        exit_code = process.wait(timeout=5)
        process.stdout.close()
    assert exit_code == 0


def test_spec_subset_is_up_to_date_with_the_shared_specs():
    spec_dir = extract_spec.DEFAULT_SPEC_DIR
    if not (spec_dir / "twilio_api_v2010.json").exists():
        pytest.skip(f"the full Twilio specs are not at {spec_dir}")
    expected = extract_spec.render(extract_spec.build(spec_dir))
    assert extract_spec.OUTPUT.read_text(encoding="utf-8") == expected, (
        "run python tests/twilio_fake/extract_spec.py"
    )


# --- Phone numbers ------------------------------------------------------------------------------------------

HOOKS = {
    "voice_url": "https://platform.test/hooks/twilio/voice/incoming/",
    "sms_url": "https://platform.test/hooks/twilio/sms/incoming/",
    "status_callback": "https://platform.test/hooks/twilio/voice/status/",
}


def test_a_number_is_searched_by_area_code_bought_configured_and_released(fake, api):
    offered = api.available_phone_numbers("US").local.list(area_code=312, limit=3)
    assert [n.phone_number for n in offered] == ["+13125550110", "+13125550111", "+13125550112"]
    bought = api.incoming_phone_numbers.create(phone_number="+13125550111", voice_method="POST", **HOOKS)
    assert (bought.phone_number, bought.voice_url, bought.status_callback) == (
        "+13125550111",
        HOOKS["voice_url"],
        HOOKS["status_callback"],
    )
    assert bought.sid.startswith("PN") and len(bought.sid) == 34
    # Bought: no longer offered, and held by the account.
    still_offered = [n.phone_number for n in api.available_phone_numbers("US").local.list(area_code=312)]
    assert "+13125550111" not in still_offered
    [held] = api.incoming_phone_numbers.list(phone_number="+13125550111", limit=1)
    assert held.sid == bought.sid
    api.incoming_phone_numbers(bought.sid).update(sms_url="https://platform.test/other/")
    assert fake.incoming_number("+13125550111")["sms_url"] == "https://platform.test/other/"
    assert api.incoming_phone_numbers(bought.sid).delete() is True
    assert fake.incoming_numbers == []
    with pytest.raises(TwilioRestException) as gone:
        api.incoming_phone_numbers(bought.sid).delete()
    assert gone.value.status == 404
    fake.assert_no_violations()


def test_a_number_someone_else_took_is_not_available(fake, api):
    fake.take_number("+13125550110")
    offered = [n.phone_number for n in api.available_phone_numbers("US").local.list(area_code=312)]
    assert "+13125550110" not in offered
    with pytest.raises(TwilioRestException) as taken:
        api.incoming_phone_numbers.create(phone_number="+13125550110", **HOOKS)
    assert (taken.value.status, taken.value.code) == (400, 21422)
    fake.set_available("907", [])
    assert api.available_phone_numbers("US").local.list(area_code=907) == []
    fake.assert_no_violations()


def test_number_responses_have_exactly_the_fields_of_the_spec_schemas(fake, api):
    created_schema = fake.spec.operation("CreateIncomingPhoneNumber").response_schemas["201"]
    search_schema = fake.spec.operation("ListAvailablePhoneNumberLocal").response_schemas["200"]
    list_schema = fake.spec.operation("ListIncomingPhoneNumber").response_schemas["200"]
    base = f"/2010-04-01/Accounts/{fake.account_sid}"
    _, searched = raw(api, "GET", f"{base}/AvailablePhoneNumbers/US/Local.json?AreaCode=312")
    api.incoming_phone_numbers.create(phone_number="+13125550110", **HOOKS)
    _, listed = raw(api, "GET", f"{base}/IncomingPhoneNumbers.json")
    assert set(searched) == set(search_schema["properties"])
    offered_fields = search_schema["properties"]["available_phone_numbers"]["items"]["properties"]
    assert set(searched["available_phone_numbers"][0]) == set(offered_fields)
    assert set(listed) == set(list_schema["properties"])
    assert set(listed["incoming_phone_numbers"][0]) == set(created_schema["properties"])


def test_number_requests_outside_the_spec_are_refused_and_recorded(fake, api):
    base = f"/2010-04-01/Accounts/{fake.account_sid}"
    form = {"PhoneNumber": "+13125550110", "VoiceUri": "x"}
    status, _ = raw(api, "POST", f"{base}/IncomingPhoneNumbers.json", data=form)
    assert status == 400
    status, _ = raw(api, "DELETE", f"{base}/IncomingPhoneNumbers/not-a-sid.json")
    assert status == 404
    problems = " ".join(v["problem"] for v in fake.violations)
    assert "Unknown form parameter 'VoiceUri'" in problems and "'Sid'" in problems


# --- Subaccounts ------------------------------------------------------------------------------------------------


def test_subaccounts_act_on_their_own_resources_and_their_parent_on_theirs(fake, api):
    sub = api.api.v2010.accounts.create(friendly_name="Agency one")
    assert sub.owner_account_sid == fake.account_sid and sub.status == "active" and sub.auth_token
    sibling = api.api.v2010.accounts.create(friendly_name="Agency two")
    own = make_client(fake, account_sid=sub.sid, auth_token=sub.auth_token)
    bought = own.incoming_phone_numbers.create(phone_number="+13125550111")
    assert bought.account_sid == sub.sid
    assert fake.incoming_number("+13125550111")["account_sid"] == sub.sid
    # The parent sees into its subaccount; the subaccount sees neither its parent's nor its sibling's numbers.
    parent_view = api.api.v2010.accounts(sub.sid).incoming_phone_numbers.list()
    assert [n.phone_number for n in parent_view] == ["+13125550111"]
    assert api.incoming_phone_numbers.list() == []
    with pytest.raises(TwilioException, match="HTTP 404"):  # a list's failure: TwilioException
        own.api.v2010.accounts(sibling.sid).incoming_phone_numbers.list()
    # A message sent from the subaccount is its own, and its callback would be signed with its token.
    message = own.messages.create(to="+13125550199", from_="+13125550111", body="hi")
    assert message.account_sid == sub.sid and fake.token_of(sub.sid) == sub.auth_token
    with pytest.raises(TwilioRestException):
        api.messages(message.sid).fetch()  # not in the parent's own account
    assert own.api.v2010.accounts(sub.sid).fetch().friendly_name == "Agency one"


def test_a_parent_moves_a_number_between_its_subaccounts_and_closes_one(fake, api):
    held = fake.add_incoming_number("+13125550112")
    sub = api.api.v2010.accounts.create(friendly_name="Agency one")
    api.incoming_phone_numbers(held["sid"]).update(account_sid=sub.sid)
    assert fake.incoming_number("+13125550112")["account_sid"] == sub.sid
    other = fake.add_account(friendly_name="Someone else's account")
    stranger = make_client(fake, account_sid=other["sid"], auth_token=other["auth_token"])
    with pytest.raises(TwilioRestException) as refused:
        stranger.api.v2010.accounts(sub.sid).incoming_phone_numbers(held["sid"]).update(
            account_sid=other["sid"]
        )
    assert refused.value.status == 404
    api.api.v2010.accounts(sub.sid).update(status="closed")
    closed = make_client(fake, account_sid=sub.sid, auth_token=sub.auth_token)
    with pytest.raises(TwilioException, match="HTTP 401"):
        closed.incoming_phone_numbers.list()
    fake.assert_no_violations()
