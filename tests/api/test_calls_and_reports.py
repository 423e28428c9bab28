"""Calls and a period's numbers through the API."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from messaging.models import ConsentEvent
from reports.rollups import rollup_rebuild_client
from reports.selectors import Period, funnel_for_client
from telephony.models import Call
from tests.factories import ConversationFactory, MessageFactory, OutboundSendFactory, OutcomeFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def call(sid: str, outcome: str, at: datetime, **fields) -> Call:
    return Call.objects.create(
        call_sid=sid,
        from_number="+13125550177",
        to_number="+13125550100",
        outcome=outcome,
        started_at=at,
        **fields,
    )


def test_calls_newest_first_and_filtered(api, personas):
    at = datetime(2026, 3, 10, 12, tzinfo=CHICAGO)
    with schema_context(personas.acme.schema_name):
        call("CA1", "missed", at, missed_reason="no-answer")
        call("CA2", "answered", at + timedelta(hours=1))
    client = api(scope="read")
    assert [c["call_sid"] for c in client.get("/api/v1/calls/").json()["results"]] == ["CA2", "CA1"]
    missed = client.get("/api/v1/calls/", {"outcome": "missed"}).json()["results"]
    assert [(c["call_sid"], c["missed_reason"]) for c in missed] == [("CA1", "no-answer")]
    since = client.get("/api/v1/calls/", {"since": (at + timedelta(minutes=30)).isoformat()}).json()[
        "results"
    ]
    assert [c["call_sid"] for c in since] == ["CA2"]


def test_bad_call_filters_are_400(api):
    response = api().get("/api/v1/calls/", {"outcome": "exploded", "since": "yesterday"})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"outcome", "since"}


def test_report_numbers_are_the_reports_in_the_clients_time_zone(api, personas):
    """The numbers of /reports/, with its definitions: a text-back counts when it went out, a reply is a
    text-back the caller answered (STOP is an opt-out, not a reply), skipped counts every text-back that did not
    go out, and days are the client's."""
    day = datetime(2026, 3, 10, tzinfo=CHICAGO)
    with schema_context(personas.acme.schema_name):
        call("CA1", "missed", day + timedelta(hours=9), in_business_hours=True)
        call("CA2", "missed", day + timedelta(hours=23, minutes=30))  # 05:30 UTC the next day: still the 10th
        call("CA3", "answered", day + timedelta(hours=10))
        call("CA4", "missed", day - timedelta(minutes=1))  # the 9th
        # A caller whose text-back was answered, then answered by staff, and who booked and won a job.
        thread = ConversationFactory()
        textback_at = day + timedelta(hours=9, minutes=1)
        MessageFactory(conversation=thread, created_at=textback_at)
        MessageFactory(conversation=thread, inbound=True, created_at=day + timedelta(hours=9, minutes=5))
        MessageFactory(conversation=thread, reply=True, created_at=day + timedelta(hours=9, minutes=15))
        OutcomeFactory(contact=thread.contact, value=Decimal("400.00"), created_at=day + timedelta(hours=12))
        OutcomeFactory(contact=thread.contact, kind="booked", created_at=day + timedelta(hours=11))
        # Another caller: a text-back answered only with STOP.
        stopped = ConversationFactory()
        MessageFactory(conversation=stopped, created_at=day + timedelta(hours=23, minutes=31))
        stop = MessageFactory(
            conversation=stopped,
            inbound=True,
            body="STOP",
            provider_sid="SMstop",
            created_at=day + timedelta(hours=23, minutes=40),
        )
        ConsentEvent.objects.create(
            contact=stopped.contact,
            kind="opt_out",
            source="keyword",
            keyword="STOP",
            message_sid=stop.provider_sid,
            created_at=stop.created_at,
        )
    OutboundSendFactory(
        client=personas.acme,
        call_sid="CA2",
        state="skipped",
        reason="recently_texted",
        event_at=day + timedelta(hours=23, minutes=30),
    )
    rollup_rebuild_client(client=personas.acme)  # what the nightly rebuild makes of rows written directly
    body = api(scope="read").get("/api/v1/reports/", {"start": "2026-03-10", "end": "2026-03-10"}).json()
    assert body == {
        "start": "2026-03-10",
        "end": "2026-03-10",
        "timezone": "America/Chicago",
        "calls": 3,
        "missed_calls": 2,
        "missed_after_hours": 0,  # CA2's hours are not known (in_business_hours unset)
        "missed_by_hour": [0] * 9 + [1] + [0] * 13 + [1],
        "answered_calls": 1,
        "textbacks_sent": 2,
        "textbacks_skipped": 1,
        "skipped_reasons": {"recently_texted": 1},
        "replies": 1,
        "reply_rate": "50.0",
        "answered_by_staff": 1,
        "first_reply_median_seconds": 600,
        "first_reply_p90_seconds": 600,
        "booked": 1,
        "won": 1,
        "recovered_revenue": "400.00",
        "booked_pending": 0,  # the booking was won an hour later
        "estimated_revenue": None,
        "opt_outs": 1,
        "delivery_failures": 0,
        # After the text-back: no booking link, intake form, follow-up or voicemail that day; the reply is
        # not read for an intent (rows written directly), tests/reports/test_after_textback.py has them.
        "links_sent": 0,
        "links_opened": 0,
        "booked_after_opening": 0,
        "intake_forms_sent": 0,
        "intake_forms_opened": 0,
        "intake_forms_answered": 0,
        "followups_sent": 0,
        "followups_recovered": 0,
        "voicemails": 0,
        "reply_intents": {},
    }
    # Exactly what the client's report page shows for the day.
    assert (
        funnel_for_client(
            client=personas.acme, period=Period(date(2026, 3, 10), date(2026, 3, 10), "America/Chicago")
        ).replies
        == body["replies"]
    )


def test_report_defaults_to_the_last_30_days(api):
    body = api(scope="read").get("/api/v1/reports/").json()
    start, end = (datetime.fromisoformat(body[k]) for k in ("start", "end"))
    assert (end - start).days == 29


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-10", "end": "2026-03-01"},
        {"start": "2024-01-01", "end": "2026-01-01"},
        {"start": "March"},
    ],
)
def test_a_bad_period_is_400(api, params):
    response = api().get("/api/v1/reports/", params)
    assert response.status_code == 400
    assert error_of(response)["fields"]


def test_another_clients_numbers_are_not_counted(api, personas):
    with schema_context(personas.bolt.schema_name):
        call("CAB", "missed", datetime(2026, 3, 10, 12, tzinfo=CHICAGO))
    rollup_rebuild_client(client=personas.bolt)
    body = api(scope="read").get("/api/v1/reports/", {"start": "2026-03-01", "end": "2026-03-31"}).json()
    assert body["calls"] == 0 and body["missed_calls"] == 0
