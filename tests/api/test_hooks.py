"""REST hooks for Zapier and Make: they subscribe a URL to an event, get each event signed and retried like any
webhook, unsubscribe (by id, or by URL in the query string or a JSON body), and a target that is gone is retried and then turned off; plus the samples their set-up
screens read and the actions they call."""

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils.timezone import now
from django_tenants.utils import schema_context

from api.models import WebhookDelivery, WebhookEndpoint
from api.payloads import payload_serializer
from api.services import apikey_revoke, webhook_delivery_attempt
from crm.models import Contact, Outcome
from events.bus import public_events
from events.outbox import outbox_drain
from messaging.services import contact_opt_out

from .conftest import BOLT, CEDAR, PLATFORM, error_of
from .test_webhooks import verify

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"


def subscribe(client, receiver, event="call.missed"):
    return client.post("/api/v1/hooks/", {"target_url": receiver.url, "event": event})


def miss_a_call(client, call_id="pbx-1", number=CALLER):
    response = client.post(
        "/api/v1/calls/missed/",
        {"call_id": call_id, "from_number": number, "called_at": (now() - timedelta(minutes=1)).isoformat()},
    )
    assert response.status_code == 201, response.content
    outbox_drain()  # what a worker does soon after: the deliveries are written


def attempt_all(endpoint_id: int) -> list[str]:
    return [
        webhook_delivery_attempt(delivery_id=pk)
        for pk in WebhookDelivery.objects.filter(endpoint_id=endpoint_id).values_list("pk", flat=True)
    ]


def test_a_subscribed_url_gets_each_event_signed_with_the_hooks_secret(api, receiver):
    client = api()
    response = subscribe(client, receiver)
    assert response.status_code == 201, response.content
    hook = response.json()
    assert (hook["target_url"], hook["event"], hook["is_active"]) == (receiver.url, "call.missed", True)
    assert hook["secret"].startswith("whsec_")
    assert [h["id"] for h in client.get("/api/v1/hooks/").json()["results"]] == [hook["id"]]

    miss_a_call(client)
    assert attempt_all(hook["id"]) == ["delivered"]
    [(headers, body)] = receiver.requests
    assert verify(hook["secret"], headers, body)
    delivered = json.loads(body)
    assert delivered["type"] == "call.missed"
    assert delivered["data"]["call"]["call_sid"] == "ext:pbx-1"
    assert delivered["data"]["call"]["from_number"] == CALLER


def test_subscribing_the_same_url_to_the_same_event_again_finds_the_first(api, receiver):
    client = api()
    first = subscribe(client, receiver).json()
    again = subscribe(client, receiver)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    other_event = subscribe(client, receiver, event="message.received")
    assert other_event.status_code == 201 and other_event.json()["id"] != first["id"]
    miss_a_call(client)
    assert attempt_all(first["id"]) == ["delivered"]
    assert len(receiver.requests) == 1  # one event, one delivery


def test_an_unsubscribed_url_hears_nothing_more(api, receiver):
    client = api()
    hook = subscribe(client, receiver).json()
    response = client.http.delete(f"/api/v1/hooks/{hook['id']}/", **client.headers)
    assert response.status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=hook["id"]).exists()
    miss_a_call(client)
    assert not WebhookDelivery.objects.exists()
    assert client.http.delete(f"/api/v1/hooks/{hook['id']}/", **client.headers).status_code == 404


def test_unsubscribing_by_url_removes_that_urls_hooks_only(api, receiver):
    client = api()
    missed = subscribe(client, receiver).json()
    received = subscribe(client, receiver, event="message.received").json()
    other = client.post(
        "/api/v1/hooks/", {"target_url": "https://hooks.zapier.com/other", "event": "call.missed"}
    ).json()
    path = "/api/v1/hooks/?" + urlencode({"target_url": receiver.url, "event": "message.received"})
    assert client.http.delete(path, **client.headers).status_code == 204
    assert set(WebhookEndpoint.objects.values_list("pk", flat=True)) == {missed["id"], other["id"]}
    path = "/api/v1/hooks/?" + urlencode({"target_url": receiver.url})
    assert client.http.delete(path, **client.headers).status_code == 204
    assert client.http.delete(path, **client.headers).status_code == 404
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [other["id"]]
    assert received["id"] != missed["id"]
    bolt = api(host=BOLT, owner="bolt")  # another client's key finds none of acme's
    other_path = "/api/v1/hooks/?" + urlencode({"target_url": "https://hooks.zapier.com/other"})
    assert bolt.http.delete(other_path, **bolt.headers).status_code == 404
    assert client.http.delete("/api/v1/hooks/", **client.headers).status_code == 400


def _delete_json(client, body: str):
    return client.http.delete("/api/v1/hooks/", body, content_type="application/json", **client.headers)


def test_unsubscribing_with_a_json_body_as_zapier_sends_it(api, receiver):
    client = api()
    missed = subscribe(client, receiver).json()
    received = subscribe(client, receiver, event="message.received").json()
    body = json.dumps({"target_url": receiver.url, "event": "message.received", "id": received["id"]})
    assert _delete_json(client, body).status_code == 204
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [missed["id"]]
    # Another client's key finds none of acme's, body or not.
    bolt = api(host=BOLT, owner="bolt")
    assert _delete_json(bolt, json.dumps({"target_url": receiver.url})).status_code == 404
    assert _delete_json(client, json.dumps({"target_url": receiver.url})).status_code == 204
    assert not WebhookEndpoint.objects.exists()
    miss_a_call(client)
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("{}", "target_url"),
        ('{"target_url": 42}', "target_url"),
        ('{"target_url": "https://hooks.zapier.com/x", "event": ["call.missed"]}', "event"),
        ('["https://hooks.zapier.com/x"]', "JSON object"),
        ("{not json", "JSON parse error"),
    ],
)
def test_a_bad_unsubscribe_body_is_400_saying_why(api, receiver, body, said):
    client = api()
    subscribe(client, receiver)
    response = _delete_json(client, body)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert said in error["fields"] or said in error["message"]
    assert WebhookEndpoint.objects.count() == 1


def test_a_dead_target_is_retried_then_turned_off_and_a_new_subscription_revives_it(api, receiver):
    receiver.statuses = [502]
    client = api()
    hook = subscribe(client, receiver).json()
    miss_a_call(client)
    delivery = WebhookDelivery.objects.get(endpoint_id=hook["id"])
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome == "retry in 60 s"
    while outcome.startswith("retry"):
        delivery.refresh_from_db()
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
            outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert outcome == "gave up"
    assert len(receiver.requests) >= 10
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    assert not endpoint.is_active
    assert endpoint.disabled_reason == "Its deliveries failed for a day."
    shown = client.get(f"/api/v1/hooks/{hook['id']}/").json()
    assert (shown["is_active"], shown["disabled_reason"]) == (False, "Its deliveries failed for a day.")

    miss_a_call(client, call_id="pbx-2", number="+13125550177")  # turned off: nothing is written for it
    assert WebhookDelivery.objects.filter(endpoint_id=hook["id"]).count() == 1

    receiver.statuses = [200]
    assert subscribe(client, receiver).status_code == 200  # the tool turns the automation back on
    miss_a_call(client, call_id="pbx-3", number="+13125550178")
    assert "delivered" in attempt_all(hook["id"])


def test_a_target_that_answers_410_is_turned_off_at_once(api, receiver):
    receiver.statuses = [410]
    client = api()
    hook = subscribe(client, receiver).json()
    miss_a_call(client)
    assert attempt_all(hook["id"]) == ["gave up"]
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "Its target answered 410 Gone.")
    assert len(receiver.requests) == 1


def test_revoking_the_key_turns_its_hooks_off(api, receiver):
    client = api()
    hook = subscribe(client, receiver).json()
    apikey_revoke(api_key=WebhookEndpoint.objects.get(pk=hook["id"]).api_key)
    assert not WebhookEndpoint.objects.get(pk=hook["id"]).is_active


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"target_url": "not a url", "event": "call.missed"}, {"target_url"}),
        ({"target_url": "https://hooks.zapier.com/1", "event": "call.exploded"}, {"event"}),
        ({}, {"target_url", "event"}),
    ],
)
def test_a_bad_subscription_is_400_naming_the_field(api, body, fields):
    response = api().post("/api/v1/hooks/", body)
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == fields
    assert not WebhookEndpoint.objects.exists()


def test_in_production_a_private_target_is_refused(api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    response = api().post("/api/v1/hooks/", {"target_url": "https://127.0.0.1/hook", "event": "call.missed"})
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"target_url"}


def test_a_read_only_key_reads_samples_but_cannot_subscribe(api, receiver):
    client = api(scope="read")
    assert subscribe(client, receiver).status_code == 403
    assert client.get("/api/v1/hooks/samples/call.missed/").status_code == 200


def test_another_clients_hooks_are_not_there(api, receiver):
    hook = subscribe(api(), receiver).json()
    bolt = api(host=BOLT, owner="bolt")
    assert bolt.get("/api/v1/hooks/").json()["results"] == []
    assert bolt.get(f"/api/v1/hooks/{hook['id']}/").status_code == 404
    assert bolt.http.delete(f"/api/v1/hooks/{hook['id']}/", **bolt.headers).status_code == 404
    assert api(owner="bolt").get("/api/v1/hooks/").status_code == 404  # bolt's key on acme's host
    assert WebhookEndpoint.objects.filter(pk=hook["id"]).exists()
    # bolt's hook hears bolt's calls, not acme's.
    bolt_hook = subscribe(bolt, receiver).json()
    miss_a_call(api())
    assert not WebhookDelivery.objects.filter(endpoint_id=bolt_hook["id"]).exists()


def test_a_sample_of_every_event_has_the_fields_of_a_real_delivery(api, personas):
    client = api(scope="read")
    events = client.get("/api/v1/hooks/events/").json()
    assert [e["name"] for e in events] == [public.name for public in public_events()]
    for public in public_events():
        response = client.get(f"/api/v1/hooks/samples/{public.name}/")
        assert response.status_code == 200
        [sample] = response.json()
        assert set(sample) == {"id", "type", "created_at", "client", "data"}
        assert sample["type"] == public.name
        assert sample["client"]["slug"] == personas.acme.slug
        assert set(sample["data"]) == set(payload_serializer(public)().fields), public.name
    assert client.get("/api/v1/hooks/samples/call.exploded/").status_code == 404


def test_a_samples_fields_are_those_of_a_delivered_event(api, receiver):
    """Not only the same names at the top: the same nested fields, so a Zap mapped on the sample works."""
    client = api()
    hook = subscribe(client, receiver).json()
    miss_a_call(client)
    attempt_all(hook["id"])
    delivered = json.loads(receiver.requests[0][1])
    [sample] = client.get("/api/v1/hooks/samples/call.missed/").json()
    assert set(sample["data"]["call"]) == set(delivered["data"]["call"])


def test_an_agencys_hook_hears_every_client_of_the_agency_and_no_other(api, personas, receiver):
    """On the agency's host, with an agency key: one Zap for all of the agency's clients."""
    agency = api(host=PLATFORM, owner="northwind")
    response = subscribe(agency, receiver)
    assert response.status_code == 201, response.content
    hook = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    assert (endpoint.agency, endpoint.client) == (personas.northwind, None)
    miss_a_call(api(), call_id="acme-1")
    miss_a_call(api(host=BOLT, owner="bolt"), call_id="bolt-1")
    miss_a_call(api(host=CEDAR, owner="cedar"), call_id="cedar-1")  # southpeak's client
    assert attempt_all(hook["id"]) == ["delivered", "delivered"]
    slugs = {json.loads(body)["client"]["slug"] for _, body in receiver.requests}
    assert slugs == {"acme", "bolt"}
    [sample] = agency.get("/api/v1/hooks/samples/call.missed/").json()
    assert sample["client"]["slug"] in {"acme", "bolt"}
    # The agency's hooks are not a client's, and another agency sees none of them.
    assert api().get("/api/v1/hooks/").json()["results"] == []
    southpeak = api(host=PLATFORM, owner="southpeak")
    assert southpeak.get("/api/v1/hooks/").json()["results"] == []
    assert southpeak.get(f"/api/v1/hooks/{hook['id']}/").status_code == 404
    assert southpeak.http.delete(f"/api/v1/hooks/{hook['id']}/", **southpeak.headers).status_code == 404
    assert agency.http.delete(f"/api/v1/hooks/{hook['id']}/", **agency.headers).status_code == 204


def test_a_clients_key_has_no_hooks_on_the_agencys_host(api):
    assert api(host=PLATFORM, owner="acme").get("/api/v1/hooks/").status_code == 404


# --- Actions -----------------------------------------------------------------------------------------------


def test_recording_an_outcome_by_phone_number(api, personas, receiver):
    client = api()
    miss_a_call(client)
    hook = subscribe(client, receiver, event="conversation.outcome").json()
    response = client.post("/api/v1/outcomes/", {"phone_number": CALLER, "kind": "won", "value": "450.00"})
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["value"]) == ("won", "450.00")
    with schema_context(personas.acme.schema_name):
        outcome = Outcome.objects.get()
        assert (outcome.contact.phone_number, outcome.value) == (CALLER, Decimal("450.00"))
    outbox_drain()
    assert attempt_all(hook["id"]) == ["delivered"]
    assert json.loads(receiver.requests[0][1])["data"]["outcome"]["value"] == "450.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone_number": "+13125550999", "kind": "booked"}, "phone_number"),  # nobody with this number
        ({"contact_id": 999999, "kind": "booked"}, "contact_id"),
        ({"phone_number": CALLER, "kind": "won"}, "value"),
        ({"phone_number": CALLER, "kind": "lost"}, "lost_reason"),
        ({"phone_number": CALLER, "kind": "exploded"}, "kind"),
    ],
)
def test_a_bad_outcome_is_400_naming_the_field(api, personas, body, field):
    client = api()
    miss_a_call(client)
    response = client.post("/api/v1/outcomes/", body)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    with schema_context(personas.acme.schema_name):
        assert not Outcome.objects.exists()


def test_texting_a_caller_who_opted_out_is_refused(api, personas):
    """The text action holds the consent rules: a caller who opted out is 409, a stranger is never texted."""
    client = api()
    miss_a_call(client)
    with schema_context(personas.acme.schema_name):
        contact_opt_out(
            client=personas.acme,
            contact=Contact.objects.get(phone_number=CALLER),
            source="keyword",
            keyword="STOP",
        )
    refused = client.post("/api/v1/messages/", {"to": CALLER, "body": "Your quote is ready."})
    assert refused.status_code == 409 and error_of(refused)["code"] == "opted_out"
    stranger = client.post("/api/v1/messages/", {"to": "+13125550999", "body": "Hello"})
    assert stranger.status_code == 400 and set(error_of(stranger)["fields"]) == {"to"}


def test_another_clients_contact_gets_no_outcome(api, personas):
    miss_a_call(api(host=BOLT, owner="bolt"))  # the caller is bolt's
    response = api().post("/api/v1/outcomes/", {"phone_number": CALLER, "kind": "booked"})
    assert response.status_code == 400
    with schema_context(personas.bolt.schema_name):
        assert not Outcome.objects.exists()
