"""Offboarding a client whose own number is hosted at Twilio for texting (deliverability.hosting): the hosting
ends with the client, over HTTP against the fake Twilio. A completed hosting is released (its number deleted from
the agency's account, so it is no longer held) and the client texts from nothing any more; an order on its way is
cancelled. Twilio failing does not stop the offboarding: the page and the audit log say what is left to do at
Twilio.

Personas: Northwind (nina admin) serves acme (alice owner)."""

import html

import pytest

from accounts.models import AuditEntry, Client
from deliverability.hosting import hosting_check_all
from deliverability.models import HostedNumberOrder
from tests.deliverability.registration_data import HOSTING_ORDER

pytestmark = pytest.mark.django_db

OWN = "+13125550142"  # acme's business line, hosted for texting
ORDER = {**HOSTING_ORDER, "phone_number": OWN}


@pytest.fixture(autouse=True)
def _forget_accounts(twilio_accounts_forgotten):
    """Each test starts with no agency's Twilio account cached (tests/conftest.py)."""


@pytest.fixture
def hosted(twilio, web, personas) -> HostedNumberOrder:
    """acme in carrier-forwarding mode, its own number ordered for hosting by its owner."""
    Client.objects.filter(pk=personas.acme.pk).update(call_mode="carrier")
    assert web("acme.localhost", personas.alice).post("/settings/texting-number/", ORDER).status_code == 302
    return HostedNumberOrder.objects.get(client=personas.acme)


def complete(twilio, order: HostedNumberOrder) -> None:
    twilio.set_hosted_order_status(order.order_sid, "completed")
    hosting_check_all()
    assert str(Client.objects.get(pk=order.client_id).hosted_sms_number) == OWN
    assert twilio.incoming_number(OWN) is not None


def offboard(web, personas):
    return web("localhost", personas.nina).post(
        f"/agency/clients/{personas.acme.pk}/offboard/", {"confirmation": "acme"}, follow=True
    )


def detail(personas) -> str:
    return AuditEntry.objects.filter(action="offboard", client=personas.acme).get().detail


def test_offboarding_releases_a_completed_hosting(twilio, web, personas, hosted):
    complete(twilio, hosted)
    page = html.unescape(offboard(web, personas).content.decode())
    assert "is offboarded" in page and "Left for you to finish" not in page
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.status, acme.hosted_sms_number, acme.texts_from) == ("archived", None, "")
    assert twilio.incoming_number(OWN) is None  # no longer held (nor billed) in the agency's account
    assert "DeleteIncomingPhoneNumber" in [r["operation"] for r in twilio.requests]
    hosted.refresh_from_db()
    assert hosted.status == "canceled" and "Released on" in hosted.failure_reason
    assert f"hosted number {OWN} released at Twilio" in detail(personas)


def test_twilio_failing_does_not_stop_the_offboarding_and_says_what_is_left(twilio, web, personas, hosted):
    complete(twilio, hosted)
    twilio.fail_next(503, operation="release")
    response = offboard(web, personas)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "is offboarded" in page
    assert f"Left for you to finish at Twilio: hosted number {OWN} NOT released at Twilio" in page, page[
        page.find('class="messages"') : page.find('class="messages"') + 800
    ]
    acme = Client.objects.get(pk=personas.acme.pk)
    assert (acme.status, acme.hosted_sms_number) == ("archived", None)
    assert twilio.incoming_number(OWN) is not None  # still there: the agency is told to delete it
    assert f"{OWN} NOT released at Twilio" in detail(personas)
    assert "delete it in the agency's Twilio console" in detail(personas)


def test_a_hosted_number_already_gone_at_twilio_is_released_all_the_same(twilio, web, personas, hosted):
    complete(twilio, hosted)
    twilio.fail_next(404, operation="release")
    offboard(web, personas)
    assert Client.objects.get(pk=personas.acme.pk).status == "archived"
    assert f"hosted number {OWN} released at Twilio" in detail(personas)


def test_an_order_on_its_way_is_cancelled_and_no_longer_followed(twilio, web, personas, hosted):
    offboard(web, personas)
    assert Client.objects.get(pk=personas.acme.pk).status == "archived"
    assert "DeleteHostedNumberOrder" in [r["operation"] for r in twilio.requests]
    assert HostedNumberOrder.objects.get(pk=hosted.pk).status == "canceled"
    assert f"hosting order for {OWN} cancelled" in detail(personas)
    assert hosting_check_all() == 0


def test_an_order_twilio_will_not_cancel_is_left_there_and_said(twilio, web, personas, hosted):
    twilio.set_hosted_order_status(hosted.order_sid, "carrier-processing")
    hosting_check_all()
    assert HostedNumberOrder.objects.get(pk=hosted.pk).status == "carrier-processing"
    page = html.unescape(offboard(web, personas).content.decode())
    assert "Left for you to finish at Twilio" in page
    assert Client.objects.get(pk=personas.acme.pk).status == "archived"
    assert f"hosting order {hosted.order_sid} for {OWN} NOT cancelled" in detail(personas)
    assert hosting_check_all() == 0  # an archived client's order is not completed behind the agency's back
