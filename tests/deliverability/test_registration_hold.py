"""Until a client's number is registered for A2P 10DLC, its text-backs follow its agency's choice: sent anyway
(the default), or held, which the client's inbox and the agency's dashboard say. Another agency's choice never
applies. Personas: Northwind (nina admin, nate staff) serves acme and bolt; Southpeak (sara) serves cedar."""

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Client
from deliverability.models import DeliverabilityPolicy
from messaging.models import Message, OutboundSend
from messaging.reasons import reason_text
from messaging.services import send_deliver, textback_schedule
from tests.webhooks import sid

pytestmark = pytest.mark.django_db

PENDING, APPROVED = Client.Registration.PENDING, Client.Registration.APPROVED


def registration(client, status):
    Client.objects.filter(pk=client.pk).update(messaging_registration=status)
    client.refresh_from_db()


def hold(agency):
    DeliverabilityPolicy.objects.update_or_create(agency=agency, defaults={"hold_until_registered": True})


def text_back(client, caller="+13125550171") -> tuple[str, OutboundSend]:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=caller, missed_at=timezone.now())
    outcome = send_deliver(send_id=send.pk)
    return outcome, OutboundSend.objects.get(pk=send.pk)


def test_a_pending_clients_text_backs_are_held_when_its_agency_chose_it(personas):
    registration(personas.acme, PENDING)
    hold(personas.northwind)
    outcome, send = text_back(personas.acme)
    assert (send.state, send.reason) == ("skipped", "registration_pending")
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(call_sid=send.call_sid).exists()
    assert reason_text("registration_pending").startswith(
        "the number's A2P 10DLC registration is not approved"
    )


def test_sent_anyway_by_default_once_approved_and_under_another_agencys_choice(personas):
    registration(personas.acme, PENDING)
    assert text_back(personas.acme, "+13125550172")[1].state == "sent"  # Northwind chose nothing: sent anyway
    hold(personas.northwind)
    registration(personas.acme, APPROVED)
    assert text_back(personas.acme, "+13125550173")[1].state == "sent"
    registration(personas.cedar, PENDING)  # Southpeak's client: Northwind's hold is not its agency's
    assert text_back(personas.cedar, "+14155550174")[1].state == "sent"


def test_the_inbox_and_the_dashboard_say_so(web, personas):
    registration(personas.acme, PENDING)
    alice = web("acme.localhost", personas.alice)
    assert 'id="registration-hold"' not in alice.get("/inbox/").content.decode()  # sent anyway: no banner
    dashboard = web("localhost", personas.nina).get("/").content.decode()
    assert "Messaging registration pending: US carriers may filter its texts" in dashboard
    hold(personas.northwind)
    page = alice.get("/inbox/").content.decode()
    assert 'id="registration-hold"' in page and "held for Acme Plumbing" in page
    assert (
        'id="registration-hold"' not in web("bolt.localhost", personas.dave).get("/inbox/").content.decode()
    )
    dashboard = web("localhost", personas.nina).get("/").content.decode()
    assert "Text-backs held until its A2P 10DLC registration is approved" in dashboard


def test_only_the_agencys_admins_choose(web, personas):
    url = f"/deliverability/{personas.northwind.slug}/"
    assert web("localhost", personas.nate).post(url, {"hold_until_registered": "on"}).status_code == 403
    assert web("localhost", personas.sara).post(url, {"hold_until_registered": "on"}).status_code == 404
    assert not DeliverabilityPolicy.objects.filter(hold_until_registered=True).exists()
    nina = web("localhost", personas.nina)
    assert nina.post(url, {"hold_until_registered": "on"}).status_code == 302
    policy = DeliverabilityPolicy.objects.get(agency=personas.northwind)
    assert policy.hold_until_registered and not policy.auto_pause  # one choice does not touch the other
    assert "Send anyway until approved" in nina.get(url).content.decode()
    assert nina.post(url, {"hold_until_registered": "later"}).status_code == 400
