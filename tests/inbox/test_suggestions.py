"""Suggested replies in the thread: a draft from the client's facts and the conversation, by a language model
behind an OpenAI-compatible API when one is configured (faked here at its HTTP boundary by tests/llm_fake), by
the rules otherwise and whenever the model is slow, down or answers nothing. A person edits the draft and sends
it through the one send path. Facts are edited on the settings page and through the API."""

import re

import pytest
from django_tenants.utils import schema_context

from accounts.models import Client
from messaging.models import Message, OutboundSend, TrackedLink
from tests.llm_fake.server import FakeLLM

from .conftest import add_conversation

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
LINK = re.compile(r"http://localhost:8000/l/([A-Za-z0-9]{10})")


@pytest.fixture
def llm(settings):
    fake = FakeLLM().start()
    settings.LLM_BASE_URL = fake.base_url
    settings.LLM_API_KEY = "sk-test-key"
    settings.LLM_MODEL = "house-model-1"
    settings.LLM_TIMEOUT_SECONDS = 1.0
    yield fake
    fake.stop()


@pytest.fixture
def no_llm(settings):
    settings.LLM_BASE_URL = ""


@pytest.fixture
def acme(personas):
    Client.objects.filter(pk=personas.acme.pk).update(
        facts_services="Drain cleaning, water heaters, leak repair",
        facts_area="Chicago and the north suburbs",
        facts_prices="Service call $89, drain cleaning from $149.",
        booking_url="https://book.example.com/acme",
    )
    personas.acme.refresh_from_db()
    return personas.acme


def _suggest(web, person, conversation):
    return web(HOST, person).post(f"/inbox/{conversation.pk}/suggest/")


def _reply_box(html: str) -> str:
    start = html.index('name="body"')
    return html[start : html.index("</textarea>", start)]


def test_without_a_model_the_rules_draft_from_the_facts(web, personas, acme, no_llm):
    conversation = add_conversation(acme, texts=["How much do you charge to clean a drain?"])
    response = _suggest(web, personas.alice, conversation)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Drafted from your facts: read it, edit it, then send." in html
    assert "Service call $89, drain cleaning from $149." in _reply_box(html)
    with schema_context(acme.schema_name):
        assert not Message.objects.filter(direction="out").exists()  # a draft sends nothing


def test_the_rules_never_quote_a_price_the_business_did_not_share(web, personas, acme, no_llm):
    Client.objects.filter(pk=acme.pk).update(facts_prices="")
    conversation = add_conversation(acme, texts=["How much for a new water heater?"])
    box = _reply_box(_suggest(web, personas.alice, conversation).content.decode())
    assert "$" not in box and "tell us a little more" in box


def test_a_booking_draft_offers_the_booking_link_and_invents_no_time(web, personas, acme, no_llm):
    conversation = add_conversation(acme, texts=["Can someone come out tomorrow morning?"])
    box = _reply_box(_suggest(web, personas.alice, conversation).content.decode())
    assert LINK.search(box) and "tomorrow" not in box


def test_the_drafts_booking_link_is_the_short_one_and_counts_once_sent(web, personas, acme, no_llm):
    """The booking page goes as the short link that counts clicks (messaging.links), like the text-back's: saved
    for the text a person sends, and only then; a draft nobody sends counts nothing."""
    conversation = add_conversation(acme, texts=["Can someone come out tomorrow morning?"])
    unsent = _reply_box(_suggest(web, personas.alice, conversation).content.decode())
    box = _reply_box(_suggest(web, personas.alice, conversation).content.decode())
    assert "book.example.com" not in box
    code, unsent_code = LINK.search(box).group(1), LINK.search(unsent).group(1)
    assert unsent_code != code  # a fresh link for each draft
    assert not TrackedLink.objects.filter(code__in=[code, unsent_code]).exists()
    body = f"Pick a time that suits you: {LINK.search(box).group(0)} – Alice"
    web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/reply/", {"body": body})
    with schema_context(acme.schema_name):
        sent = Message.objects.get(direction="out")
    link = TrackedLink.objects.get(code=code)
    assert (link.client, link.message_id, link.message_kind) == (acme, sent.pk, "reply")
    assert not TrackedLink.objects.filter(code=unsent_code).exists()
    opened = web("localhost").get(f"/l/{code}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert opened.status_code == 302 and opened["Location"] == "https://book.example.com/acme"
    link.refresh_from_db()
    assert link.clicks == 1
    # The same link pasted into a later text stays the first text's.
    web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/reply/", {"body": body})
    assert TrackedLink.objects.get(code=code).message_id == sent.pk


def test_a_model_draft_with_the_booking_page_gets_the_short_link(web, personas, acme, llm):
    llm.reply = "Pick a time here: https://book.example.com/acme"
    conversation = add_conversation(acme, texts=["How do I book?"])
    box = _reply_box(_suggest(web, personas.alice, conversation).content.decode())
    assert LINK.search(box) and "book.example.com" not in box
    system = llm.requests[0]["json"]["messages"][0]["content"]
    assert "book.example.com" not in system and LINK.search(system)


def test_the_model_drafts_from_the_facts_and_the_thread(web, personas, acme, llm):
    llm.reply = '"Hi! A drain cleaning starts at $149. Pick a time here: https://book.example.com/acme"'
    conversation = add_conversation(acme, texts=["Hi, my kitchen sink is clogged", "How much to clear it?"])
    html = _suggest(web, personas.alice, conversation).content.decode()
    assert "Suggested by the AI model from your facts" in html
    assert "A drain cleaning starts at $149. Pick a time here" in _reply_box(html)
    [request] = llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-key"
    body = request["json"]
    assert body["model"] == "house-model-1"
    system, user = body["messages"]
    assert system["role"] == "system" and "Drain cleaning, water heaters" in system["content"]
    assert "Chicago and the north suburbs" in system["content"] and "$89" in system["content"]
    assert "Never promise or invent an appointment" in system["content"]
    assert "Caller: Hi, my kitchen sink is clogged\nCaller: How much to clear it?" in user["content"]


def test_the_model_is_told_to_keep_off_prices_the_business_did_not_share(web, personas, acme, llm):
    Client.objects.filter(pk=acme.pk).update(facts_prices="")
    conversation = add_conversation(acme, texts=["How much?"])
    _suggest(web, personas.alice, conversation)
    system = llm.requests[0]["json"]["messages"][0]["content"]
    assert "Never mention a price" in system and "$89" not in system


@pytest.mark.parametrize("mode", ["error", "slow", "garbage", "empty"])
def test_a_model_that_fails_falls_back_to_the_rules(web, personas, acme, llm, mode):
    llm.mode, llm.delay = mode, 2.5  # slow: past the 1 s timeout
    conversation = add_conversation(acme, texts=["How much do you charge to clean a drain?"])
    response = _suggest(web, personas.alice, conversation)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Drafted from your facts" in html
    assert "Service call $89" in _reply_box(html)


def test_a_model_nobody_can_reach_falls_back_too(web, personas, acme, settings):
    settings.LLM_BASE_URL, settings.LLM_MODEL = "http://127.0.0.1:9/v1", "m"  # nothing listens on port 9
    conversation = add_conversation(acme, texts=["How much?"])
    assert "Drafted from your facts" in _suggest(web, personas.alice, conversation).content.decode()


def test_the_person_edits_the_draft_and_sends_it_through_the_send_path(web, personas, acme, no_llm):
    conversation = add_conversation(acme, texts=["How much do you charge to clean a drain?"])
    draft = _reply_box(_suggest(web, personas.bob, conversation).content.decode())
    assert "Service call $89" in draft
    edited = "Thanks! Service call $89, drain cleaning from $149. Want us Thursday? – Bob"
    response = web(HOST, personas.bob).post(f"/inbox/{conversation.pk}/reply/", {"body": edited})
    assert response.status_code == 302
    with schema_context(acme.schema_name):
        [sent] = Message.objects.filter(direction="out")
    assert (sent.body, sent.kind, sent.sent_by_id) == (edited, "reply", personas.bob.pk)
    assert OutboundSend.objects.filter(client=acme, key=f"message:{sent.pk}").exists()


def test_no_draft_for_a_caller_who_opted_out(web, personas, acme, llm):
    conversation = add_conversation(acme, texts=["STOP"])
    with schema_context(acme.schema_name):
        conversation.contact.__class__.objects.filter(pk=conversation.contact_id).update(opted_out=True)
    response = _suggest(web, personas.alice, conversation)
    assert response.status_code == 302 and llm.requests == []


def test_read_only_staff_and_strangers_get_no_draft(web, personas, acme, llm, reader):
    conversation = add_conversation(acme, texts=["How much?"])
    assert _suggest(web, reader, conversation).status_code == 403
    response = _suggest(web, personas.dave, conversation)  # another client's owner
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # On a client the agency also serves, acme's conversation does not exist.
    assert web("bolt.localhost", personas.nina).post(f"/inbox/{conversation.pk}/suggest/").status_code == 404
    assert llm.requests == []


def test_the_facts_are_edited_on_the_settings_page(web, personas, acme):
    page = web(HOST, personas.alice).get("/settings/").content.decode()
    assert "What replies may tell callers" in page and "Chicago and the north suburbs" in page
