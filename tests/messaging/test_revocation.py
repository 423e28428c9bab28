"""Revocation in any reasonable words (the FCC's 2024 order, in force since April 2025): a reply that uses stop,
quit, end, revoke, opt out, cancel or unsubscribe revokes consent even inside a sentence, and so do common
phrasings; "can you stop by tomorrow?" does not. Where the words could go either way a person decides.

First the detector on a table of real-world replies, both ways; then the whole path through the signed inbound
SMS webhook: the opt-out recorded with the message as its source, one confirmation at most, the flag a person
settles in the inbox."""

import pytest
from django_tenants.utils import schema_context

from crm.models import Contact
from messaging.keywords import revocation
from messaging.models import ConsentEvent, Conversation, Message, OutboundSend
from reports.definitions import keyword_sids
from tests.webhooks import post_signed, sms_params

CALLER = "+13125550123"
INCOMING = "/hooks/twilio/sms/incoming/"
HOST = "acme.localhost"

# (reply, the words that decided)
REVOKES = [
    ("Please stop texting me", "stop texting"),
    ("stop texting me!!!", "stop texting"),
    ("Can you please stop sending me these messages", "stop sending"),
    ("STOP SENDING ME TEXTS", "stop sending"),
    ("Stop calling and texting me", "stop calling"),
    ("Wrong number, stop", "stop"),
    ("wrong number. STOP", "stop"),
    ("STOP!!! who is this", "stop"),
    ("Stop. Wrong number.", "stop"),
    ("This is not John, please stop", "stop"),
    ("I don't know who this is. Stop", "stop"),
    ("please stop", "stop"),
    ("Stop it", "stop"),
    ("omg STOP already", "stop"),
    ("stop stop stop", "stop"),
    ("i said stop", "stop"),
    ("🛑 stop pls 🛑", "stop"),
    ("I want you to stop", "you to stop"),
    ("I need you guys to stop texting me", "stop texting"),
    ("Don't text me", "dont text me"),
    ("Don’t text me anymore", "dont text me"),
    ("DO NOT TEXT THIS NUMBER", "do not text this number"),
    ("Please don't contact me again", "please dont contact me"),
    ("never message me again", "never message me"),
    ("I don't want any more texts", "dont want any more texts"),
    ("Remove me", "remove me"),
    ("Please remove me from your list", "remove me"),
    ("remove my number", "remove my number"),
    ("Take me off your list", "take me off"),
    ("take my number off please", "take my number off"),
    ("Lose my number", "lose my number"),
    ("delete this number", "delete this number"),
    ("Leave me alone", "leave me alone"),
    ("No more texts please", "no more texts"),
    ("Unsubscribe me please", "unsubscribe me"),
    ("how do I unsubscribe from this", "unsubscribe"),
    ("Please unsubscribe", "unsubscribe"),
    ("I'd like to opt out", "optout"),
    ("opt me out", "opt me out"),
    ("I revoke my consent", "revoke"),
    ("I do not consent to these messages", "do not consent"),
    ("Quit texting me", "quit texting"),
    ("quit", "quit"),
    ("End these texts", "end these texts"),
    ("end", "end"),
    ("Cancel my subscription", "cancel my subscription"),
    ("cancel these text alerts", "cancel these text"),
    ("Cancel", "cancel"),
    ("STOPALL", "stopall"),
    ("you can stop now", "you can stop"),
    ("You can stop.", "you can stop"),
    ("please end this", "end this"),
    ("End it now", "end"),
    ("enough texts", "enough texts"),
    ("Enough with the texts!!", "enough with the texts"),
    ("ok you can quit now", "you can quit"),
]

# (reply, the words that made it unsure): a person reads these.
UNSURE = [
    ("Cancel, I found someone else", "cancel"),
    ("don't stop", "dont stop"),
    ("I'm not interested", "not interested"),
    ("Not interested, thanks", "not interested"),
    ("Take me off the schedule for Tuesday", "take me off the schedule"),
    ("remove me from the waitlist", "remove me from the waitlist"),
    ("go away", "go away"),
    ("Why won't you just stop", "just stop"),
    ("stop who", "stop who"),
    ("I need to cancel", "to cancel"),
    ("we have to cancel", "to cancel"),
    ("Too many texts", "too many texts"),
    ("you can stop sometime", "you can stop"),
]

NOT_REVOCATIONS = [
    "can you stop by tomorrow?",
    "Stop by tomorrow at 9 please",
    "Could your tech stop by after 3?",
    "Can you stop at the hardware store first?",
    "Stop by whenever, the door is open",
    "The leak won't stop",
    "The water doesn't stop running",
    "I can't get it to stop leaking",
    "When will the water stop?",
    "How do I stop the toilet from running?",
    "We need this leak to stop before the weekend",
    "it stopped working last night",
    "End of the day works for me",
    "The pipe is at the far end of the basement",
    "What time do you end today?",
    "Weekend is fine",
    "cancel my appointment",
    "Can I cancel the Tuesday visit and do Thursday?",
    "I have to cancel tomorrow, something came up",
    "My AC quit",
    "The heater quit working",
    "the furnace quit on us again",
    "Yes please come today",
    "Who is this?",
    "wrong number",
    "How much for a drain cleaning?",
    "Please call me back",
    "Text me when you're on the way",
    "Can you text me the address?",
    "Thanks! See you then",
    "Remove the old water heater too please",
    "Take the old sink with you",
    "Is there a stopcock under the sink?",
    "Non-stop dripping since Monday",
    "you can stop by tomorrow",
    "You can stop at the side door",
    "We'll be there by the end of the week",
    "Can you end the job by Friday?",
    "The end cap on the pipe is leaking",
    "Call me at the end of the day",
    "Is that the end of it?",
    "I need to cancel my appointment for Thursday",
    "Can you make sure it doesn't end up flooding again?",
    "It's at the dead end of Oak Street",
]


@pytest.mark.parametrize(("body", "words"), REVOKES)
def test_a_revocation_in_any_reasonable_words(body, words):
    found = revocation(body)
    assert found is not None and (found.certain, found.words) == (True, words)


@pytest.mark.parametrize(("body", "words"), UNSURE)
def test_words_that_could_go_either_way_are_left_to_a_person(body, words):
    found = revocation(body)
    assert found is not None and (found.certain, found.words) == (False, words)


@pytest.mark.parametrize("body", NOT_REVOCATIONS)
def test_the_same_words_speaking_of_something_else_are_not_a_revocation(body):
    assert revocation(body) is None


# --- Through the signed webhook -----------------------------------------------------------------------------


@pytest.fixture
def platform(web):
    return web("localhost")


def _text(platform, client, body):
    params = sms_params(client, CALLER, body)
    response = post_signed(platform, INCOMING, params)
    assert response.status_code == 200
    return params


def _state(client):
    """The caller's contact, consent history, conversation and the confirmations queued to them."""
    with schema_context(client.schema_name):
        contact = Contact.objects.get(phone_number=CALLER)
        consent = list(ConsentEvent.objects.filter(phone_number=CALLER))
        conversation = Conversation.objects.get(contact=contact)
        confirmations = list(
            Message.objects.filter(conversation=conversation, kind=Message.Kind.KEYWORD_REPLY)
        )
        return contact, consent, conversation, confirmations


@pytest.mark.django_db
def test_please_stop_texting_me_opts_out_with_the_message_as_its_source(platform, personas, heard):
    params = _text(platform, personas.acme, "Hi, this isn't Dave's number. Please stop texting me.")
    contact, [event], conversation, [confirmation] = _state(personas.acme)
    assert contact.opted_out
    assert (event.kind, event.source, event.keyword, event.message_sid) == (
        "opt_out",
        "reply",
        "stop texting",
        params["MessageSid"],
    )
    assert "unsubscribed" in confirmation.body and confirmation.to_number == CALLER
    assert OutboundSend.objects.filter(client=personas.acme, message_id=confirmation.pk).exists()
    # An opt-out, like STOP: nobody has a reply to answer, and it is not counted as one.
    assert conversation.unread_count == 0 and conversation.flag == ""
    assert [r["keyword"] for r in heard.named("message_received")] == ["opt_out"]
    with schema_context(personas.acme.schema_name):
        assert params["MessageSid"] in set(keyword_sids().values_list("message_sid", flat=True))


@pytest.mark.django_db
def test_a_caller_who_says_it_twice_is_confirmed_once(platform, personas):
    _text(platform, personas.acme, "STOP")
    _text(platform, personas.acme, "I said stop texting me")
    _text(platform, personas.acme, "remove me from your list!!")
    _text(platform, personas.acme, "STOP")
    contact, consent, _, confirmations = _state(personas.acme)
    assert contact.opted_out
    assert [(e.source, e.keyword) for e in consent] == [
        ("keyword", "STOP"),
        ("reply", "stop texting"),
        ("reply", "remove me"),
        ("keyword", "STOP"),
    ]  # every request is kept in the history …
    assert len(confirmations) == 1  # … and answered once


@pytest.mark.django_db
def test_stop_by_tomorrow_is_an_ordinary_reply(platform, personas):
    _text(platform, personas.acme, "can you stop by tomorrow?")
    contact, consent, conversation, confirmations = _state(personas.acme)
    assert not contact.opted_out and consent == [] and confirmations == []
    assert conversation.unread_count == 1 and conversation.flag == ""


@pytest.mark.django_db
def test_an_unsure_reply_is_flagged_for_a_person_and_nothing_is_guessed(platform, personas, web):
    _text(platform, personas.acme, "Cancel, I found someone else")
    contact, consent, conversation, confirmations = _state(personas.acme)
    assert not contact.opted_out and consent == [] and confirmations == []
    assert (conversation.flag, conversation.flag_words) == ("maybe_opt_out", "cancel")
    assert conversation.unread_count == 1  # a reply someone must read

    alice = web(HOST, personas.alice)
    listing = alice.get("/inbox/?tab=to_check").content.decode()
    assert "To check: may be asking to stop texts" in listing and "(312) 555-0123" in listing
    assert "To check" in alice.get("/inbox/").content.decode()  # the tab shows while something waits
    thread = alice.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "May be asking to stop texts?" in thread and "Cancel, I found someone else" in thread
    assert "They asked to stop: opt out" in thread


@pytest.mark.django_db
def test_the_person_decides_it_was_a_request_to_stop(platform, personas, web):
    params = _text(platform, personas.acme, "don't stop")
    _, _, conversation, _ = _state(personas.acme)
    response = web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/flag/", {"action": "opt_out"})
    assert response.status_code == 302
    contact, [event], conversation, [confirmation] = _state(personas.acme)
    assert contact.opted_out and conversation.flag == ""
    assert (event.source, event.keyword, event.message_sid) == ("reply", "dont stop", params["MessageSid"])
    assert "unsubscribed" in confirmation.body
    # Pressed again (another tab): settled already, nothing more is sent.
    web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/flag/", {"action": "opt_out"})
    assert len(_state(personas.acme)[3]) == 1
    assert "To check" not in web(HOST, personas.alice).get("/inbox/").content.decode()


@pytest.mark.django_db
def test_the_person_decides_it_was_not(platform, personas, web):
    _text(platform, personas.acme, "I'm not interested in the upgrade, just fix the leak")
    _, _, conversation, _ = _state(personas.acme)
    assert conversation.flag == "maybe_opt_out"
    web(HOST, personas.bob).post(f"/inbox/{conversation.pk}/flag/", {"action": "keep"})
    contact, consent, conversation, confirmations = _state(personas.acme)
    assert not contact.opted_out and consent == [] and confirmations == []
    assert conversation.flag == ""


@pytest.mark.django_db
def test_a_flag_is_settled_by_a_later_stop(platform, personas):
    _text(platform, personas.acme, "go away")
    _text(platform, personas.acme, "STOP")
    contact, consent, conversation, confirmations = _state(personas.acme)
    assert contact.opted_out and conversation.flag == "" and len(confirmations) == 1


@pytest.mark.django_db
def test_a_nonsense_choice_is_refused_with_a_reason(platform, personas, web):
    _text(platform, personas.acme, "go away")
    _, _, conversation, _ = _state(personas.acme)
    response = web(HOST, personas.alice).post(
        f"/inbox/{conversation.pk}/flag/", {"action": "maybe"}, follow=True
    )
    assert "Choose whether they asked to stop the texts." in response.content.decode()
    assert _state(personas.acme)[2].flag == "maybe_opt_out"


@pytest.mark.django_db
def test_another_clients_people_cannot_see_or_settle_the_flag(platform, personas, web):
    _text(platform, personas.acme, "go away")
    _, _, conversation, _ = _state(personas.acme)
    # nina runs acme's agency and bolt's: on bolt's host acme's conversation does not exist.
    nina_on_bolt = web("bolt.localhost", personas.nina)
    assert nina_on_bolt.post(f"/inbox/{conversation.pk}/flag/", {"action": "opt_out"}).status_code == 404
    assert "(312) 555-0123" not in nina_on_bolt.get("/inbox/?tab=to_check").content.decode()
    # dave (bolt's owner) is not let in on acme's host at all.
    response = web(HOST, personas.dave).post(f"/inbox/{conversation.pk}/flag/", {"action": "opt_out"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    contact, consent, conversation, _ = _state(personas.acme)
    assert not contact.opted_out and consent == [] and conversation.flag == "maybe_opt_out"
