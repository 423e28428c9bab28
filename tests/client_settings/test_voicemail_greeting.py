"""The voicemail greeting is the client's: typed on its settings page beside the voicemail choice (the default,
naming the business, shown until then), at most 300 characters, and what its callers hear on a missed call.
One client's greeting never reaches another's callers or page."""

import html
import xml.etree.ElementTree as ET

import pytest

from accounts.models import Client
from tests.client_settings.test_settings_page import HOST, URL, valid_post
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

GREETING = (
    "Hi, you've reached Acme Plumbing. We're on a job right now; leave a message and we'll call you back."
)


def _heard(web, client) -> str:
    """What a caller nobody answered at `client` hears before the tone (or the goodbye)."""
    params = call_params(client, "+13125550166")
    platform = web("localhost")
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    response = post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    return ET.fromstring(response.content).find("Say").text


def test_the_default_greeting_names_the_business_and_is_shown_where_it_is_typed(web, personas):
    page = web(HOST, personas.alice).get(URL).content.decode()
    assert 'name="voicemail_greeting"' in page
    assert f'placeholder="Sorry we couldn&#x27;t get to the phone at {personas.acme.name}.' in page
    heard = _heard(web, personas.acme)
    assert heard.startswith(f"Sorry we couldn't get to the phone at {personas.acme.name}.")
    assert "leave a message after the tone" in heard


def test_the_owner_writes_the_greeting_callers_hear(web, personas):
    response = web(HOST, personas.alice).post(URL, valid_post(voicemail_greeting=f"  {GREETING}  "))
    assert response.status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).voicemail_greeting == GREETING
    assert html.escape(GREETING) in web(HOST, personas.alice).get(URL).content.decode()
    assert _heard(web, personas.acme) == GREETING
    # With voicemail off the same greeting plays, then the call ends.
    Client.objects.filter(pk=personas.acme.pk).update(voicemail=False)
    assert _heard(web, personas.acme) == GREETING
    # Emptied: the default again.
    web(HOST, personas.alice).post(URL, valid_post(voicemail="", voicemail_greeting=""))
    assert _heard(web, personas.acme).endswith("We'll get back to you shortly.")


def test_a_greeting_over_300_characters_is_refused_beside_the_field(web, personas):
    response = web(HOST, personas.alice).post(URL, valid_post(voicemail_greeting="a" * 301))
    assert response.status_code == 400
    assert "at most 300 characters" in response.content.decode()
    assert Client.objects.get(pk=personas.acme.pk).voicemail_greeting == ""


def test_client_staff_cannot_change_the_greeting(web, personas):
    response = web(HOST, personas.bob).post(URL, valid_post(voicemail_greeting=GREETING))
    assert response.status_code == 403
    assert Client.objects.get(pk=personas.acme.pk).voicemail_greeting == ""


def test_one_clients_greeting_never_reaches_another(web, personas):
    # nina runs the agency of acme and bolt; she writes acme's greeting on acme's host.
    assert web(HOST, personas.nina).post(URL, valid_post(voicemail_greeting=GREETING)).status_code == 302
    assert Client.objects.get(pk=personas.bolt.pk).voicemail_greeting == ""
    assert html.escape(GREETING) not in web("bolt.localhost", personas.dave).get(URL).content.decode()
    assert _heard(web, personas.bolt).startswith(
        f"Sorry we couldn't get to the phone at {personas.bolt.name}."
    )
    # Bolt's owner on acme's host is sent to log in and changes nothing.
    response = web(HOST, personas.dave).post(URL, valid_post(voicemail_greeting="Bolt here"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert Client.objects.get(pk=personas.acme.pk).voicemail_greeting == GREETING
