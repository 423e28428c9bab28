"""The AI receptionist (per client, off by default) and every guardrail it keeps: it answers a caller's question
the client's facts cover, labelled as AI and logged with what the model was given, and hands over to a person
(the conversation flagged, with the reason) on anything else. Through the signed webhook, the task, the one
send path and fake Twilio; the model faked at its HTTP boundary (tests/llm_fake)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client
from messaging import tasks
from messaging.links import link_url
from messaging.models import Conversation, Message, OutboundSend, TrackedLink
from messaging.services import send_deliver
from tests.client_settings.test_settings_page import valid_post
from tests.llm_fake.server import FakeLLM
from tests.webhooks import post_signed, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550144"  # Chicago
HOST = "acme.localhost"
TUESDAY_NOON = datetime(2026, 6, 16, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
TUESDAY_11PM = datetime(2026, 6, 16, 23, 0, tzinfo=ZoneInfo("America/Chicago"))
ANSWER = "We do drain cleaning all over Chicago. You can pick a time here: https://book.example.com/acme"


@pytest.fixture
def llm(settings):
    fake = FakeLLM().start()
    fake.reply = ANSWER
    settings.LLM_BASE_URL, settings.LLM_MODEL, settings.LLM_API_KEY = fake.base_url, "house-model", "k"
    settings.LLM_TIMEOUT_SECONDS = 1.0
    yield fake
    fake.stop()


@pytest.fixture
def acme(personas):
    Client.objects.filter(pk=personas.acme.pk).update(
        receptionist_on=True,
        receptionist_max_replies=2,
        facts_services="Drain cleaning, water heaters",
        facts_area="Chicago",
        facts_prices="Service call $89.",
        booking_url="https://book.example.com/acme",
    )
    personas.acme.refresh_from_db()
    return personas.acme


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture
def new_links():
    """The short links made during this test (the public table may hold ones the running stack's tests left)."""
    last = TrackedLink.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return lambda: list(TrackedLink.objects.filter(pk__gt=last))


def _text(platform, client, body, caller=CALLER) -> Message:
    """The caller texts; the receptionist's task runs as the worker would (it is queued on commit)."""
    params = sms_params(client, caller, body)
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    with schema_context(client.schema_name):
        message = Message.objects.get(provider_sid=params["MessageSid"])
    tasks.receptionist_answer(client.pk, message.pk)
    return message


def _ai_replies(client):
    with schema_context(client.schema_name):
        return list(Message.objects.filter(kind=Message.Kind.AI_REPLY))


def _conversation(client, caller=CALLER) -> Conversation:
    with schema_context(client.schema_name):
        return Conversation.objects.get(contact__phone_number=caller)


def test_it_answers_a_question_the_facts_cover_labelled_and_logged(
    platform, acme, llm, twilio, web, personas, new_links
):
    with time_machine.travel(TUESDAY_NOON):
        question = _text(platform, acme, "Do you do drain cleaning in Chicago? how do I book")
    [reply] = _ai_replies(acme)
    [link] = new_links()  # the booking page as the short link that counts
    assert reply.body.startswith(ANSWER.replace("https://book.example.com/acme", link_url(link.code)))
    assert reply.body.endswith("– Acme Plumbing's automated assistant")
    assert reply.ai_inputs["facts"]["services"] == "Drain cleaning, water heaters"
    assert reply.ai_inputs["thread"][-1] == {"direction": "in", "body": question.body}
    assert (reply.ai_inputs["model"], reply.ai_inputs["answering"]) == ("house-model", question.pk)
    assert "prices" not in reply.ai_inputs["facts"]  # not allowed: not even told
    # It goes out through the one send path, like any text.
    send = OutboundSend.objects.get(client=acme, key=f"message:{reply.pk}")
    assert send_deliver(send_id=send.pk) == "sent"
    assert twilio.messages_to(CALLER)[0]["body"] == reply.body
    page = web(HOST, personas.alice).get(f"/inbox/{reply.conversation_id}/").content.decode()
    assert "AI receptionist ·" in page and "What the AI was given" in page


def test_it_is_off_by_default(platform, personas, llm):
    assert not Client.objects.get(pk=personas.acme.pk).receptionist_on
    _text(platform, personas.acme, "Do you do drain cleaning?")
    assert _ai_replies(personas.acme) == [] and llm.requests == []


def test_it_never_texts_an_opted_out_number(platform, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "STOP")
        _text(platform, acme, "Actually, do you do drain cleaning?")
    assert _ai_replies(acme) == [] and llm.requests == []


def test_a_stop_while_the_model_thinks_stops_the_answer_at_send_time(platform, acme, llm, twilio):
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning?")
        [reply] = _ai_replies(acme)
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(acme, CALLER, "STOP"))
        send = OutboundSend.objects.get(client=acme, key=f"message:{reply.pk}")
        assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    assert [m["body"] for m in twilio.messages_to(CALLER) if "automated" in m["body"]] == []


@pytest.mark.parametrize(
    "body",
    [
        "Can I talk to a real person please",
        "Just call me back",
        "Is this a bot?",
        "I'd like to speak with the owner",
        "please have someone call",
        "Can you transfer me",
        "can I talk to someone",
        "Have the plumber call me at 5",
    ],
)
def test_hand_over_words_bring_a_person(platform, acme, llm, body):
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, body)
    conversation = _conversation(acme)
    assert _ai_replies(acme) == [] and llm.requests == []
    assert (conversation.flag, conversation.flag_words) == ("handover", "they asked for a person")


def test_an_emergency_goes_to_a_person(platform, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Pipe burst, water everywhere!!")
    assert _ai_replies(acme) == [] and llm.requests == []
    assert _conversation(acme).flag_words == "it reads as an emergency: call them"


def test_it_stops_at_the_reply_cap(platform, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        for question in ("Do you do drain cleaning?", "Do you work in Chicago?", "And water heaters?"):
            _text(platform, acme, question)
    assert len(_ai_replies(acme)) == 2
    assert _conversation(acme).flag_words == "it has sent its 2 AI replies in this conversation"


def test_never_outside_the_callers_allowed_hours(platform, acme, llm):
    with time_machine.travel(TUESDAY_11PM):
        _text(platform, acme, "Do you do drain cleaning?")
    assert _ai_replies(acme) == [] and llm.requests == []
    assert _conversation(acme).flag_words == "outside the caller's allowed hours"


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_a_model_that_is_down_hands_over_and_never_goes_silent(platform, acme, llm, mode):
    llm.mode, llm.delay = mode, 2.5
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning?")
    assert _ai_replies(acme) == []
    conversation = _conversation(acme)
    assert (conversation.flag, conversation.flag_words) == ("handover", "the AI model did not answer")
    assert conversation.unread_count == 1  # and the staff were alerted as for any reply


def test_no_model_configured_hands_over(platform, acme, settings):
    settings.LLM_BASE_URL = ""
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning?")
    assert _ai_replies(acme) == [] and _conversation(acme).flag_words == "no AI model is configured"


def test_no_prices_unless_the_client_allows_them(platform, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "How much is a service call?")
    assert _ai_replies(acme) == [] and llm.requests == []
    assert _conversation(acme).flag_words == "a price question, and prices are not the AI's to give"


def test_a_draft_that_names_a_price_anyway_is_not_sent(platform, acme, llm):
    llm.reply = "Sure! Drain cleaning is $149 and we cover Chicago."
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning?")
    assert _ai_replies(acme) == [] and _conversation(acme).flag_words == "the AI's draft named a price"


def test_prices_when_the_client_allows_them(platform, acme, llm):
    Client.objects.filter(pk=acme.pk).update(receptionist_prices=True)
    acme.refresh_from_db()
    llm.reply = "A service call is $89."
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "How much is a service call?")
    [reply] = _ai_replies(acme)
    assert reply.body.startswith("A service call is $89.")
    assert "Service call $89." in llm.requests[0]["json"]["messages"][0]["content"]


@pytest.mark.parametrize(
    "draft",
    [
        "Great, you're booked for Thursday!",
        "We can come at 3pm tomorrow.",
        "Your appointment is confirmed for Monday.",
        "See you tomorrow!",
        "We will be there Thursday morning!",
        "A tech will come by tomorrow",
        "Booked you in for Monday",
        "Your appointment is Thursday",
        "We have you scheduled Thursday",
        "Thursday at 2 works, see you then",
        "We have an opening tomorrow afternoon.",
        "We'd be happy to come out and take a look.",
        "Our plumber is on his way.",
        "How about the 14th?",
        "We can send a plumber out this week.",
        "Our tech can swing by first thing.",
    ],
)
def test_it_never_invents_an_appointment(platform, acme, llm, draft):
    llm.reply = draft
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Can someone come out this week?")
    assert _ai_replies(acme) == []
    assert _conversation(acme).flag_words == "the AI's draft promised an appointment or a time"


@pytest.mark.parametrize(
    "draft",
    [
        "Drain cleaning is $149.",
        "Costs 149.00 for the first drain",
        "It's eighty-nine dollars for the visit",
        "A service call is 89 bucks",
        "The fee is usually 120 plus parts",
        "Around a hundred dollars",
    ],
)
def test_it_never_names_a_price_it_may_not(platform, acme, llm, draft):
    llm.reply = draft
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning?")
    assert _ai_replies(acme) == [] and _conversation(acme).flag_words == "the AI's draft named a price"


@pytest.mark.parametrize(
    "draft",
    [
        "We're open Monday to Friday, 8am to 5pm.",
        "Our hours are Mon-Fri 08:00-17:00; pick a time that suits you here: https://book.example.com/acme",
        "Yes, we do drain cleaning and water heaters all over Chicago!",
        "We open at 8am. You can book online any time: https://book.example.com/acme",
        "We cover Chicago and 2 nearby suburbs.",
        "Call us at 312-555-0100 if it's easier.",
        "You can send us a photo of the leak and we'll have a look.",
        "It comes with a one-year warranty on parts.",
    ],
)
def test_a_plain_answer_from_the_facts_is_sent(platform, acme, llm, draft):
    llm.reply = draft
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning? When are you open?")
    assert len(_ai_replies(acme)) == 1 and _conversation(acme).flag == ""


def test_a_question_the_facts_do_not_cover_goes_to_a_person(platform, acme, llm):
    llm.reply = "HANDOVER"
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you speak Spanish?")
    assert _ai_replies(acme) == [] and _conversation(acme).flag_words == "the facts don't answer it"


def test_once_a_person_answers_the_receptionist_stays_out(platform, acme, llm, web, personas):
    with time_machine.travel(TUESDAY_NOON):
        first = _text(platform, acme, "Do you do drain cleaning?")
        web(HOST, personas.alice).post(f"/inbox/{first.conversation_id}/reply/", {"body": "Yes! – Alice"})
        _text(platform, acme, "Great, and water heaters?")
    assert len(_ai_replies(acme)) == 1
    # Theirs already: nothing to flag for them to settle.
    assert _conversation(acme).flag == "" and len(llm.requests) == 1


def test_a_person_who_replied_long_ago_still_has_the_conversation(platform, acme, llm, web, personas):
    """However many texts ago the person replied, the receptionist does not cut in."""
    Client.objects.filter(pk=acme.pk).update(receptionist_max_replies=10)
    with time_machine.travel(TUESDAY_NOON):
        first = _text(platform, acme, "Do you do drain cleaning?")
        web(HOST, personas.alice).post(f"/inbox/{first.conversation_id}/reply/", {"body": "Yes! – Alice"})
        for n in range(14):  # the caller chats on; no task runs for these
            post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(acme, CALLER, f"ok {n}"))
        _text(platform, acme, "And water heaters?")
    assert len(_ai_replies(acme)) == 1 and len(llm.requests) == 1


def test_a_maybe_opt_out_is_never_answered_by_the_ai(platform, acme, llm):
    """ "Take me off the schedule for Tuesday" reads as booking, and might be asking to stop texts: a person
    decides, and the AI does not text someone who may have revoked consent."""
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Take me off the schedule for Tuesday")
        _text(platform, acme, "Do you do drain cleaning?")
    conversation = _conversation(acme)
    assert _ai_replies(acme) == [] and llm.requests == []
    assert conversation.flag == "maybe_opt_out"


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        ("Can I talk to a real person please", "they asked for a person"),
        ("Pipe burst, water everywhere!!", "it reads as an emergency: call them"),
    ],
)
def test_after_a_hand_over_the_ai_stays_out_until_a_person_clears_it(
    platform, acme, llm, web, personas, first, reason
):
    with time_machine.travel(TUESDAY_NOON):
        message = _text(platform, acme, first)
        _text(platform, acme, "Do you do drain cleaning?")
        assert _ai_replies(acme) == [] and llm.requests == []
        conversation = _conversation(acme)
        assert (conversation.flag, conversation.flag_words) == ("handover", reason)  # the first reason kept
        web(HOST, personas.alice).post(f"/inbox/{message.conversation_id}/flag/", {"action": "keep"})
        _text(platform, acme, "And water heaters?")
    assert len(_ai_replies(acme)) == 1  # cleared without a reply: the AI may answer again


def test_a_refused_draft_is_kept_for_the_person_who_takes_over(platform, acme, llm, web, personas):
    llm.reply = "Sure! Drain cleaning is $149 and we cover Chicago."
    with time_machine.travel(TUESDAY_NOON):
        message = _text(platform, acme, "Do you do drain cleaning?")
    page = web(HOST, personas.alice).get(f"/inbox/{message.conversation_id}/").content.decode()
    assert "the AI&#x27;s draft named a price" in page
    assert (
        "What the AI would have said (not sent): “Sure! Drain cleaning is $149 and we cover Chicago.”" in page
    )


def test_the_handover_is_shown_and_settled_in_the_inbox(platform, acme, llm, web, personas):
    with time_machine.travel(TUESDAY_NOON):
        message = _text(platform, acme, "Can I talk to a real person")
    alice = web(HOST, personas.alice)
    page = alice.get(f"/inbox/{message.conversation_id}/").content.decode()
    assert "The AI receptionist handed over" in page and "they asked for a person" in page
    alice.post(f"/inbox/{message.conversation_id}/flag/", {"action": "keep"})
    assert _conversation(acme).flag == ""


def test_a_repeated_task_answers_once(platform, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        message = _text(platform, acme, "Do you do drain cleaning?")
        tasks.receptionist_answer(acme.pk, message.pk)
    assert len(_ai_replies(acme)) == 1 and len(llm.requests) == 1


def test_the_settings_page_switches_it_on_within_limits(web, personas):
    alice = web(HOST, personas.alice)
    assert "AI receptionist answers callers" in alice.get("/settings/").content.decode()
    response = alice.post(
        "/settings/", valid_post(receptionist_on="on", receptionist_max_replies="2", receptionist_prices="")
    )
    assert response.status_code == 302
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.receptionist_on, acme.receptionist_max_replies, acme.receptionist_prices) == (True, 2, False)
    refused = alice.post("/settings/", valid_post(receptionist_on="on", receptionist_max_replies="50"))
    assert refused.status_code == 400
    assert Client.objects.get(pk=personas.acme.pk).receptionist_max_replies == 2


# --- The test conversation on the settings page ---------------------------------------------------------------

PREVIEW = "/settings/facts/preview/"


def test_the_facts_are_previewed_with_a_test_conversation(web, personas, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        response = web(HOST, personas.alice).post(PREVIEW, {"preview_text": "Do you do drain cleaning?"})
    assert response.status_code == 200
    page = response.content.decode()
    assert ANSWER in page and "automated assistant" in page
    assert "Thanks for your reply! We do drain cleaning, water heaters." in page  # the rules' suggestion
    assert "Nothing was sent and nothing was saved." in page
    with schema_context(acme.schema_name):
        assert not Message.objects.exists() and not Conversation.objects.exists()
    assert OutboundSend.objects.filter(client=acme).count() == 0


def test_the_preview_says_when_it_would_hand_over(web, personas, acme, llm):
    with time_machine.travel(TUESDAY_NOON):
        page = web(HOST, personas.alice).post(PREVIEW, {"preview_text": "How much is a service call?"})
    html = page.content.decode()
    assert "would hand this to a person: a price question, and prices are not the AI&#x27;s to give" in html
    assert "Service call $89." in html  # the suggested reply may use the prices the business shares
    assert llm.requests == []


def test_the_preview_with_the_model_down_says_so_and_still_suggests(web, personas, acme, llm):
    llm.mode = "error"
    with time_machine.travel(TUESDAY_NOON):
        page = web(HOST, personas.alice).post(PREVIEW, {"preview_text": "Do you do drain cleaning?"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "would hand this to a person: the AI model did not answer" in html
    assert "Thanks for your reply! We do drain cleaning, water heaters." in html  # the rules' draft, always
    assert len(llm.requests) == 1


def test_an_empty_preview_is_refused_with_a_reason(web, personas, acme):
    response = web(HOST, personas.alice).post(PREVIEW, {"preview_text": "  "})
    assert response.status_code == 400 and "Type what a caller might text." in response.content.decode()


def test_only_this_clients_people_preview(web, personas, acme, llm, reader):
    assert web(HOST, reader).post(PREVIEW, {"preview_text": "Hi"}).status_code == 403
    response = web(HOST, personas.dave).post(PREVIEW, {"preview_text": "Hi"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert web(HOST, personas.alice).get(PREVIEW).status_code == 405
    assert llm.requests == []


# --- The booking link: the short one that counts -------------------------------------------------------------


def test_the_booking_link_in_an_ai_text_is_the_short_one_that_counts(platform, acme, llm, web, new_links):
    llm.reply = "You can pick a time here: https://book.example.com/acme"
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "How do I book a drain cleaning?")
    [reply] = _ai_replies(acme)
    [link] = new_links()
    assert (link.message_id, link.message_kind, link.to_number) == (reply.pk, "ai_reply", CALLER)
    short = f"http://localhost:8000/l/{link.code}"
    assert short in reply.body and "book.example.com" not in reply.body
    prompt = llm.requests[0]["json"]["messages"][0]["content"]
    assert f"booking link: {short}" in prompt and "book.example.com" not in prompt
    opened = platform.get(f"/l/{link.code}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert opened.status_code == 302 and opened["Location"] == "https://book.example.com/acme"
    link.refresh_from_db()
    assert link.clicks == 1


def test_an_ai_text_without_the_link_leaves_no_link_counted(platform, acme, llm, new_links):
    llm.reply = "Yes, we do drain cleaning all over Chicago!"
    with time_machine.travel(TUESDAY_NOON):
        _text(platform, acme, "Do you do drain cleaning?")
    assert len(_ai_replies(acme)) == 1
    assert new_links() == []
