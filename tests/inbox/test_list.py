"""/inbox/: the conversation list, as a business's staff read it."""

from datetime import timedelta

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact, Outcome
from messaging.models import Conversation

from .conftest import add_conversation

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


def rows(html: str) -> list[str]:
    """The callers of the list, in order."""
    import re

    return re.findall(r'<span class="caller">([^<]*)</span>', html)


def test_it_lists_unread_first_then_newest_activity(web, personas):
    add_conversation(personas.acme, name="Old read", minutes_ago=50)
    add_conversation(personas.acme, name="New read", minutes_ago=1)
    add_conversation(personas.acme, name="Old unread", minutes_ago=90, unread=2)
    add_conversation(personas.acme, name="New unread", minutes_ago=10, unread=1)
    html = web(HOST, personas.alice).get("/inbox/").content.decode()
    assert rows(html) == ["New unread", "Old unread", "New read", "Old read"]


def test_a_row_shows_caller_preview_time_unread_assignee_and_outcome(web, personas):
    conversation = add_conversation(
        personas.acme,
        number="+13125550188",
        texts=["Hello", "Pipe burst in the basement"],
        minutes_ago=3,
        unread=2,
        assigned_to_id=personas.bob.pk,
    )
    with schema_context(personas.acme.schema_name):
        Outcome.objects.create(contact=conversation.contact, kind="won", value="1250.00")
    html = web(HOST, personas.alice).get("/inbox/").content.decode()
    assert '<span class="caller">(312) 555-0188</span>' in html  # no name yet: the number, formatted
    assert "Pipe burst in the basement" in html and "Hello" not in html  # the last message only
    assert ">3m</time>" in html
    assert 'aria-label="2 unread">2</span>' in html
    assert "→ Bob" in html
    assert "Won $1,250" in html
    assert "<title>(1) Inbox · Acme Plumbing</title>" in html


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("open", {"Unread Ursula", "Mine Mia", "Free Fred", "Woken Wanda", "Due Dora", "Stopped Stan"}),
        ("unread", {"Unread Ursula", "Woken Wanda"}),
        ("mine", {"Mine Mia"}),
        ("unassigned", {"Unread Ursula", "Free Fred", "Woken Wanda", "Due Dora", "Stopped Stan"}),
        ("closed", {"Closed Clara"}),
        ("snoozed", {"Sleepy Sam"}),
        ("opted_out", {"Stopped Stan"}),
        (
            "all",
            {
                "Unread Ursula",
                "Mine Mia",
                "Free Fred",
                "Woken Wanda",
                "Due Dora",
                "Stopped Stan",
                "Closed Clara",
            },
        ),
    ],
)
def test_the_filters(web, personas, tab, expected):
    acme = personas.acme
    add_conversation(acme, name="Unread Ursula", unread=1)
    add_conversation(acme, name="Mine Mia", assigned_to_id=personas.alice.pk)
    add_conversation(acme, name="Free Fred")
    add_conversation(acme, name="Closed Clara", status=Conversation.Status.CLOSED, closed_at=now())
    add_conversation(acme, name="Sleepy Sam", snoozed_until=now() + timedelta(hours=1))
    # A snooze that is over, and one a new reply cut short, are back in the list.
    add_conversation(acme, name="Due Dora", snoozed_until=now() - timedelta(minutes=1))
    add_conversation(acme, name="Woken Wanda", snoozed_until=now() + timedelta(hours=1), unread=1)
    stan = add_conversation(acme, name="Stopped Stan")
    with schema_context(acme.schema_name):
        Contact.objects.filter(pk=stan.contact_id).update(opted_out=True)
    html = web(HOST, personas.alice).get(f"/inbox/?tab={tab}").content.decode()
    assert set(rows(html)) == expected


@pytest.mark.parametrize(
    "query", ["pipe", "PIPE BURST", "Jones", "555-0177", "(312) 555 0177", "+13125550177"]
)
def test_search_by_name_number_or_text(web, personas, query):
    add_conversation(personas.acme, name="Jim Jones", number="+13125550177", texts=["Pipe burst!"])
    add_conversation(personas.acme, name="Other Olga", number="+13125550166", texts=["Leaky tap"])
    html = web(HOST, personas.alice).get("/inbox/", {"q": query, "tab": "all"}).content.decode()
    assert rows(html) == ["Jim Jones"]


def test_a_number_finds_the_caller_by_number_not_in_the_texts(web, personas):
    add_conversation(personas.acme, name="Jim Jones", number="+13125550177", texts=["Pipe burst!"])
    add_conversation(personas.acme, name="Other Olga", number="+13125550166", texts=["Call Jim on 555 0177"])
    html = web(HOST, personas.alice).get("/inbox/", {"q": "555 0177", "tab": "all"}).content.decode()
    assert rows(html) == ["Jim Jones"]
    # Digits among words are text: job numbers, addresses.
    html = web(HOST, personas.alice).get("/inbox/", {"q": "on 555 0177", "tab": "all"}).content.decode()
    assert rows(html) == ["Other Olga"]


def test_an_empty_search_says_so(web, personas):
    html = web(HOST, personas.alice).get("/inbox/", {"q": "nothing like this"}).content.decode()
    assert "Nothing matches “nothing like this”." in html


def test_it_pages_by_fifty(web, personas):
    for i in range(51):
        add_conversation(personas.acme, name=f"Caller {i:02d}", minutes_ago=i + 1)
    first = web(HOST, personas.alice).get("/inbox/").content.decode()
    assert len(rows(first)) == 50 and "Page 1 of 2" in first
    second = web(HOST, personas.alice).get("/inbox/?tab=open&page=2").content.decode()
    assert rows(second) == ["Caller 50"]


@pytest.mark.parametrize("how_many", [1, 25])
def test_the_list_costs_the_same_queries_for_one_row_or_many(
    web, personas, django_assert_num_queries, how_many
):
    for i in range(how_many):
        conversation = add_conversation(
            personas.acme,
            name=f"Caller {i}",
            unread=i % 2,
            assigned_to_id=[personas.alice.pk, personas.bob.pk, None][i % 3],
        )
        with schema_context(personas.acme.schema_name):
            Outcome.objects.create(contact=conversation.contact, kind="booked")
    browser = web(HOST, personas.alice)
    # two SET search_path, the host's domain, session, user, membership; the count, the unread count for the
    # title, the page (last message and outcome are subqueries of it), the assignees
    with django_assert_num_queries(10):
        response = browser.get("/inbox/")
    assert len(rows(response.content.decode())) == how_many


def test_the_poll_answers_only_the_rows_with_the_title(web, personas):
    add_conversation(personas.acme, name="Polly", unread=3)
    response = web(HOST, personas.alice).get("/inbox/", HTTP_X_INBOX_POLL="1")
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-title="(1) Inbox · Acme Plumbing"' in html
    assert rows(html) == ["Polly"]


def test_a_huge_inbox_is_counted_only_so_far(web, personas, monkeypatch):
    from inbox import selectors as inbox_selectors
    from inbox.views import InboxPaginator

    monkeypatch.setattr(InboxPaginator, "COUNT_CAP", 2)
    monkeypatch.setattr(inbox_selectors, "PAGE_SIZE", 1)
    for n in range(4):
        add_conversation(personas.acme, name=f"Caller {n}", minutes_ago=n + 1)
    html = web("acme.localhost", personas.alice).get("/inbox/?tab=all").content.decode()
    assert "Page 1 of 3+" in html  # three pages counted, and more beyond them
    assert "Caller 0" in html


def tab_counts(html: str) -> dict[str, int]:
    import re

    return {
        label: int(n)
        for n, label in re.findall(r'<span class="tab-count" aria-label="(\d+) ([a-z ]+)">', html)
    }


def test_each_tab_counts_what_it_lists(web, personas):
    alice, bob = personas.alice, personas.bob
    add_conversation(personas.acme, name="Mine unread", unread=2, assigned_to_id=alice.pk)
    add_conversation(personas.acme, name="Bob's", assigned_to_id=bob.pk)
    add_conversation(personas.acme, name="Nobody's")
    add_conversation(personas.acme, name="Done", status=Conversation.Status.CLOSED)
    add_conversation(personas.acme, name="Later", snoozed_until=now() + timedelta(hours=2))
    add_conversation(personas.acme, name="Woke up", unread=1, snoozed_until=now() + timedelta(hours=2))
    browser = web(HOST, alice)
    counts = tab_counts(browser.get("/inbox/").content.decode())
    assert counts == {"open": 4, "unread": 2, "mine": 1, "unassigned": 2, "snoozed": 1}
    for tab, count in counts.items():
        listed = rows(browser.get("/inbox/", {"tab": tab.replace(" ", "_")}).content.decode())
        assert len(listed) == count, tab


def test_a_waiting_caller_shows_how_long_is_left_to_answer(web, personas):
    """Acme answers within 15 minutes in its business hours (Mon-Fri 8-12, 1-5, Chicago)."""
    import time_machine

    with time_machine.travel("2026-12-09 16:00:00+00:00", tick=False):  # Wednesday, 10:00 in Chicago
        add_conversation(personas.acme, name="Fresh", minutes_ago=4, unread=1)
        add_conversation(personas.acme, name="Waited", minutes_ago=40, unread=1)
        answered = add_conversation(personas.acme, name="Answered", minutes_ago=30)
        with schema_context(personas.acme.schema_name):
            answered.messages.create(
                direction="out",
                kind="reply",
                status="sent",
                body="On it",
                from_number="+13125550100",
                to_number="+1",
                created_at=now(),
            )
        html = web(HOST, personas.alice).get("/inbox/").content.decode()
    row = {name: html[html.index(f">{name}<") :][:1500] for name in ("Fresh", "Waited", "Answered")}
    assert '<span class="due">' in row["Fresh"] and "due in 11 min" in row["Fresh"]
    assert '<span class="due late">' in row["Waited"] and "late 25 min" in row["Waited"]
    assert 'class="due' not in row["Answered"].split("</li>")[0]


def test_after_hours_the_countdown_says_when_it_falls_due(web, personas):
    import time_machine

    with time_machine.travel("2026-12-11 23:30:00+00:00", tick=False):  # Friday, 5:30 pm in Chicago
        add_conversation(personas.acme, name="Late caller", minutes_ago=10, unread=1)
        html = web(HOST, personas.alice).get("/inbox/").content.decode()
    assert "due Sat 9:15 AM" in html  # Saturday 9-12: the first 15 open minutes


def test_a_missed_call_with_nothing_after_it_leads_the_row(web, personas):
    from telephony.models import Call

    conversation = add_conversation(personas.acme, name="Caller only", minutes_ago=60)
    with schema_context(personas.acme.schema_name):
        Call.objects.create(
            call_sid="CArowmissed",
            from_number=conversation.contact.phone_number,
            to_number="+13125550100",
            contact=conversation.contact,
            outcome=Call.Outcome.MISSED,
        )
    html = web(HOST, personas.alice).get("/inbox/").content.decode()
    assert '<span class="preview missed">' in html and "Missed call</span>" in html
