"""Intent on every reply: booking, price question, emergency, existing job, wrong number, spam, opt-out or other,
with a confidence and the words that decided it; rules only. Measured on the labelled replies kept beside this
file (bench/intent_accuracy.py prints precision and recall per intent), then followed through the signed
webhook into the inbox, the per-client actions and the report."""

import csv
from collections import Counter
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from accounts.models import Client
from api.serializers import MessageSerializer
from config.celery_app import app as celery_app
from crm.models import Contact
from inbox import tasks
from inbox.models import NotificationPreference
from messaging.intents import EXAMPLES, Intent, intent_of
from messaging.models import Conversation, Message
from tests.webhooks import post_signed, sms_params

LABELLED = Path(__file__).parent / "data" / "intents.csv"
HOST = "acme.localhost"
CALLER = "+13125550155"
BOB_MOBILE = "+13125550177"


# In nothing the classifier was tuned on or learned from: what a reply phrased in new words gets.
HELD_OUT = Path(__file__).parent / "data" / "intents_holdout5.csv"


def _labelled(path: Path = LABELLED) -> list[tuple[str, str]]:
    with path.open(newline="") as handle:
        return [(row["text"], row["intent"]) for row in csv.DictReader(handle)]


def test_the_labelled_set_is_big_enough_and_covers_every_intent():
    labelled = _labelled()
    assert len(labelled) >= 200
    counts = Counter(label for _, label in labelled)
    assert set(counts) == set(Intent.values)
    assert min(counts.values()) >= 20
    assert len({text for text, _ in labelled}) == len(labelled)  # no reply counted twice


def test_the_rules_read_the_labelled_replies():
    """A floor, not the measurement (that is bench/intent_accuracy.py): a change to the rules that loses more
    than a few replies of any intent fails here."""
    labelled = _labelled()
    readings = [(label, intent_of(text)) for text, label in labelled]
    right = sum(reading.intent == label for label, reading in readings)
    assert right / len(labelled) >= 0.9
    for intent in Intent.values:
        of_it = [reading for label, reading in readings if label == intent]
        assert sum(r.intent == intent for r in of_it) / len(of_it) >= 0.8, intent


def test_the_rules_read_replies_they_were_never_tuned_on():
    """The honest floor (bench/intent_accuracy.py measures it: 77.6 % when written, 63.8 % with the rules alone):
    replies in words the classifier never saw. Not a target to tune to; a change that loses generality fails."""
    held_out = _labelled(HELD_OUT)
    assert len(held_out) >= 55
    right = sum(intent_of(text).intent == label for text, label in held_out)
    assert right / len(held_out) >= 0.75
    # An emergency or an opt-out missed costs most: nearly all of them must be heard.
    for intent, floor in ((Intent.EMERGENCY, 0.8), (Intent.OPT_OUT, 0.8)):
        of_it = [text for text, label in held_out if label == intent]
        assert sum(intent_of(text).intent == intent for text in of_it) / len(of_it) >= floor, intent


def test_the_honest_set_is_in_nothing_the_word_model_learned():
    learned = {text.casefold() for text, _ in _labelled(EXAMPLES)}
    assert not [text for text, _ in _labelled(HELD_OUT) if text.casefold() in learned]


def test_where_no_rule_speaks_the_word_model_reads_it_but_never_surely_enough_to_file():
    reading = intent_of("water heater pilot keeps going out, need it looked at")
    assert reading.intent == Intent.BOOKING and reading.words
    pitch = intent_of("Exclusive offer for contractors: more homeowner jobs every month")
    assert pitch.intent == Intent.SPAM and pitch.confidence < 0.8
    assert intent_of("thanks so much").intent == Intent.OTHER


@pytest.mark.django_db
def test_a_reply_the_word_model_reads_as_spam_is_not_filed(platform, personas):
    message = _text(
        platform, personas.acme, "Exclusive offer for contractors: more homeowner jobs every month"
    )
    with schema_context(personas.acme.schema_name):
        conversation = Conversation.objects.get(pk=message.conversation_id)
    assert message.intent == "spam" and (conversation.status, conversation.unread_count) == ("open", 1)


@pytest.mark.parametrize(
    "body",
    [
        "Pipe under sink exploded, water all over",
        "Water coming out of the electrical panel!!",
        "I smell something burning from the furnace",
        "ceiling fell in from the leak upstairs",
        "Smells like rotten eggs by the stove",
        "Carbon monoxide detector keeps going off",
    ],
)
def test_an_emergency_in_plain_words_reads_as_one(body):
    assert intent_of(body).intent == Intent.EMERGENCY


@pytest.mark.parametrize(
    ("body", "intent", "words"),
    [
        ("Pipe burst in the basement, water everywhere!", Intent.EMERGENCY, "burst"),
        ("How much do you charge for a drain cleaning?", Intent.PRICE, "how much"),
        ("Can someone come out Thursday morning?", Intent.BOOKING, "come out"),
        ("Your tech was here Monday and it's still leaking", Intent.EXISTING_JOB, "still leaking"),
        ("Wrong number sorry", Intent.WRONG_NUMBER, "wrong number"),
        ("Get more Google reviews for your business! www.reviews.biz", Intent.SPAM, "google reviews"),
        ("Please stop texting me", Intent.OPT_OUT, "stop texting"),
    ],
)
def test_each_reading_names_its_intent_how_sure_and_the_words(body, intent, words):
    reading = intent_of(body)
    assert reading.intent == intent
    assert 0.5 <= reading.confidence <= 1
    assert words in reading.words


def test_a_reply_with_nothing_to_go_on_is_other_and_says_so():
    for body in ("ok", "👍", "", "Thanks!"):
        reading = intent_of(body)
        assert (reading.intent, reading.words) == (Intent.OTHER, "")


# --- Through the webhook --------------------------------------------------------------------------------------


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture
def eager_alerts(monkeypatch):
    monkeypatch.setattr(tasks.escalate_reply, "apply_async", lambda *a, **kw: None)
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _set(client: Client, **fields) -> Client:
    Client.objects.filter(pk=client.pk).update(**fields)
    client.refresh_from_db()
    return client


def _text(platform, client, body, caller=CALLER):
    params = sms_params(client, caller, body)
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    with schema_context(client.schema_name):
        return Message.objects.select_related("conversation__contact").get(provider_sid=params["MessageSid"])


@pytest.mark.django_db
def test_every_reply_keeps_its_intent_and_the_inbox_shows_it(platform, personas, web):
    message = _text(platform, personas.acme, "How much do you charge for a drain cleaning?")
    assert (message.intent, message.intent_words) == ("price", "how much, charge")
    assert 50 <= message.intent_confidence <= 99
    assert message.conversation.intent == "price"
    alice = web(HOST, personas.alice)
    thread = alice.get(f"/inbox/{message.conversation_id}/").content.decode()
    assert f"Price question · {message.intent_confidence}% · “how much, charge”" in thread
    assert (
        '<span class="badge intent intent-price">Price question</span>'
        in alice.get("/inbox/").content.decode()
    )


@pytest.mark.django_db
def test_the_inbox_filters_by_intent(platform, personas, web):
    _text(platform, personas.acme, "How much to replace a toilet?", caller="+13125550161")
    _text(platform, personas.acme, "Can you come out tomorrow morning to fix a leak?", caller="+13125550162")
    alice = web(HOST, personas.alice)
    prices = alice.get("/inbox/?intent=price").content.decode()
    assert "(312) 555-0161" in prices and "(312) 555-0162" not in prices
    bookings = alice.get("/inbox/?tab=all&intent=booking").content.decode()
    assert "(312) 555-0162" in bookings and "(312) 555-0161" not in bookings
    assert 'value="booking" selected' in bookings
    # An intent nobody knows is no filter at all, not an error.
    anything = alice.get("/inbox/?intent=nonsense")
    assert anything.status_code == 200 and "(312) 555-0161" in anything.content.decode()


@pytest.mark.django_db
def test_another_clients_intent_filter_shows_nothing_of_this_one(platform, personas, web):
    _text(platform, personas.acme, "How much to replace a toilet?", caller="+13125550163")
    on_bolt = web("bolt.localhost", personas.nina).get("/inbox/?tab=all&intent=price").content.decode()
    assert "(312) 555-0163" not in on_bolt
    response = web(HOST, personas.dave).get("/inbox/?intent=price")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_an_emergency_alerts_the_on_call_person_at_once(
    platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _set(personas.acme, oncall_user=personas.bob, oncall_call=False)
    with schema_context(acme.schema_name):
        NotificationPreference.objects.update_or_create(
            user_id=personas.bob.pk, defaults={"text_to": BOB_MOBILE, "text_to_confirmed": BOB_MOBILE}
        )
    with django_capture_on_commit_callbacks(execute=True):
        message = _text(platform, acme, "My basement is flooding, water coming through the wall")
    assert message.intent == "emergency"
    [alert] = twilio.messages_to(BOB_MOBILE)
    assert "URGENT" in alert["body"] and CALLER in alert["body"]
    assert any(m.subject.startswith("URGENT:") and m.to == ["bob@acme.test"] for m in mailoutbox)


@pytest.mark.django_db
def test_a_client_can_switch_the_emergency_alert_off(
    platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _set(personas.acme, oncall_user=personas.bob, emergency_alerts=False)
    with django_capture_on_commit_callbacks(execute=True):
        message = _text(platform, acme, "Gas leak! I smell gas in the kitchen")
    assert message.intent == "emergency"
    assert not [m for m in mailoutbox if m.subject.startswith("URGENT:")]
    assert twilio.messages_to(BOB_MOBILE) == []


@pytest.mark.django_db
def test_a_wrong_number_closes_the_conversation_and_tags_the_contact(
    platform, personas, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _text(platform, personas.acme, "Sorry, wrong number")
    with schema_context(personas.acme.schema_name):
        conversation = Conversation.objects.get(pk=message.conversation_id)
        contact = Contact.objects.get(phone_number=CALLER)
    assert (conversation.status, conversation.unread_count, conversation.intent) == (
        "closed",
        0,
        "wrong_number",
    )
    assert "wrong number" in contact.tags
    assert not contact.opted_out  # not asked to stop: a person may still text them (wrong number, stop does)
    assert mailoutbox == []  # nobody needs to answer it


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "Here is a photo of the leak https://imgur.com/abc",
        "This is not working, water still everywhere",
        "who is this? I called about my furnace",
        "Who's this?",  # maybe a wrong number, maybe not: not sure enough to close
    ],
)
def test_a_real_reply_is_never_filed_away(
    platform, personas, mailoutbox, eager_alerts, django_capture_on_commit_callbacks, body
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _text(platform, personas.acme, body)
    with schema_context(personas.acme.schema_name):
        conversation = Conversation.objects.get(pk=message.conversation_id)
        contact = Contact.objects.get(phone_number=CALLER)
    assert (conversation.status, conversation.unread_count) == ("open", 1)
    assert "wrong number" not in contact.tags
    assert mailoutbox != []  # the staff are told, as for any reply


@pytest.mark.django_db
def test_nothing_is_filed_in_a_conversation_under_way(platform, personas, web):
    """Once the caller has written, or a person has answered, a reply that looks like spam or a wrong number is
    far likelier the caller: it stays in the open for a person."""
    first = _text(platform, personas.acme, "Do you do drain cleaning?")
    web(HOST, personas.alice).post(f"/inbox/{first.conversation_id}/reply/", {"body": "We do! – Alice"})
    later = _text(platform, personas.acme, "Sorry, wrong number")
    other_caller = "+13125550166"
    _text(platform, personas.acme, "Hi, is this Acme?", caller=other_caller)
    link = _text(platform, personas.acme, "Get more Google reviews! bit.ly/5star", caller=other_caller)
    with schema_context(personas.acme.schema_name):
        for message in (later, link):
            conversation = Conversation.objects.get(pk=message.conversation_id)
            assert (conversation.status, conversation.unread_count > 0) == ("open", True), message.body
        assert "wrong number" not in Contact.objects.get(phone_number=CALLER).tags


@pytest.mark.django_db
def test_wrong_number_stop_opts_out_and_tags_the_contact(platform, personas):
    _text(platform, personas.acme, "Wrong number, stop")
    with schema_context(personas.acme.schema_name):
        contact = Contact.objects.get(phone_number=CALLER)
    assert contact.opted_out and "wrong number" in contact.tags


@pytest.mark.django_db
def test_spam_is_filed_away_and_nobody_is_alerted(
    platform, personas, web, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _text(platform, personas.acme, "Get more Google reviews for your business! bit.ly/5star")
    with schema_context(personas.acme.schema_name):
        conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.status, conversation.unread_count, conversation.intent) == ("closed", 0, "spam")
    assert mailoutbox == []
    alice = web(HOST, personas.alice)
    assert "(312) 555-0155" not in alice.get("/inbox/").content.decode()  # the open tab
    assert "(312) 555-0155" in alice.get("/inbox/?tab=all&intent=spam").content.decode()


@pytest.mark.django_db
def test_with_the_rules_off_spam_and_wrong_numbers_stay_in_the_open(platform, personas):
    acme = _set(personas.acme, spam_hidden=False, wrong_number_closes=False)
    spam = _text(
        platform, acme, "Get more Google reviews for your business! bit.ly/5star", caller="+13125550171"
    )
    wrong = _text(platform, acme, "wrong number", caller="+13125550172")
    with schema_context(acme.schema_name):
        for message in (spam, wrong):
            conversation = Conversation.objects.get(pk=message.conversation_id)
            assert (conversation.status, conversation.unread_count) == ("open", 1)
        assert Contact.objects.get(phone_number="+13125550172").tags == []


@pytest.mark.django_db
def test_the_report_counts_what_replies_were_about(platform, personas, web):
    _text(platform, personas.acme, "How much for a new faucet?", caller="+13125550181")
    _text(platform, personas.acme, "what do you charge per hour", caller="+13125550182")
    _text(platform, personas.acme, "Pipe burst!! help", caller="+13125550183")
    page = web(HOST, personas.alice).get("/reports/").content.decode()
    assert "What callers' replies were about:" in page
    assert "Price question 2 · Emergency 1" in page


@pytest.mark.django_db
def test_the_api_gives_each_message_its_intent(platform, personas):
    message = _text(platform, personas.acme, "How much for a new faucet?")
    data = MessageSerializer(message).data
    assert (data["intent"], data["intent_words"]) == ("price", "how much")
    assert data["intent_confidence"] == message.intent_confidence
