"""Outbound webhooks on the really running stack: a caller texts STOP to the business (a signed Twilio webhook
into gunicorn), and the Celery worker delivers the signed event to the agency's URL."""

import json

import requests
from django.conf import settings
from twilio.request_validator import RequestValidator

from api.models import WebhookDelivery, WebhookEndpoint
from api.services import webhook_endpoint_create
from tests.stack import wait_until
from tests.webhooks import sms_params

from .test_webhooks import verify


def test_a_stop_reaches_the_agencys_url_signed(live, personas, receiver):
    endpoint = webhook_endpoint_create(
        url=receiver.url,
        events=["contact.opted_out", "message.received"],
        created_by=personas.nina,
        agency=personas.northwind,
    )
    try:
        params = sms_params(personas.acme, "+13125550188", "Stop")
        url = f"{live.base_url}/hooks/twilio/sms/incoming/"
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
        assert requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10).ok
        wait_until(lambda: len(receiver.requests) >= 2, timeout=20, what="both events at the receiver")
        events = {}
        for headers, body in receiver.requests:
            assert verify(endpoint.secret, headers, body)
            events[headers["Webhook-Event"]] = json.loads(body)
        assert events["contact.opted_out"]["data"]["contact"]["phone_number"] == "+13125550188"
        assert events["message.received"]["data"]["keyword"] == "opt_out"
        assert {e["client"]["slug"] for e in events.values()} == {"acme"}
        wait_until(
            lambda: set(endpoint.deliveries.values_list("state", flat=True)) == {"succeeded"},
            timeout=10,
            what="the deliveries to be recorded",
        )
    finally:
        WebhookDelivery.objects.filter(endpoint=endpoint).delete()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
