"""Who may use the inbox of a client's host: its people and its agency's staff. Everyone else is sent to log
in (the host logs them out), and another client's conversation does not exist here. Read-only staff read
everything and change nothing."""

import pytest
from django_tenants.utils import schema_context

from inbox.models import CannedReply, Note
from inbox.selectors import client_assignable_users
from messaging.models import Conversation, Message

from .conftest import add_conversation

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
ALLOWED = ["alice", "bob", "nina", "nate", "oscar"]
TURNED_AWAY = ["dave", "erin", "sara", "charlie"]
PAGES = ["/inbox/", "/inbox/{id}/", "/inbox/canned/"]
ACTIONS = [
    ("reply", {"body": "Hi"}),
    ("notes", {"body": "A note"}),
    ("outcome", {"kind": "booked"}),
    ("assign", {"assignee": ""}),
    ("flag", {"action": "keep"}),
    ("close", {}),
    ("reopen", {}),
    ("snooze", {"until": "1h"}),
]


@pytest.fixture
def conversation(personas):
    return add_conversation(personas.acme, name="Carl Caller", texts=["Need a plumber"], unread=1)


@pytest.mark.parametrize("who", ALLOWED)
@pytest.mark.parametrize("page", PAGES)
def test_members_and_their_agencys_staff_see_the_inbox(web, personas, conversation, who, page):
    response = web(HOST, getattr(personas, who)).get(page.format(id=conversation.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("who", ALLOWED)
def test_members_and_their_agencys_staff_may_act(web, personas, conversation, who):
    browser = web(HOST, getattr(personas, who))
    for action, data in ACTIONS:
        response = browser.post(f"/inbox/{conversation.pk}/{action}/", data)
        assert response.status_code == 302, action


@pytest.mark.parametrize("who", [*TURNED_AWAY, None])
@pytest.mark.parametrize("page", PAGES)
def test_strangers_and_anonymous_are_sent_to_log_in(web, personas, conversation, who, page):
    user = getattr(personas, who) if who else None
    response = web(HOST, user).get(page.format(id=conversation.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/inbox/")


@pytest.mark.parametrize("who", [*TURNED_AWAY, None])
def test_strangers_and_anonymous_cannot_act(web, personas, conversation, who):
    user = getattr(personas, who) if who else None
    browser = web(HOST, user)
    for action, data in ACTIONS:
        response = browser.post(f"/inbox/{conversation.pk}/{action}/", data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), action
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(direction="out").exists()
        fresh = Conversation.objects.get(pk=conversation.pk)
        assert (fresh.status, fresh.unread_count, fresh.snoozed_until) == ("open", 1, None)


def test_a_stranger_cannot_delete_a_canned_reply(web, personas):
    with schema_context(personas.acme.schema_name):
        canned = CannedReply.objects.create(title="Hi", body="Hello")
    web(HOST, personas.dave).post(f"/inbox/canned/{canned.pk}/delete/")
    with schema_context(personas.acme.schema_name):
        assert CannedReply.objects.filter(pk=canned.pk).exists()


def test_another_clients_conversation_does_not_exist_here_even_for_their_shared_agency(web, personas):
    bolts = add_conversation(personas.bolt, name="Bolt's caller", texts=["Sparks everywhere"])
    with schema_context(personas.acme.schema_name):
        assert not Conversation.objects.filter(pk=bolts.pk).exists()
    # nina runs the agency of both clients: she sees it on bolt's host, and not on acme's.
    assert web("bolt.localhost", personas.nina).get(f"/inbox/{bolts.pk}/").status_code == 200
    nina_on_acme = web(HOST, personas.nina)
    assert nina_on_acme.get(f"/inbox/{bolts.pk}/").status_code == 404
    assert nina_on_acme.post(f"/inbox/{bolts.pk}/reply/", {"body": "Hi"}).status_code == 404
    assert "Bolt's caller" not in nina_on_acme.get("/inbox/?tab=all").content.decode()
    # dave, bolt's owner, is not let in on acme's host at all.
    response = web(HOST, personas.dave).get(f"/inbox/{bolts.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_platform_host_has_no_inbox(web, personas):
    assert web("localhost", personas.nina).get("/inbox/").status_code == 404


def test_a_missing_conversation_is_404(web, personas):
    assert web(HOST, personas.alice).get("/inbox/999999999/").status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_read_only_staff_read_every_page(web, personas, conversation, reader, page):
    response = web(HOST, reader).get(page.format(id=conversation.pk))
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' not in response.content.decode().split("</header>")[1]


def test_read_only_staff_see_the_thread_without_a_reply_box_and_leave_it_unread(
    web, personas, conversation, reader
):
    html = web(HOST, reader).get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Need a plumber" in html
    assert "Your access is read-only" in html
    assert "Send</button>" not in html and "Add note" not in html
    with schema_context(personas.acme.schema_name):
        assert Conversation.objects.get(pk=conversation.pk).unread_count == 1


def test_read_only_staff_cannot_act_and_are_told_why(web, personas, conversation, reader):
    browser = web(HOST, reader)
    for action, data in ACTIONS:
        response = browser.post(f"/inbox/{conversation.pk}/{action}/", data)
        assert response.status_code == 403, action
        assert "read-only" in response.content.decode()
    assert browser.post("/inbox/canned/", {"title": "Hi", "body": "Hello"}).status_code == 403
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(direction="out").exists()
        assert not Note.objects.exists() and not CannedReply.objects.exists()
        fresh = Conversation.objects.get(pk=conversation.pk)
        assert (fresh.status, fresh.unread_count, fresh.snoozed_until) == ("open", 1, None)
    # Logging out is the one thing they may post.
    assert browser.post("/accounts/logout/").status_code == 302


def test_read_only_staff_are_not_offered_conversations_to_answer(personas, reader):
    assert reader not in client_assignable_users(client=personas.acme)
    assert personas.bob in client_assignable_users(client=personas.acme)


def test_a_read_only_member_of_one_client_is_a_stranger_on_another(web, personas, reader):
    response = web("bolt.localhost", reader).get("/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
