"""/contacts/<id>/: the timeline, editing, blocking, and the opt-out state with its history."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django_tenants.utils import schema_context

from crm.models import Outcome
from messaging.models import ConsentEvent
from messaging.services import contact_opt_out

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"


@pytest.fixture
def pat(acme):
    return acme.contact("+13125550177", name="Pat Caller", tags=["vip"])


def _consent(personas, contact) -> list[tuple[str, str]]:
    with schema_context(personas.acme.schema_name):
        return list(ConsentEvent.objects.filter(contact=contact).values_list("kind", "source"))


def test_it_shows_every_call_text_and_outcome_newest_first(web, personas, acme, pat):
    acme.call(pat, ago=timedelta(hours=5), missed_reason="no-answer")
    acme.text(pat, "Sorry we missed your call!", ago=timedelta(hours=4, minutes=59))
    acme.text(pat, "Can you come Tuesday?", inbound=True, ago=timedelta(hours=4))
    acme.outcome(pat, Outcome.Kind.WON, value="450.00", ago=timedelta(hours=1))
    response = web(HOST, personas.alice).get(f"/contacts/{pat.pk}/")
    events = response.context["events"]
    assert [event.kind for event in events] == ["outcome", "text_in", "text_out", "call"]
    assert events[0].detail == "$450.00" and events[3].detail == "Nobody answered"
    html = response.content.decode()
    assert "Can you come Tuesday?" in html and "Text-back sent" in html and "Missed call" in html


def test_the_timeline_pages_back_in_time(web, personas, acme, pat, monkeypatch):
    monkeypatch.setattr("inbox.contact_selectors.TIMELINE_PAGE", 3)
    for minutes in range(7):
        acme.call(pat, ago=timedelta(minutes=minutes))
    client = web(HOST, personas.alice)
    seen, pages, path = [], 0, f"/contacts/{pat.pk}/"
    while path:
        response = client.get(path)
        pages += 1
        seen += [event.at for event in response.context["events"]]
        link = re.search(r'href="(\?before=[^"]+)"', response.content.decode())  # follow the page's own link
        path = f"/contacts/{pat.pk}/{unescape(link[1])}" if link else None
    assert pages == 3 and len(seen) == 7 and seen == sorted(seen, reverse=True)


def test_the_detail_takes_the_same_queries_for_a_short_or_long_history(
    web, personas, acme, pat, django_assert_num_queries
):
    client = web(HOST, personas.alice)
    counts = []
    for _ in range(2):
        with django_assert_num_queries(DETAIL_QUERIES) as captured:
            assert client.get(f"/contacts/{pat.pk}/").status_code == 200
        counts.append(len(captured))
        for n in range(20):
            acme.call(pat, ago=timedelta(minutes=n))
            acme.text(pat, f"text {n}", inbound=bool(n % 2), ago=timedelta(minutes=n))
            acme.outcome(pat, ago=timedelta(minutes=n))
        with schema_context(personas.acme.schema_name):
            contact_opt_out(
                client=personas.acme, contact=pat, source=ConsentEvent.Source.KEYWORD, keyword="STOP"
            )
    assert counts[0] == counts[1]


# Two search_path switches, domain, session, user, membership; contact, calls, texts, outcomes, consent.
DETAIL_QUERIES = 12  # 11, and one to ask whether the viewer is read-only


def test_it_saves_name_email_tags_and_notes(web, personas, acme, pat):
    response = web(HOST, personas.bob).post(
        f"/contacts/{pat.pk}/edit/",
        {
            "name": "Pat Smith",
            "email": "pat@example.com",
            "tags": " VIP, repeat customer ,vip,",
            "notes": "Gate code 1234",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/contacts/{pat.pk}/"
    fresh = acme.get(pat.pk)
    assert (fresh.name, fresh.email, fresh.tags, fresh.notes) == (
        "Pat Smith",
        "pat@example.com",
        ["vip", "repeat customer"],
        "Gate code 1234",
    )


def test_it_refuses_a_bad_email_or_an_overlong_tag_and_keeps_what_was_typed(web, personas, acme, pat):
    response = web(HOST, personas.alice).post(
        f"/contacts/{pat.pk}/edit/",
        {
            "name": "Pat Smith",
            "email": "not-an-email",
            "tags": "x" * 41,
            "notes": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html and "Tags can be 40 characters at most" in html
    assert 'value="Pat Smith"' in html
    assert "<h1>Pat Caller</h1>" in html  # the header still shows what is saved
    assert acme.get(pat.pk).name == "Pat Caller"


def test_it_blocks_and_unblocks(web, personas, acme, pat):
    client = web(HOST, personas.alice)
    client.post(f"/contacts/{pat.pk}/block/", {"blocked": "1"})
    assert acme.get(pat.pk).is_blocked
    html = client.get(f"/contacts/{pat.pk}/").content.decode()
    assert ">Unblock</button>" in html and "Blocked: no text-backs will go to this number." in html
    client.post(f"/contacts/{pat.pk}/block/", {"blocked": "0"})
    assert not acme.get(pat.pk).is_blocked


def test_only_post_changes_anything(web, personas, acme, pat):
    client = web(HOST, personas.alice)
    assert client.get(f"/contacts/{pat.pk}/block/?blocked=1").status_code == 405
    assert client.get(f"/contacts/{pat.pk}/consent/").status_code == 405
    assert not acme.get(pat.pk).is_blocked


def test_staff_opt_out_is_recorded_as_a_staff_consent_event(web, personas, acme, pat):
    response = web(HOST, personas.bob).post(f"/contacts/{pat.pk}/consent/", {"action": "opt_out"})
    assert response.status_code == 302
    assert acme.get(pat.pk).opted_out
    assert _consent(personas, pat) == [("opt_out", "staff")]


def test_staff_opt_in_needs_the_caller_asked_box(web, personas, acme, pat):
    with schema_context(personas.acme.schema_name):
        contact_opt_out(client=personas.acme, contact=pat, source=ConsentEvent.Source.KEYWORD, keyword="STOP")
    client = web(HOST, personas.alice)
    response = client.post(f"/contacts/{pat.pk}/consent/", {"action": "opt_in"})
    assert response.status_code == 400
    assert "Tick the box to confirm the caller asked to be texted again." in response.content.decode()
    assert acme.get(pat.pk).opted_out
    client.post(f"/contacts/{pat.pk}/consent/", {"action": "opt_in", "caller_asked": "on"})
    assert not acme.get(pat.pk).opted_out
    assert _consent(personas, pat) == [("opt_out", "keyword"), ("opt_in", "staff")]


def test_it_shows_the_consent_history_with_how_and_when(web, personas, pat):
    with schema_context(personas.acme.schema_name):
        contact_opt_out(client=personas.acme, contact=pat, source=ConsentEvent.Source.KEYWORD, keyword="Stop")
    html = web(HOST, personas.alice).get(f"/contacts/{pat.pk}/").content.decode()
    assert "The caller texted “Stop”" in html
    assert "Opt in again</button>" in html and "The caller asked us to text them again" in html


def test_repeating_an_opt_out_records_nothing_new(web, personas, pat):
    client = web(HOST, personas.alice)
    client.post(f"/contacts/{pat.pk}/consent/", {"action": "opt_out"})
    client.post(f"/contacts/{pat.pk}/consent/", {"action": "opt_out"})
    assert _consent(personas, pat) == [("opt_out", "staff")]


def test_an_unknown_contact_is_not_found(web, personas):
    assert web(HOST, personas.alice).get("/contacts/987654/").status_code == 404
