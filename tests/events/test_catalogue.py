"""The catalogue of domain events, walked whole: every event is published by the code, every handler takes
the event it is subscribed to, every reason has its wording, and every subscriber in the table, each of them,
stays within its statement budget on the events real webhooks and services publish.

Then the failure policy, decided once in events.bus, proven on real events: an atomic subscriber's failure rolls
the publisher back whole, a failing subscriber in the event's transaction loses only its own writes, an on-commit one never runs for a rolled-back event, and an outbox one
runs exactly once when it succeeds and again later when it fails."""

import copy
import dataclasses
import inspect
import logging
import re
import typing
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now
from django_tenants.utils import schema_context

from billing.models import MonthlyUsage
from config import subscribers
from crm.services import contact_upsert
from events import bus
from events.models import OutboxEvent
from events.outbox import outbox_drain
from inbox.services import outcome_record
from messaging import reasons
from messaging.models import OutboundSend
from messaging.services import conversation_for, send_deliver
from reports.models import DailyRollup
from telephony.events import CallMissed, CallReceived
from telephony.models import Call
from tests.webhooks import call_params, post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
OTHER = "+13125550124"  # a caller whose call is answered
REFUSED = "+13125550125"  # a number the carrier refuses texts to
DUPLICATES = ("+13125550126", "+13125550127")
STAFF_MOBILE = "+13125550199"
# Statements one subscriber may spend on one event (its savepoint is the bus's, not its own).
SUBSCRIBER_BUDGET = 8


@pytest.fixture
def platform(web):
    return web("localhost")


def _missed_call(platform, client, caller=CALLER) -> str:
    params = call_params(client, caller)
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    assert (
        post_signed(
            platform,
            "/hooks/twilio/voice/dial-complete/",
            {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
        ).status_code
        == 200
    )
    return params["CallSid"]


def _a_callers_whole_story(platform, personas, twilio) -> str:
    """A missed call through the real webhooks, its text-back sent, delivered (Twilio's price and segments), a
    reply, a STOP and a won job. Returns the CallSid."""
    call_sid = _missed_call(platform, personas.acme)
    send = OutboundSend.objects.get(client=personas.acme, key=f"call:{call_sid}")
    assert send_deliver(send_id=send.pk) == "sent"
    post_signed(
        platform,
        "/hooks/twilio/sms/status/",
        {
            "MessageSid": twilio.messages[0]["sid"],
            "MessageStatus": "delivered",
            "From": str(personas.acme.phone_number),
            "To": CALLER,
            "NumSegments": "1",
            "Price": "-0.0079",
            "PriceUnit": "USD",
        },
    )
    post_signed(
        platform, "/hooks/twilio/sms/incoming/", sms_params(personas.acme, CALLER, "Leak under the sink")
    )
    post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(personas.acme, CALLER, "STOP"))
    with schema_context(personas.acme.schema_name):
        conversation = conversation_for(contact=contact_upsert(phone_number=CALLER))
        outcome_record(
            client=personas.acme,
            conversation=conversation,
            kind="won",
            user=personas.alice,
            value=Decimal("250"),
        )
    return call_sid


# --- The table ---------------------------------------------------------------------------------------------


def test_every_event_is_published_by_the_code():
    """No dead declarations: each event is built somewhere outside the module that declares it (to be
    published). Who hears it is the table's business; one nobody hears yet reads "none yet" in the catalogue."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = {path: path.read_text() for app in root.glob("*/apps.py") for path in app.parent.rglob("*.py")}
    for event_type in bus.EVENTS.values():
        declared_in = root / (event_type.__module__.replace(".", "/") + ".py")
        built = rf"\b{event_type.__name__}\("
        assert any(re.search(built, text) for path, text in sources.items() if path != declared_in), (
            f"{event_type.__name__} is declared but never published"
        )


def test_every_handler_takes_the_event_it_is_subscribed_to():
    for subscription in bus.subscriptions():
        hints = typing.get_type_hints(subscription.handler)
        [parameter] = inspect.signature(subscription.handler).parameters
        assert issubclass(subscription.event, hints[parameter]), subscription.key  # or a base, for any event


def test_events_are_frozen_and_refuse_unknown_fields(personas):
    with pytest.raises(TypeError):
        CallMissed(client=personas.acme, call=None, colour="red")
    event = CallMissed(client=personas.acme, call=None)
    with pytest.raises(AttributeError):
        event.call = "another"


def test_every_reason_has_its_wording_for_the_inbox_and_the_reports():
    known = reasons.known()
    assert {member.value for member in reasons.SkipReason} < set(known)
    assert "usage_limit" in known  # billing's own, registered next to its veto
    for value, wording in known.items():
        assert wording.text and wording.text[0].islower() and not wording.text.endswith("."), value
        assert wording.label and wording.label[0].isupper(), value


def test_a_reason_nobody_declared_is_refused_on_every_write(personas, twilio):
    """On the model, not only in the send path: save(), update() and bulk_create() (the demo history's) refuse
    it, and full_clean() says why; blank, a SkipReason and an edge's registered reason are written."""
    from django.core.exceptions import ValidationError

    from messaging.services import _finish

    def send(key="call:CAx", **fields):
        return OutboundSend(
            client=personas.acme, kind=OutboundSend.Kind.TEXT_BACK, key=key, to_number=CALLER, **fields
        )

    row = send()
    row.save()
    with pytest.raises(ValueError, match="not a declared reason"), transaction.atomic():
        _finish(row, OutboundSend.State.SKIPPED, reason="felt_like_it")
    with pytest.raises(ValueError, match="not a declared reason"), transaction.atomic():
        OutboundSend.objects.filter(pk=row.pk).update(reason="felt_like_it")
    with pytest.raises(ValueError, match="not a declared reason"), transaction.atomic():
        OutboundSend.objects.bulk_create([send(key="call:CAy", reason="felt_like_it")])
    with pytest.raises(ValidationError, match="not a declared reason"):
        send(key="call:CAz", reason="felt_like_it").full_clean()
    _finish(row, OutboundSend.State.SKIPPED, reason=reasons.SkipReason.BLOCKED)
    assert OutboundSend.objects.get(pk=row.pk).reason == "blocked"
    OutboundSend.objects.filter(pk=row.pk).update(reason="usage_limit")  # billing's, registered with its veto
    OutboundSend.objects.bulk_create(
        [send(key="call:CAy", reason=""), send(key="call:CAw", reason="landline")]
    )


def test_an_events_reason_is_a_declared_reason_even_back_from_the_outbox(personas):
    from messaging.events import TextbackSkipped

    assert typing.get_type_hints(TextbackSkipped)["reason"] is reasons.Reason
    assert reasons.Reason("blocked") is reasons.SkipReason.BLOCKED
    assert isinstance(reasons.Reason("usage_limit"), reasons.Reason)
    with pytest.raises(ValueError, match="not a declared reason"):
        reasons.Reason("felt_like_it")
    send = OutboundSend.objects.create(
        client=personas.acme, kind=OutboundSend.Kind.TEXT_BACK, key="call:CAr", to_number=CALLER
    )
    event = TextbackSkipped(client=personas.acme, send=send, reason=reasons.SkipReason.LANDLINE)
    data = bus.event_to_data(event)
    assert data["reason"] == "landline"
    again = bus.event_from_data(event.name, data, client=personas.acme)
    assert again.reason is reasons.SkipReason.LANDLINE


def _the_rest_of_the_catalogue(platform, personas, twilio) -> str:
    """What one caller's story does not reach, each through its own real path: an answered call and its final
    status; a text-back the carrier refuses for good (failed, skipped, opted out by the carrier); a staff reply
    that is not delivered; an emergency read in a reply, and URGENT at a business that acts on it, with the AI
    receptionist on; an alert texted to one of the business's own people; two duplicate contacts merged.
    Returns the refused text-back's CallSid. A new event, or one made public, is driven here."""
    from accounts.models import Client
    from crm.services import contact_merge
    from messaging.services import message_queue, staff_text_send

    acme = personas.acme
    Client.objects.filter(pk=acme.pk).update(
        urgent_keywords=True, emergency_alerts=True, receptionist_on=True
    )
    params = call_params(acme, OTHER)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    pressed_1 = {"CallSid": sid("CA"), "ParentCallSid": params["CallSid"], "Digits": "1"}
    post_signed(platform, f"/hooks/twilio/voice/screen-result/?c={acme.slug}", pressed_1)
    dialled = {"DialCallStatus": "completed", "DialCallDuration": "42"}
    assert (
        post_signed(platform, "/hooks/twilio/voice/dial-complete/", {**params, **dialled}).status_code == 200
    )
    ended = {"CallStatus": "completed", "CallDuration": "60"}
    assert post_signed(platform, "/hooks/twilio/voice/status/", {**params, **ended}).status_code == 200

    twilio.reject(REFUSED, 21610)
    refused = _missed_call(platform, acme, caller=REFUSED)
    assert send_deliver(send_id=OutboundSend.objects.get(key=f"call:{refused}").pk).startswith("failed")

    for body in ("My basement is flooding, water coming through the wall", "URGENT"):
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(acme, OTHER, body))
    with schema_context(acme.schema_name):
        reply = message_queue(
            client=acme,
            contact=contact_upsert(phone_number=OTHER),
            body="We can come at 3",
            kind="reply",
            sent_by_id=personas.alice.pk,
        )
    assert send_deliver(send_id=OutboundSend.objects.get(message_id=reply.pk).pk) == "sent"
    post_signed(
        platform,
        "/hooks/twilio/sms/status/",
        {
            "MessageSid": twilio.messages_to(OTHER)[-1]["sid"],
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
            "From": str(acme.phone_number),
            "To": OTHER,
        },
    )

    with schema_context(acme.schema_name), transaction.atomic():
        assert staff_text_send(client=acme, to_number=STAFF_MOBILE, body="URGENT: call back", source="test:1")
        kept, duplicate = (contact_upsert(phone_number=number) for number in DUPLICATES)
        conversation_for(contact=kept), conversation_for(contact=duplicate)
        contact_merge(client=acme, into=kept, other=duplicate)
    return refused


@pytest.fixture
def published():
    """Every event published during the test, as published: its rows copied then, so that one the publisher
    deletes after (a merged duplicate) keeps the id its subscribers saw."""
    log: list[bus.Event] = []

    def record(event: bus.Event) -> None:
        fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
        log.append(type(event)(**{k: copy.copy(v) if isinstance(v, Model) else v for k, v in fields.items()}))

    record.__qualname__ = "published"
    bus.install(
        bus.subscriptions() + [bus.Subscription(e, record, bus.Policy.ATOMIC) for e in bus.EVENTS.values()],
        bus.vetoes(),
    )
    yield log
    bus.load()


def test_every_subscriber_stays_within_its_statement_budget(platform, personas, twilio, receiver, published):
    """Every subscription in the table is measured: each event of a whole missed call (through the real
    webhooks and the send path), a reply, a delivery callback with a price, a STOP, a won job, and the rest of
    the catalogue (above), published to an endpoint that wants every public event, is handed again to each of
    its subscribers, one at a time, counting statements; each run is rolled back."""
    from api.services import webhook_endpoint_create

    webhook_endpoint_create(
        url=receiver.url,
        events=[e.name for e in bus.public_events()],
        created_by=personas.alice,
        client=personas.acme,
    )
    _a_callers_whole_story(platform, personas, twilio)
    _the_rest_of_the_catalogue(platform, personas, twilio)

    measured = set()
    for event in published:
        for subscription in subscribers.SUBSCRIPTIONS:
            if subscription.event is not type(event):
                continue
            if subscription.when is not None and not subscription.when(event):
                continue
            with schema_context(personas.acme.schema_name), CaptureQueriesContext(connection) as queries:
                try:
                    with transaction.atomic():
                        subscription.handler(event)
                        raise _RollBack
                except _RollBack:
                    pass
            spent = len(queries) - 2  # the savepoint this test opened and rolled back
            assert spent <= SUBSCRIBER_BUDGET, (
                subscription.key,
                spent,
                [q["sql"][:120] for q in queries.captured_queries],
            )
            measured.add(subscription.key)
    unmeasured = sorted({s.key for s in subscribers.SUBSCRIPTIONS} - measured)
    assert not unmeasured, (
        "never published (or never wanted by its `when`) in the stories above: drive it through its real path "
        f"in _the_rest_of_the_catalogue: {unmeasured}"
    )


class _RollBack(Exception):
    pass


# --- The failure policy ------------------------------------------------------------------------------------


@pytest.fixture
def empty_outbox():
    """No rows but the test's own (inside its transaction; whatever a stack test left comes back after)."""
    OutboxEvent.objects.all().delete()


@pytest.fixture
def table():
    """Install the real table plus extra subscriptions for one test; the real table comes back after."""

    def install(*extra, vetoes=()):
        bus.install(bus.subscriptions() + list(extra), bus.vetoes() + list(vetoes))

    yield install
    bus.load()


def _boom(event: CallReceived) -> None:
    raise RuntimeError("a bug in some counter")


def test_a_failing_subscriber_in_the_transaction_loses_only_its_own_writes(platform, personas, table, caplog):
    table(bus.Subscription(CallReceived, _boom, bus.Policy.IN_TRANSACTION))
    calls_before, billed_before = _rollup_calls(personas.acme), _billed_calls(personas.acme)
    with caplog.at_level(logging.ERROR, logger="events.bus"):
        call_sid = _missed_call(platform, personas.acme)
    with schema_context(personas.acme.schema_name):
        assert Call.objects.get(call_sid=call_sid).outcome == Call.Outcome.MISSED  # the event stands
    assert OutboundSend.objects.filter(
        client=personas.acme, key=f"call:{call_sid}"
    ).exists()  # the caller is owed
    assert _rollup_calls(personas.acme) == calls_before + 1  # reports
    assert _billed_calls(personas.acme) == billed_before + 1  # billing, in the same savepoint as the bug
    assert "a bug in some counter" in caplog.text and "_boom" in caplog.text


def _rollup_calls(client) -> int:
    return sum(DailyRollup.objects.filter(client=client).values_list("calls", flat=True))


def _billed_calls(client) -> int:
    return sum(MonthlyUsage.objects.filter(client=client).values_list("calls", flat=True))


def _boom_on_missed(event: CallMissed) -> None:
    raise RuntimeError("a step of the work failed")


def test_an_atomic_subscriber_fails_its_publishers_whole_transaction(personas, table):
    """What a merge relies on (tests/crm/test_merge.py proves it there): no savepoint, no logging, the
    publisher's transaction rolls back whole."""
    from telephony.services import call_mark_missed

    table(bus.Subscription(CallMissed, _boom_on_missed, bus.Policy.ATOMIC))
    with schema_context(personas.acme.schema_name):
        call = Call.objects.create(call_sid="CAatomic", from_number=CALLER, to_number="+13125550100")
        with pytest.raises(RuntimeError, match="a step of the work failed"), transaction.atomic():
            call_mark_missed(client=personas.acme, call=call, reason="no-answer")
        assert Call.objects.get(pk=call.pk).outcome != Call.Outcome.MISSED
    assert not OutboundSend.objects.filter(client=personas.acme, key="call:CAatomic").exists()


ran_on_commit = []


def _remember(event: CallMissed) -> None:
    ran_on_commit.append(event.call.call_sid)


def test_an_on_commit_subscriber_never_hears_a_rolled_back_event(
    personas, table, django_capture_on_commit_callbacks
):
    from telephony.services import call_mark_missed

    table(bus.Subscription(CallMissed, _remember, bus.Policy.ON_COMMIT))
    ran_on_commit.clear()
    with schema_context(personas.acme.schema_name):
        kept = Call.objects.create(call_sid="CAkept", from_number=CALLER, to_number="+13125550100")
        dropped = Call.objects.create(call_sid="CAdropped", from_number=CALLER, to_number="+13125550100")
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                call_mark_missed(client=personas.acme, call=dropped, reason="no-answer")
                raise RuntimeError("the webhook failed after")
            call_mark_missed(client=personas.acme, call=kept, reason="no-answer")
    assert ran_on_commit == ["CAkept"]


outbox_runs = []


def _flaky(event: CallMissed) -> None:
    outbox_runs.append(event.call.call_sid)
    if len(outbox_runs) == 1:
        raise RuntimeError("the receiver's first try fails")


def _steady(event: CallMissed) -> None:
    outbox_runs.append(f"steady:{event.call.call_sid}")


def test_an_outbox_subscriber_runs_once_when_it_succeeds_and_again_when_it_failed(
    personas, table, time_machine, empty_outbox
):
    from telephony.services import call_mark_missed

    table(
        bus.Subscription(CallMissed, _flaky, bus.Policy.OUTBOX),
        bus.Subscription(CallMissed, _steady, bus.Policy.OUTBOX),
    )
    outbox_runs.clear()
    with schema_context(personas.acme.schema_name):
        call = Call.objects.create(call_sid="CAout", from_number=CALLER, to_number="+13125550100")
        call_mark_missed(client=personas.acme, call=call, reason="no-answer")
    row = OutboxEvent.objects.get()
    assert (row.name, row.client_id, row.data["call"]) == ("call.missed", personas.acme.pk, call.pk)
    assert outbox_runs == []  # nothing ran in the event's transaction

    assert outbox_drain() == 1
    assert outbox_runs == ["CAout", "steady:CAout"]
    row.refresh_from_db()
    assert (row.pending, row.attempts) == (
        [f"{_flaky.__module__}._flaky@call.missed"],
        1,
    ) and "first try" in row.last_error
    assert outbox_drain() == 0  # not due yet: it backs off

    time_machine.move_to(now() + timedelta(minutes=1))
    assert outbox_drain() == 1
    assert outbox_runs == ["CAout", "steady:CAout", "CAout"]  # only the one that failed ran again
    assert not OutboxEvent.objects.exists()


def test_an_event_that_rolls_back_leaves_nothing_in_the_outbox(personas, table, empty_outbox):
    from telephony.services import call_mark_missed

    table(bus.Subscription(CallMissed, _steady, bus.Policy.OUTBOX))
    with schema_context(personas.acme.schema_name):
        call = Call.objects.create(call_sid="CAgone", from_number=CALLER, to_number="+13125550100")
        with pytest.raises(RuntimeError), transaction.atomic():
            call_mark_missed(client=personas.acme, call=call, reason="no-answer")
            raise RuntimeError("rolled back")
    assert not OutboxEvent.objects.exists()


def test_a_veto_stops_a_text_back_with_its_registered_reason(personas, twilio, table):
    from messaging.events import TextbackCheck
    from messaging.services import textback_schedule

    reason = reasons.register("test_holiday", text="the test says no", label="Test says no")
    table(vetoes=[bus.Veto(TextbackCheck, lambda check: reason if check.client == personas.acme else None)])
    with schema_context(personas.acme.schema_name):
        send = textback_schedule(client=personas.acme, call_sid="CAveto", caller=CALLER, missed_at=now())
    assert send_deliver(send_id=send.pk) == "skipped: test_holiday"
    assert reasons.reason_text(OutboundSend.objects.get(pk=send.pk).reason) == "the test says no"
    assert twilio.messages == []


# --- Public events -----------------------------------------------------------------------------------------


def test_every_public_event_has_a_label_and_a_payload_built_by_the_apis_serializers(personas):
    """Made from the event's fields, with no list to keep: each row it carries shows the REST resource's fields
    (api.serializers), and a sample of it (what Zapier and Make show) has every field of its payload."""
    import dataclasses

    from api.payloads import OVERRIDES, payload_for, payload_serializer, rest_serializer, sample_event

    assert bus.public_events()
    for event_type in bus.public_events():
        assert event_type.label, event_type.name
        sample = sample_event(event_type, personas.acme)
        payload = payload_for(sample)
        assert set(payload) == set(payload_serializer(event_type)().fields), event_type.name
        if event_type in OVERRIDES:
            continue
        assert set(payload) == {f.name for f in dataclasses.fields(event_type)} - {"client"}
        for field in dataclasses.fields(event_type):
            row = getattr(sample, field.name)
            if isinstance(row, Model) and field.name != "client":
                assert payload[field.name] == rest_serializer(type(row))(row).data, (
                    event_type.name,
                    field.name,
                )


def test_every_public_event_is_delivered_with_the_rest_resources_fields(
    platform, personas, twilio, receiver, empty_outbox
):
    """The stories of the budget test (a missed call, its text-back, a reply, a STOP, a won job, then the rest
    of the catalogue), each public event delivered to an endpoint that wants them all, with the fields the REST
    API gives for the same objects."""
    from api.models import WebhookDelivery
    from api.serializers import CallSerializer, ContactSerializer, MessageSerializer, OutcomeSerializer
    from api.services import webhook_endpoint_create
    from crm.models import Contact, Outcome
    from messaging.models import Message

    endpoint = webhook_endpoint_create(
        url=receiver.url,
        events=[e.name for e in bus.public_events()],
        created_by=personas.alice,
        client=personas.acme,
    )
    call_sid = _a_callers_whole_story(platform, personas, twilio)
    refused = _the_rest_of_the_catalogue(platform, personas, twilio)
    assert not WebhookDelivery.objects.exists()  # nothing was written in the webhooks' own transactions
    outbox_drain()

    data = {}
    for delivery in endpoint.deliveries.order_by("id"):
        data.setdefault(delivery.event, delivery.payload["data"])
    assert set(data) == {e.name for e in bus.public_events()}
    with schema_context(personas.acme.schema_name):
        call = Call.objects.get(call_sid=call_sid)
        textback = Message.objects.get(kind=Message.Kind.TEXT_BACK, to_number=CALLER)
        reply = Message.objects.get(body="Leak under the sink")
        contact = Contact.objects.get(phone_number=CALLER)
        outcome = Outcome.objects.get()
        assert data["call.missed"]["call"] == CallSerializer(call).data
        assert data["textback.sent"] == {"call_sid": call_sid, "message": MessageSerializer(textback).data}
        assert data["message.received"]["message"] == MessageSerializer(reply).data
        assert (data["message.received"]["keyword"], data["message.received"]["filed"]) == (None, False)
        assert data["contact.opted_out"]["contact"]["id"] == contact.pk
        assert set(data["contact.opted_out"]["contact"]) == set(ContactSerializer(contact).data)
        assert data["conversation.outcome"]["outcome"] == OutcomeSerializer(outcome).data
    assert data["textback.skipped"] == {
        "call_sid": refused,
        "to_number": REFUSED,
        "reason": "opted_out",  # the carrier's 21610: the caller had opted out
        "reason_text": "the caller has opted out of texts",
    }


def test_an_endpoint_can_only_want_events_the_catalogue_offers(personas, receiver):
    from django.core.exceptions import ValidationError

    from api.services import webhook_endpoint_create

    with pytest.raises(ValidationError, match="No such event: call.answered"):
        webhook_endpoint_create(
            url=receiver.url,
            events=["call.missed", "call.answered"],
            created_by=personas.alice,
            client=personas.acme,
        )


def test_the_readmes_event_table_is_the_catalogue():
    from pathlib import Path

    from events.catalogue import readme_with_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert readme_with_table(readme) == readme, (
        "README's table of domain events is not the catalogue: run `./run manage event_catalogue --write`"
    )


def test_the_openapi_schema_describes_each_public_event_as_a_webhook(web, personas):
    response = web("acme.localhost").get("/api/schema/", {"format": "json"})
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == {e.name for e in bus.public_events()}
    body = schema["webhooks"]["call.missed"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert {"id", "type", "created_at", "client", "data"} <= set(component["properties"])
