"""The booking link: a client's booking page reaches callers as a short link on the platform host, one per text,
which counts who opened it; the thread shows it, and the report counts opened → booked. Through the real
webhooks, the send path and Twilio faked at HTTP."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client
from inbox.services import outcome_record
from messaging.models import Conversation, Message, OutboundSend, Template, TrackedLink
from messaging.services import send_deliver
from tests.webhooks import call_params, post_signed, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
BOOKING = "https://book.example.com/acme?ref=text"
WEDNESDAY_10AM = datetime(2025, 6, 11, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
LINK = re.compile(r"http://localhost:8000/l/([A-Za-z0-9]{10})")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
IMESSAGE_PREVIEW = (
    "Mozilla/5.0 (Macintosh) AppleWebKit/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"
)


@pytest.fixture
def platform(web):
    return web("localhost")


def _with_booking(client: Client, url: str = BOOKING) -> Client:
    Client.objects.filter(pk=client.pk).update(booking_url=url)
    client.refresh_from_db()
    with schema_context(client.schema_name):
        Template.objects.filter(kind=Template.Kind.BUSINESS_HOURS).update(
            body="Sorry we missed you at {business_name}! Book a visit: {booking_url}", is_active=True
        )
    return client


def _missed_call_texted(platform, client, caller=CALLER) -> Message:
    params = call_params(client, caller)
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    send = OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")
    assert send_deliver(send_id=send.pk) == "sent"
    with schema_context(client.schema_name):
        return Message.objects.get(call_sid=params["CallSid"])


def test_the_text_back_carries_a_short_link_of_its_own_that_leads_to_the_booking_page(
    platform, personas, twilio
):
    acme = _with_booking(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM):
        message = _missed_call_texted(platform, acme)
    [sent] = twilio.messages_to(CALLER)
    code = LINK.search(sent["body"])[1]
    assert BOOKING not in sent["body"]  # the caller gets our short link, never the page itself
    link = TrackedLink.objects.get(code=code)
    assert (link.client_id, link.message_id, link.to_number, link.clicks) == (acme.pk, message.pk, CALLER, 0)

    response = platform.get(f"/l/{code}", HTTP_USER_AGENT=IPHONE)
    assert response.status_code == 302 and response["Location"] == BOOKING
    assert response["Referrer-Policy"] == "no-referrer" and response["Cache-Control"] == "no-store"
    platform.get(f"/l/{code}", HTTP_USER_AGENT=IPHONE)
    link.refresh_from_db()
    assert link.clicks == 2 and link.first_clicked_at is not None


def test_a_preview_fetcher_or_a_head_request_is_not_counted_as_the_caller(platform, personas, twilio):
    acme = _with_booking(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme)
    code = LINK.search(twilio.messages_to(CALLER)[0]["body"])[1]
    assert platform.get(f"/l/{code}", HTTP_USER_AGENT=IMESSAGE_PREVIEW).status_code == 302
    assert platform.head(f"/l/{code}", HTTP_USER_AGENT=IPHONE).status_code == 302
    assert TrackedLink.objects.get(code=code).clicks == 0


def test_each_text_gets_its_own_link(platform, personas, twilio):
    acme = _with_booking(personas.acme)
    Client.objects.filter(pk=acme.pk).update(suppress_hours=0)
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme, "+13125550123")
        _missed_call_texted(platform, acme, "+13125550124")
    codes = {LINK.search(m["body"])[1] for m in twilio.messages}
    assert len(codes) == 2


def test_without_a_booking_page_the_placeholder_is_left_out_and_no_link_is_made(platform, personas, twilio):
    acme = _with_booking(personas.acme, url="")
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme)
    [sent] = twilio.messages_to(CALLER)
    assert sent["body"].startswith("Sorry we missed you at Acme Plumbing! Book a visit: Reply STOP")
    assert not TrackedLink.objects.filter(client=acme).exists()


def test_an_unknown_code_is_404_and_a_client_that_dropped_its_page_leads_nowhere(platform, personas, twilio):
    assert platform.get("/l/nosuchcode1").status_code == 404
    acme = _with_booking(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme)
    code = LINK.search(twilio.messages_to(CALLER)[0]["body"])[1]
    Client.objects.filter(pk=acme.pk).update(booking_url="https://book.example.com/new")
    assert (
        platform.get(f"/l/{code}")["Location"] == "https://book.example.com/new"
    )  # follows the client's page
    Client.objects.filter(pk=acme.pk).update(booking_url="")
    assert platform.get(f"/l/{code}").status_code == 404


def test_the_thread_shows_the_link_was_opened_and_a_booking_after_it_counts_in_the_report(
    web, platform, personas, twilio
):
    acme = _with_booking(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme)
    code = LINK.search(twilio.messages_to(CALLER)[0]["body"])[1]
    with schema_context(acme.schema_name):
        conversation = Conversation.objects.get(contact__phone_number=CALLER)
    owner = web("acme.localhost", personas.alice)
    assert "Booking link not opened yet" in owner.get(f"/inbox/{conversation.pk}/").content.decode()

    with time_machine.travel(WEDNESDAY_10AM.replace(hour=11)):
        platform.get(f"/l/{code}", HTTP_USER_AGENT=IPHONE)
        with schema_context(acme.schema_name):
            outcome_record(client=acme, conversation=conversation, kind="booked", user=personas.alice)
    assert TrackedLink.objects.get(code=code).booked_at is not None
    page = owner.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Booking link opened · first" in page and "booked after" in page

    report = owner.get(
        "/reports/", {"preset": "custom", "start": "2025-06-01", "end": "2025-06-30"}
    ).content.decode()
    assert re.search(r"sent in 1 text · opened from 1 · <strong>1 booked</strong>", report)


def test_another_clients_thread_and_report_know_nothing_of_the_link(web, platform, personas, twilio):
    acme = _with_booking(personas.acme)
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme)
    code = LINK.search(twilio.messages_to(CALLER)[0]["body"])[1]
    platform.get(f"/l/{code}", HTTP_USER_AGENT=IPHONE)
    bolt_owner = web("bolt.localhost", personas.dave)
    report = bolt_owner.get(
        "/reports/", {"preset": "custom", "start": "2025-06-01", "end": "2025-06-30"}
    ).content.decode()
    assert "Booking link:" not in report
    # The redirect lives on the platform host only: a client's host does not serve another client's code.
    assert web("bolt.localhost", personas.dave).get(f"/l/{code}").status_code == 404


def test_the_conversation_list_row_says_which_keyword_rule_fired(web, platform, personas, twilio):
    acme = _with_booking(personas.acme)
    Client.objects.filter(pk=acme.pk).update(book_keywords=True)
    owner = web("acme.localhost", personas.alice)
    with time_machine.travel(WEDNESDAY_10AM):
        _missed_call_texted(platform, acme)
        assert "Rule fired" not in owner.get("/inbox/", {"tab": "all"}).content.decode()
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(acme, CALLER, "BOOK"))
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(acme, CALLER, "Thanks, done"))
    rows = owner.get("/inbox/", {"tab": "all"}).content.decode()
    # Still shown once the caller has written again: the rule that last fired in the conversation.
    assert re.search(r'<span class="badge action-rule action-book">Rule fired: BOOK / SCHEDULE</span>', rows)
