"""The agency dashboard warns platform operators, and only them, when text-backs are going out late."""

from datetime import timedelta

import pytest
from django.utils.timezone import now

from messaging.models import OutboundSend

pytestmark = pytest.mark.django_db

BANNER = "Text-backs are late"


def late_send(client, minutes: int) -> OutboundSend:
    return OutboundSend.objects.create(
        client=client,
        kind="textback",
        key=f"call:CAlate{minutes}",
        to_number="+13125550188",
        due_at=now() - timedelta(minutes=minutes),
    )


def test_an_operator_sees_a_banner_when_a_send_is_late(web, personas):
    late_send(personas.cedar, minutes=7)
    response = web("localhost", personas.oscar).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="error" role="alert">Text-backs are late: the oldest one due has waited 7 min.' in html


def test_no_banner_when_sends_are_on_time(web, personas):
    OutboundSend.objects.create(
        client=personas.acme, kind="textback", key="call:CAnow", to_number="+13125550188", due_at=now()
    )
    assert BANNER not in web("localhost", personas.oscar).get("/").content.decode()


def test_agency_people_never_see_it_even_for_their_own_clients(web, personas):
    # Late sends are the platform's to fix; an agency cannot do anything about a dead worker.
    late_send(personas.acme, minutes=7)
    for person in (personas.nina, personas.nate, personas.sara):
        response = web("localhost", person).get("/")
        assert response.status_code == 200
        assert BANNER not in response.content.decode()
