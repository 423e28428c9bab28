"""What Twilio does when someone calls a client's number, as the tests against the running stack need it:
signed webhooks posted to gunicorn, and the ledger row a missed call leaves."""

import requests
from django.conf import settings
from twilio.request_validator import RequestValidator

from messaging.models import OutboundSend
from tests.webhooks import call_params

CALLER = "+13125550188"


def post(stack, path: str, params: dict, *, timeout: float = 10) -> requests.Response:
    url = f"{stack.base_url}{path}"
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=timeout)


def miss_a_call(stack, client, caller=CALLER) -> dict:
    params = call_params(client, caller)
    assert post(stack, "/hooks/twilio/voice/incoming/", params).status_code == 200
    response = post(
        stack,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    assert response.status_code == 200
    return params


def send_row(call_sid: str) -> OutboundSend:
    return OutboundSend.objects.get(key=f"call:{call_sid}")
