"""/inbox/<id>/: one caller's thread, and everything staff do in it."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact, Outcome
from inbox.models import CannedReply, Note
from inbox.services import snooze_until
from messaging.models import Conversation, Message, OutboundSend
from telephony.models import Call
from tests.factories import CallFactory, MessageFactory, OutboundSendFactory, OutcomeFactory

from .conftest import add_conversation

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


def url(conversation, action: str = "") -> str:
    return f"/inbox/{conversation.pk}/" + (f"{action}/" if action else "")


def reload(conversation) -> Conversation:
    with schema_context("c_acme"):
        return Conversation.objects.select_related("contact").get(pk=conversation.pk)


def missed_call(client, conversation, *, minutes_ago: int, state: str, reason: str = "", sid: str) -> Call:
    with schema_context(client.schema_name):
        call = CallFactory(
            call_sid=sid,
            contact=conversation.contact,
            business=str(client.phone_number),
            missed_reason=Call.MissedReason.NO_ANSWER,
            started_at=now() - timedelta(minutes=minutes_ago),
        )
    OutboundSendFactory(client=client, call_sid=sid, to_number=call.from_number, state=state, reason=reason)
    return call


def test_the_timeline_merges_calls_text_backs_messages_notes_and_outcomes_oldest_first(web, personas):
    acme = personas.acme
    conversation = add_conversation(acme, name="Tina", texts=[], minutes_ago=1)
    missed_call(acme, conversation, minutes_ago=60, state="skipped", reason="recently_texted", sid="CAfirst")
    # Another client's ledger row for a call with the same sid is not this one's.
    OutboundSendFactory(client=personas.bolt, call_sid="CAfirst", state="skipped", reason="blocked")
    missed_call(acme, conversation, minutes_ago=30, state="sent", sid="CAsecond")
    with schema_context(acme.schema_name):
        base = now() - timedelta(minutes=29)
        MessageFactory(
            conversation=conversation, body="Sorry we missed you!", call_sid="CAsecond", created_at=base
        )
        MessageFactory(
            conversation=conversation,
            inbound=True,
            body="Can you fix a leak?",
            created_at=base + timedelta(minutes=5),
        )
        MessageFactory(
            conversation=conversation,
            reply=True,
            status="failed",
            body="Yes, at 3?",
            error_code=30007,
            error_message="Carrier filtered the message",
            sent_by_id=personas.bob.pk,
            created_at=base + timedelta(minutes=6),
            sent_at=None,
        )
        Note.objects.create(
            conversation=conversation,
            author_id=personas.alice.pk,
            body="Good customer",
            created_at=base + timedelta(minutes=7),
        )
        OutcomeFactory(
            contact=conversation.contact,
            value=Decimal("480"),
            recorded_by_id=personas.alice.pk,
            created_at=base + timedelta(minutes=8),
        )
    page = web(HOST, personas.alice).get(url(conversation)).content.decode()
    html = page[page.index('<ol class="timeline">') :]  # the thread's pane (the list pane comes before it)
    order = [
        "Missed call · nobody answered",
        "Text-back not sent: this caller was already texted recently.",
        "Sorry we missed you!",
        "Can you fix a leak?",
        "Yes, at 3?",
        "Good customer",
        "Marked won · $480",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert html.count("Missed call") == 2
    assert "block list" not in html  # bolt's ledger row
    assert "Text-back · " in html and "Delivered" in html
    assert "Failed</span>: Carrier filtered the message (error 30007)" in html
    assert "Bob · " in html


def test_opening_a_thread_marks_it_read(web, personas):
    conversation = add_conversation(personas.acme, name="Rita", unread=3)
    response = web(HOST, personas.bob).get(url(conversation))
    assert response.status_code == 200
    assert reload(conversation).unread_count == 0
    assert "<title>Rita · Acme Plumbing</title>" in response.content.decode()


@pytest.mark.parametrize("how_many", [1, 20])
def test_the_thread_costs_the_same_queries_however_long(web, personas, django_assert_num_queries, how_many):
    acme = personas.acme
    conversation = add_conversation(acme, name="Long", texts=[f"text {i}" for i in range(how_many)], unread=1)
    for i in range(how_many):
        missed_call(
            acme,
            conversation,
            minutes_ago=100 + i,
            state="skipped",
            reason="blocked",
            sid=f"CA{i}x{how_many}",
        )
    with schema_context(acme.schema_name):
        for i in range(how_many):
            Note.objects.create(conversation=conversation, author_id=personas.bob.pk, body=f"note {i}")
            Outcome.objects.create(
                contact=conversation.contact, kind="booked", recorded_by_id=personas.alice.pk
            )
            CannedReply.objects.create(title=f"Canned {i}", body="On our way")
    browser = web(HOST, personas.alice)
    # SET search_path ×2, domain, session, user, membership; the conversation, marking it read; messages and
    # their photos, calls, their ledger rows, call-backs from the inbox, notes, outcomes, the people they name;
    # canned replies; the people it can be assigned to, the latest outcome, the tabs' counts (which give the
    # title's unread count); the list pane's first page (its assignees come from the people it can be assigned to)
    with django_assert_num_queries(22):  # 21, and one to ask whether the viewer is read-only
        response = browser.get(url(conversation))
    assert response.content.decode().count("note ") == how_many


def test_the_poll_answers_the_timeline_and_the_title(web, personas):
    conversation = add_conversation(personas.acme, name="Paula", texts=["Are you there?"], unread=1)
    add_conversation(personas.acme, name="Other", unread=2)
    html = web(HOST, personas.alice).get(url(conversation), HTTP_X_INBOX_POLL="1").content.decode()
    assert "<html" not in html and "Are you there?" in html
    assert 'data-title="(1) Paula · Acme Plumbing"' in html


# --- Replying ---


def test_a_reply_goes_through_the_one_send_path(web, personas):
    conversation = add_conversation(personas.acme, name="Ray", unread=1, status=Conversation.Status.CLOSED)
    response = web(HOST, personas.bob).post(url(conversation, "reply"), {"body": "  On our way!  "})
    assert response.status_code == 302 and response["Location"] == url(conversation)
    with schema_context("c_acme"):
        message = Message.objects.get(conversation=conversation, direction="out")
    assert (message.body, message.kind, message.status, message.sent_by_id) == (
        "On our way!",
        "reply",
        "queued",
        personas.bob.pk,
    )
    assert (message.encoding, message.segments) == ("GSM-7", 1)
    assert OutboundSend.objects.filter(client=personas.acme, key=f"message:{message.pk}").exists()
    conversation = reload(conversation)
    assert conversation.status == "open" and conversation.unread_count == 0


def test_a_reply_to_an_opted_out_caller_is_refused_with_a_clear_message(web, personas):
    conversation = add_conversation(personas.acme, name="Stan")
    with schema_context("c_acme"):
        Contact.objects.filter(pk=conversation.contact_id).update(opted_out=True)
    response = web(HOST, personas.alice).post(url(conversation, "reply"), {"body": "Hello?"})
    assert response.status_code == 400
    assert (
        "Stan has opted out of texts (they replied STOP), so this reply was not sent."
        in response.content.decode()
    )
    with schema_context("c_acme"):
        assert not Message.objects.filter(direction="out").exists()
    assert not OutboundSend.objects.filter(client=personas.acme, kind="message").exists()


def test_an_empty_reply_is_not_sent(web, personas):
    conversation = add_conversation(personas.acme)
    response = web(HOST, personas.alice).post(url(conversation, "reply"), {"body": "   "})
    assert response.status_code == 400
    with schema_context("c_acme"):
        assert not Message.objects.filter(direction="out").exists()


def test_canned_replies_are_offered_in_the_reply_box(web, personas):
    with schema_context("c_acme"):
        CannedReply.objects.create(title="On my way", body="On my way, be there in 20 minutes.")
    conversation = add_conversation(personas.acme)
    html = web(HOST, personas.alice).get(url(conversation)).content.decode()
    assert 'data-insert="On my way, be there in 20 minutes."' in html


# --- Assign, close, reopen, snooze, notes, outcomes ---


@pytest.mark.parametrize("who", ["bob", "nate", "nina"])
def test_it_assigns_to_the_clients_people_and_its_agencys_staff(web, personas, who):
    conversation = add_conversation(personas.acme)
    person = getattr(personas, who)
    response = web(HOST, personas.alice).post(url(conversation, "assign"), {"assignee": person.pk})
    assert response.status_code == 302
    assert reload(conversation).assigned_to_id == person.pk


@pytest.mark.parametrize("who", ["dave", "sara", "charlie"])
def test_it_does_not_assign_to_strangers(web, personas, who):
    conversation = add_conversation(personas.acme)
    web(HOST, personas.alice).post(url(conversation, "assign"), {"assignee": getattr(personas, who).pk})
    assert reload(conversation).assigned_to_id is None


def test_unassigning(web, personas):
    conversation = add_conversation(personas.acme, assigned_to_id=personas.bob.pk)
    web(HOST, personas.alice).post(url(conversation, "assign"), {"assignee": ""})
    assert reload(conversation).assigned_to_id is None


def test_close_and_reopen(web, personas):
    conversation = add_conversation(personas.acme)
    browser = web(HOST, personas.alice)
    assert browser.post(url(conversation, "close"))["Location"] == "/inbox/"
    closed = reload(conversation)
    assert closed.status == "closed" and closed.closed_at is not None
    browser.post(url(conversation, "reopen"))
    reopened = reload(conversation)
    assert reopened.status == "open" and reopened.closed_at is None


def test_snooze_for_an_hour_and_unsnooze(web, personas):
    conversation = add_conversation(personas.acme)
    browser = web(HOST, personas.alice)
    browser.post(url(conversation, "snooze"), {"until": "1h"})
    until = reload(conversation).snoozed_until
    assert timedelta(minutes=59) < until - now() <= timedelta(hours=1)
    browser.post(url(conversation, "snooze"), {"until": "none"})
    assert reload(conversation).snoozed_until is None


def test_tomorrow_8_am_is_in_the_clients_time_zone(personas):
    chicago = ZoneInfo("America/Chicago")
    late_evening = datetime(2025, 3, 8, 23, 30, tzinfo=chicago)  # the night clocks go forward
    until = snooze_until(client=personas.acme, choice="tomorrow", at=late_evening)
    assert until.astimezone(chicago) == datetime(2025, 3, 9, 8, 0, tzinfo=chicago)
    assert until.utcoffset() == timedelta(hours=-5)  # CDT by then
    early_morning = datetime(2025, 6, 2, 1, 0, tzinfo=ZoneInfo("UTC"))  # still June 1 in Chicago
    assert snooze_until(client=personas.acme, choice="tomorrow", at=early_morning) == datetime(
        2025, 6, 2, 8, 0, tzinfo=chicago
    )


def test_a_note_is_added_to_the_thread(web, personas):
    conversation = add_conversation(personas.acme)
    web(HOST, personas.bob).post(url(conversation, "notes"), {"body": "Call back after 5"})
    with schema_context("c_acme"):
        note = Note.objects.get(conversation=conversation)
    assert (note.body, note.author_id) == ("Call back after 5", personas.bob.pk)
    assert "Call back after 5" in web(HOST, personas.alice).get(url(conversation)).content.decode()


def test_outcomes_booked_won_and_lost(web, personas):
    conversation = add_conversation(personas.acme)
    browser = web(HOST, personas.alice)
    browser.post(url(conversation, "outcome"), {"kind": "booked"})
    browser.post(url(conversation, "outcome"), {"kind": "won", "value": "1250.50"})
    browser.post(url(conversation, "outcome"), {"kind": "lost", "lost_reason": "Went with a cheaper quote"})
    with schema_context("c_acme"):
        outcomes = list(Outcome.objects.filter(contact_id=conversation.contact_id).order_by("id"))
    assert [(o.kind, o.value, o.lost_reason, o.recorded_by_id) for o in outcomes] == [
        ("booked", None, "", personas.alice.pk),
        ("won", Decimal("1250.50"), "", personas.alice.pk),
        ("lost", None, "Went with a cheaper quote", personas.alice.pk),
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "won"}, "Enter what the job was worth"),
        ({"kind": "won", "value": "-5"}, "greater than or equal to 0"),
        ({"kind": "won", "value": "lots"}, "Enter a number"),
        ({"kind": "lost", "lost_reason": "  "}, "Say why it was lost"),
        ({"kind": "maybe"}, "Select a valid choice"),
    ],
)
def test_an_outcome_that_does_not_make_sense_is_refused(web, personas, data, error):
    conversation = add_conversation(personas.acme)
    response = web(HOST, personas.alice).post(url(conversation, "outcome"), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    with schema_context("c_acme"):
        assert not Outcome.objects.exists()


def test_a_won_job_may_be_worth_nothing(web, personas):
    conversation = add_conversation(personas.acme)
    web(HOST, personas.alice).post(url(conversation, "outcome"), {"kind": "won", "value": "0"})
    with schema_context("c_acme"):
        assert Outcome.objects.get().value == Decimal("0")


def test_the_reply_box_names_the_number_replies_go_from_the_hosted_one_once_it_is_hosted(web, personas):
    from accounts.models import Client

    def sending_from() -> str:
        page = web(HOST, personas.alice).get(url(conversation)).content.decode()
        return page.split("From <strong>")[1].split("</strong>")[0]

    conversation = add_conversation(personas.acme, name="Hana", texts=["Hi"], minutes_ago=1)
    textback_number = str(personas.acme.phone_number)
    assert sending_from()[-4:] == textback_number[-4:]
    Client.objects.filter(pk=personas.acme.pk).update(hosted_sms_number="+13125550777")
    assert sending_from()[-4:] == "0777"  # the business's own number, as the caller sees it
