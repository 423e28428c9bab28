"""A client made with the wizard is onboarding until the agency says "go live": its number and webhooks work, but
only the phones it tests with get a text-back; a stranger's missed call is recorded as skipped, "not live yet".
Texts go through the real send path to Twilio faked at HTTP."""

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from accounts.models import Agency, Client, ClientMembership, Onboarding
from agency.dashboard import Stage, dashboard_clients, dashboard_rows
from messaging.models import Message, OutboundSend
from messaging.reasons import reason_text
from messaging.services import send_deliver
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

STRANGER = "+13125550123"
TESTER = "+13125550177"


@pytest.fixture
def onboarding_acme(personas):
    """Acme as the wizard leaves it at the test step: provisioned and served, not live."""
    Client.objects.filter(pk=personas.acme.pk).update(went_live_at=None)
    onboarding = Onboarding.objects.create(
        agency=personas.northwind,
        client=personas.acme,
        created_by=personas.nate,
        reached="test",
        progress=100,
    )
    return onboarding


def _miss_call(web, client, caller) -> str:
    """A missed call through the voice webhooks, then the worker's attempt at its text-back."""
    params = call_params(client, caller)
    platform = web("localhost")
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    send = OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")
    return send_deliver(send_id=send.pk)


def _texts_to(client, number) -> list[Message]:
    with schema_context(client.schema_name):
        return list(Message.objects.filter(to_number=number, kind=Message.Kind.TEXT_BACK))


def test_a_stranger_calling_an_onboarding_client_is_not_texted(web, personas, twilio, onboarding_acme):
    assert _miss_call(web, personas.acme, STRANGER) == "skipped: not_live"
    assert twilio.messages == []
    assert _texts_to(personas.acme, STRANGER) == []
    send = OutboundSend.objects.get(client=personas.acme, to_number=STRANGER)
    assert (send.state, send.reason) == ("skipped", "not_live")
    assert reason_text("not_live") == "the business isn't live yet (only its test phones get text-backs)"


def test_a_test_phone_named_in_the_test_step_is_texted(web, personas, twilio, onboarding_acme):
    browser = web("localhost", personas.nate)
    url = f"/agency/onboarding/{onboarding_acme.pk}/test/"
    added = browser.post(url, {"action": "add", "number": "(312) 555-0177"})
    assert added.status_code == 302
    page = browser.get(url).content.decode()
    assert TESTER in page and "--from +13125550142" in page  # the forward-to phone comes first
    assert _miss_call(web, personas.acme, TESTER) == "sent"
    assert [m["to"] for m in twilio.messages] == [TESTER]
    assert _texts_to(personas.acme, TESTER)[0].status != Message.Status.FAILED


def test_the_forward_to_phone_is_a_test_phone(web, personas, twilio, onboarding_acme):
    assert _miss_call(web, personas.acme, "+13125550142") == "sent"
    assert [m["to"] for m in twilio.messages] == ["+13125550142"]


def test_going_live_texts_everyone_and_the_dashboard_says_so(web, personas, twilio, onboarding_acme):
    browser = web("localhost", personas.nate)
    assert Stage.of(Client.objects.get(pk=personas.acme.pk)) == Stage.ONBOARDING
    assert "Acme Plumbing" in browser.get("/?status=onboarding").content.decode()
    assert "Acme Plumbing" not in browser.get("/?status=live").content.decode()

    assert browser.post(f"/agency/onboarding/{onboarding_acme.pk}/test/")["Location"].endswith(
        "/registration/"
    )
    later = browser.post(f"/agency/onboarding/{onboarding_acme.pk}/registration/", {"action": "later"})
    assert later["Location"].endswith("/live/")
    assert browser.post(f"/agency/onboarding/{onboarding_acme.pk}/live/").status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).went_live_at is not None
    assert "Acme Plumbing" in browser.get("/?status=live").content.decode()
    assert _miss_call(web, personas.acme, STRANGER) == "sent"
    assert [m["to"] for m in twilio.messages] == [STRANGER]


def test_an_onboarding_client_raises_no_quiet_warning_and_a_paused_one_stays_onboarding(
    personas, onboarding_acme
):
    Client.objects.filter(pk=personas.acme.pk).update(created_at=now().replace(year=2020))
    rows = dashboard_rows(clients=dashboard_clients(agencies=Agency.objects.filter(pk=personas.northwind.pk)))
    acme = next(row for row in rows if row.client.pk == personas.acme.pk)
    assert acme.stage == Stage.ONBOARDING and not any("No calls" in w for w in acme.warnings)
    Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.PAUSED)
    assert Stage.of(Client.objects.get(pk=personas.acme.pk)) == Stage.ONBOARDING


def test_bad_test_phones_are_form_errors(web, personas, onboarding_acme):
    browser = web("localhost", personas.nate)
    url = f"/agency/onboarding/{onboarding_acme.pk}/test/"
    garbage = browser.post(url, {"action": "add", "number": "call me"})
    assert garbage.status_code == 400 and "Enter a valid phone number" in garbage.content.decode()
    itself = browser.post(url, {"action": "add", "number": "+13125550100"})
    assert itself.status_code == 400 and "not from itself" in itself.content.decode()
    assert Client.objects.get(pk=personas.acme.pk).test_numbers == []


def test_who_may_add_a_test_phone(web, personas, onboarding_acme):
    url = f"/agency/onboarding/{onboarding_acme.pk}/test/"
    for who in ("nina", "nate"):
        response = web("localhost", getattr(personas, who)).post(url, {"action": "add", "number": TESTER})
        assert response.status_code == 302
    assert (
        web("localhost", personas.sara).post(url, {"action": "add", "number": "+13125550178"}).status_code
        == 404
    )
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.alice, personas.bob, readonly):
        response = web("localhost", user).post(url, {"action": "add", "number": "+13125550178"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert (
            web("acme.localhost", user).post(url, {"action": "add", "number": "+13125550178"}).status_code
            == 404
        )
    assert Client.objects.get(pk=personas.acme.pk).test_numbers == [TESTER]
