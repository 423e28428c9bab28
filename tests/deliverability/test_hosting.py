"""Hosted SMS from the app, over HTTP against the fake Twilio (Numbers v2 HostedNumber Orders and their
authorisation documents, api v2010 Addresses, each request checked against Twilio's OpenAPI): the owner of a
business in carrier-forwarding mode orders hosting of its own number from its settings, verifies it by
Twilio's call, signs the letter of authorisation, and once the carriers are done every text goes from the number
the caller dialled while calls keep coming to the Textback number. A number Twilio cannot host is said plainly.

Personas: Northwind (nina admin, nate staff) serves acme (alice owner, bob staff) and bolt (dave owner);
Southpeak (sara) serves cedar (erin owner)."""

import html

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from accounts.models import Client, Onboarding
from deliverability.hosting import hosting_check_all
from deliverability.models import BusinessAddress, HostedNumberOrder
from messaging import twilio_accounts
from messaging.services import send_deliver, textback_schedule
from tests.deliverability.registration_data import HOSTING_ORDER
from tests.webhooks import sid

pytestmark = pytest.mark.django_db

OWN = "+13125550142"  # acme's business line
CALLER = "+13125550123"
PAGE = "/settings/texting-number/"
ORDER = HOSTING_ORDER


@pytest.fixture(autouse=True)
def _forget_accounts(twilio_accounts_forgotten):
    """Each test starts with no agency's Twilio account cached (tests/conftest.py)."""


@pytest.fixture
def carrier_mode(personas):
    Client.objects.filter(pk__in=[personas.acme.pk, personas.cedar.pk]).update(call_mode="carrier")


@pytest.fixture
def northwind_sub(twilio, personas):
    """Northwind's own subaccount, made as the app makes it."""
    return twilio_accounts.subaccount_create(agency=personas.northwind)


def operations(twilio) -> list[str]:
    return [r["operation"] for r in twilio.requests]


def order_row(personas) -> HostedNumberOrder:
    return HostedNumberOrder.objects.get(client=personas.acme)


def page(web, user, host="acme.localhost"):
    return web(host, user)


def text_back(client, caller: str = CALLER) -> None:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=caller, missed_at=now())
    assert send_deliver(send_id=send.pk) == "sent"


def shown(response) -> str:
    """The page as a person reads it (entities such as &#x27; turned back into characters)."""
    return html.unescape(response.content.decode())


# --- The whole way, from the client's settings -------------------------------------------------------------


def test_order_verify_sign_and_complete_then_texts_go_from_the_dialled_number(
    twilio, web, personas, carrier_mode, northwind_sub
):
    alice = page(web, personas.alice)
    settings_page = shown(alice.get("/settings/"))
    assert 'id="texting-number"' in settings_page and PAGE in settings_page

    response = alice.post(PAGE, ORDER)
    assert response.status_code == 302, shown(response)[-3000:]
    order = order_row(personas)
    assert (order.phone_number, order.status) == (OWN, "received")
    assert operations(twilio)[-2:] == ["CreateAddress", "CreateHostedNumberOrder"]
    created = twilio.requests[-1]
    # In Northwind's own subaccount, with the address Twilio was given and our SMS webhook on the number.
    assert created["authenticated_as"] == northwind_sub.account_sid == order.account_sid
    assert created["form"]["AddressSid"] == order.address_sid
    assert created["form"]["SmsCapability"] == "true"
    assert created["form"]["SmsUrl"].endswith("/hooks/twilio/sms/incoming/")
    assert created["form"]["Email"] == "alice@acme.test"
    address = twilio.requests[-2]["form"]
    assert (address["CustomerName"], address["Region"], address["PostalCode"]) == (
        "Acme Plumbing",
        "IL",
        "60601",
    )
    assert BusinessAddress.objects.get(client=personas.acme).address_sid == order.address_sid

    # Next for the owner: verify by the call.
    body = shown(alice.get(PAGE))
    assert "Next, for the owner" in body and "Place the verification call" in body
    assert alice.post(PAGE, {"action": "call"}).status_code == 302
    order = order_row(personas)
    code = twilio.hosted_order(order.order_sid)["verification_code"]
    assert order.status == "pending-verification" and order.verification_code == code
    body = shown(alice.get(PAGE))
    assert code in body and f"Answer Twilio's call at {OWN}" in body
    assert twilio.requests[-1]["form"] == {"Status": "pending-verification", "VerificationCallDelay": "15"}

    # The owner answers and types the code; the page (after a check) asks for the letter to be signed.
    twilio.answer_verification(order.order_sid, code)
    assert alice.post(PAGE, {"action": "check"}).status_code == 302
    order = order_row(personas)
    assert (order.status, order.loa_status) == ("pending-loa", "signing")
    body = shown(alice.get(PAGE))
    assert "signs the letter of authorisation Twilio emailed to alice@acme.test" in body

    # Signed: the carriers' turn, nothing to do; texts still go from the Textback number meanwhile.
    twilio.sign_loa(order.order_sid)
    assert hosting_check_all() == 1
    assert order_row(personas).status == "carrier-processing"
    assert "Nothing to do" in shown(alice.get(PAGE))
    text_back(personas.acme)
    assert twilio.messages[-1]["from"] == str(personas.acme.phone_number)

    # Completed (beat's check): from now on texts go from the number the caller dialled.
    twilio.set_hosted_order_status(order.order_sid, "completed")
    assert hosting_check_all() == 1
    acme = Client.objects.select_related("agency").get(pk=personas.acme.pk)
    assert str(acme.hosted_sms_number) == OWN and acme.phone_number == personas.acme.phone_number
    assert order_row(personas).completed_at is not None
    text_back(acme, "+13125550124")
    assert twilio.messages[-1]["from"] == OWN
    assert twilio.messages[-1]["account_sid"] == northwind_sub.account_sid
    body = shown(alice.get(PAGE))
    assert f"Texts go from <strong>{OWN}</strong>" in body
    assert hosting_check_all() == 0  # a completed order is not asked about again
    twilio.assert_no_violations()


def test_the_wizard_links_to_the_same_page_on_the_agencys_host(twilio, web, personas, carrier_mode):
    Client.objects.filter(pk=personas.acme.pk).update(went_live_at=None)
    onboarding = Onboarding.objects.create(
        agency=personas.northwind,
        client=personas.acme,
        created_by=personas.nate,
        reached="live",
        progress=100,
    )
    nina = web("localhost", personas.nina)
    url = f"/deliverability/northwind/clients/{personas.acme.pk}/hosted-number/"
    live_step = shown(nina.get(f"/agency/onboarding/{onboarding.pk}/live/"))
    start = live_step.index('id="wizard-hosting"')
    assert url in live_step[start : live_step.index("</dd>", start)]
    assert "Order hosting" in shown(nina.get(url))
    assert nina.post(url, ORDER).status_code == 302
    assert order_row(personas).account_sid == twilio.account_sid  # no account of its own: the platform's


# --- Saying no plainly --------------------------------------------------------------------------------------


def test_a_number_twilio_cannot_host_is_refused_in_plain_words(twilio, web, personas, carrier_mode):
    twilio.refuse_hosting(OWN)
    response = page(web, personas.alice).post(PAGE, ORDER)
    assert response.status_code == 400
    body = shown(response)
    assert "already set up for texting with another provider" in body and "22110" in body
    assert not HostedNumberOrder.objects.filter(client=personas.acme).exists()


@pytest.mark.parametrize(
    ("reason", "plain"),
    [
        (
            "Phone number is already SMS enabled with another provider",
            "already set up for texting somewhere else",
        ),
        ("Unsupported carrier", "carrier does not allow"),
        ("Number is a mobile number", "Mobile and VoIP numbers cannot be hosted"),
    ],
)
def test_a_failed_order_says_why_and_may_be_ordered_again(twilio, web, personas, carrier_mode, reason, plain):
    alice = page(web, personas.alice)
    alice.post(PAGE, ORDER)
    order = order_row(personas)
    twilio.set_hosted_order_status(order.order_sid, "failed", failure_reason=reason)
    assert alice.post(PAGE, {"action": "check"}).status_code == 302
    body = shown(alice.get(PAGE))
    assert "This number cannot be hosted." in body and plain in body
    assert "Order again" in body
    assert Client.objects.get(pk=personas.acme.pk).hosted_sms_number is None


def test_forward_mode_needs_no_hosting(twilio, web, personas):
    body = shown(page(web, personas.alice).get(PAGE))
    assert "Only for carrier forwarding" in body and 'name="action" value="order"' not in body
    response = page(web, personas.alice).post(PAGE, ORDER)
    assert response.status_code == 400 and "Only for carrier forwarding" in shown(response)
    assert twilio.requests == []


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("phone_number", "12345", "A US or Canadian number"),
        ("region", "Illinois", "two letters"),
        ("postal_code", "ABCDE", "ZIP code"),
        ("contact_email", "not-an-email", "valid email"),
    ],
)
def test_bad_details_are_form_errors_and_nothing_reaches_twilio(
    twilio, web, personas, carrier_mode, field, value, said
):
    response = page(web, personas.alice).post(PAGE, {**ORDER, field: value})
    assert response.status_code == 400 and said in shown(response)
    assert twilio.requests == []


def test_the_textback_number_or_another_clients_number_cannot_be_ordered(twilio, web, personas, carrier_mode):
    alice = page(web, personas.alice)
    response = alice.post(PAGE, {**ORDER, "phone_number": str(personas.acme.phone_number)})
    assert response.status_code == 400 and "That is the Textback number" in shown(response)
    response = alice.post(PAGE, {**ORDER, "phone_number": str(personas.cedar.phone_number)})
    assert response.status_code == 400 and "Another business already texts from that number" in shown(
        response
    )
    assert twilio.requests == []


def test_one_order_at_a_time_and_cancel_before_it_is_verified(twilio, web, personas, carrier_mode):
    alice = page(web, personas.alice)
    assert alice.post(PAGE, ORDER).status_code == 302
    assert alice.post(PAGE, ORDER).status_code == 400  # no second form while one is on its way
    assert alice.post(PAGE, {"action": "cancel"}).status_code == 302
    assert order_row(personas).status == "canceled"
    assert operations(twilio)[-1] == "DeleteHostedNumberOrder"
    assert alice.post(PAGE, ORDER).status_code == 302  # ordered again
    assert HostedNumberOrder.objects.filter(client=personas.acme).count() == 2


def test_an_unknown_action_is_a_400(twilio, web, personas, carrier_mode):
    assert page(web, personas.alice).post(PAGE, {"action": "explode"}).status_code == 400


def test_stop_and_resume_texting_from_the_hosted_number(twilio, web, personas, carrier_mode):
    alice = page(web, personas.alice)
    alice.post(PAGE, ORDER)
    twilio.set_hosted_order_status(order_row(personas).order_sid, "completed")
    hosting_check_all()
    assert alice.post(PAGE, {"action": "stop"}).status_code == 302
    assert Client.objects.get(pk=personas.acme.pk).hosted_sms_number is None
    hosting_check_all()  # a completed order does not put it back behind the owner's back
    assert Client.objects.get(pk=personas.acme.pk).hosted_sms_number is None
    assert alice.post(PAGE, {"action": "resume"}).status_code == 302
    assert str(Client.objects.get(pk=personas.acme.pk).hosted_sms_number) == OWN


# --- Who may do what, and whose is whose -----------------------------------------------------------------------


def test_client_staff_may_look_but_not_order(twilio, web, personas, carrier_mode):
    bob = page(web, personas.bob)
    assert bob.get(PAGE).status_code == 200
    assert bob.post(PAGE, ORDER).status_code == 403
    assert twilio.requests == []


def test_cross_tenant_another_clients_people_never_see_or_order_acmes(twilio, web, personas, carrier_mode):
    """Dave (bolt's owner) and Erin (cedar's, another agency) on acme's host are logged out there: nothing
    shows and nothing is ordered; on their own host they only ever act on their own client."""
    for user in (personas.dave, personas.erin):
        response = page(web, user).get(PAGE)
        assert response.status_code == 302 and "/login" in response["Location"]
        assert page(web, user).post(PAGE, ORDER).status_code == 302
    assert twilio.requests == [] and not HostedNumberOrder.objects.exists()
    page(web, personas.alice).post(PAGE, ORDER)
    body = shown(page(web, personas.erin, "cedar.localhost").get(PAGE))
    assert OWN not in body and "Order hosting" in body


def test_cross_agency_another_agency_never_reaches_a_clients_order(
    twilio, web, personas, carrier_mode, northwind_sub
):
    page(web, personas.alice).post(PAGE, ORDER)
    order = order_row(personas)
    sara = web("localhost", personas.sara)
    url = f"/deliverability/northwind/clients/{personas.acme.pk}/hosted-number/"
    assert sara.get(url).status_code == 404
    assert sara.post(url, {"action": "cancel"}).status_code == 404
    url = f"/deliverability/southpeak/clients/{personas.acme.pk}/hosted-number/"
    assert sara.get(url).status_code == 404
    assert order_row(personas).status == "received"
    # At Twilio the order is in Northwind's subaccount: another account's credentials do not find it.
    assert twilio.hosted_order(order.order_sid)["account_sid"] == northwind_sub.account_sid
    other = twilio.add_account(friendly_name="Southpeak's own")
    from twilio.base.exceptions import TwilioRestException

    from messaging.providers import twilio_client

    with pytest.raises(TwilioRestException) as refused:
        twilio_client(other["sid"], other["auth_token"]).numbers.v2.hosted_number_orders(
            order.order_sid
        ).fetch()
    assert refused.value.status == 404


def test_an_order_placed_in_another_account_is_not_acted_on(
    twilio, web, personas, carrier_mode, northwind_sub
):
    """The agency moved to another Twilio account after ordering: the order is not looked up with the new
    account's credentials (it is not there); the page says to order again."""
    alice = page(web, personas.alice)
    alice.post(PAGE, ORDER)
    HostedNumberOrder.objects.filter(client=personas.acme).update(account_sid="AC" + "9" * 32)
    response = alice.post(PAGE, {"action": "check"})
    assert response.status_code == 400 and "order again from the new account" in shown(response)


def test_an_order_gone_at_twilio_is_marked_cancelled_once(twilio, web, personas, carrier_mode):
    alice = page(web, personas.alice)
    alice.post(PAGE, ORDER)
    order = order_row(personas)
    twilio.fail_next(404, operation="fetch_hosted_order")
    assert hosting_check_all() == 1
    assert order_row(personas).status == "canceled"
    assert "cancelled there" in shown(alice.get(PAGE)) and "Order again" in shown(alice.get(PAGE))
    assert hosting_check_all() == 0  # not asked about again
    assert order.order_sid == order_row(personas).order_sid


def test_twilio_down_while_checking_is_said_not_a_500(twilio, web, personas, carrier_mode):
    alice = page(web, personas.alice)
    alice.post(PAGE, ORDER)
    twilio.fail_next(503, operation="fetch_hosted_order")
    response = alice.post(PAGE, {"action": "check"})
    assert response.status_code == 400 and "Twilio refused to look the order up" in shown(response)
    assert order_row(personas).status == "received"


def test_the_agencys_health_page_says_where_each_forwarding_client_texts_from(
    twilio, web, personas, carrier_mode
):
    nina = web("localhost", personas.nina)
    row = f'id="client-{personas.acme.pk}"'
    body = shown(nina.get("/deliverability/northwind/"))
    assert "Texts from: the Textback number<" in body[body.index(row) :]
    page(web, personas.alice).post(PAGE, ORDER)
    body = shown(nina.get("/deliverability/northwind/"))
    assert "Texts from: the Textback number (hosting: received: ownership to verify)" in body
    Client.objects.filter(pk=personas.acme.pk).update(hosted_sms_number=OWN)
    assert "Texts from: its own number" in shown(nina.get("/deliverability/northwind/"))


def test_a_line_with_a_menu_gets_its_extension_dialled_by_the_verification_call(
    twilio, web, personas, carrier_mode
):
    alice = page(web, personas.alice)
    assert alice.post(PAGE, {**ORDER, "verification_extension": "abc"}).status_code == 400
    alice.post(PAGE, {**ORDER, "verification_extension": "204"})
    alice.post(PAGE, {"action": "call"})
    assert twilio.requests[-1]["form"]["VerificationCallExtension"] == "204"
    assert twilio.hosted_order(order_row(personas).order_sid)["status"] == "pending-verification"


REGISTRATION = {
    "legal_name": "Acme Plumbing LLC",
    "business_type": "Limited Liability Corporation",
    "ein": "12-3456789",
    "vertical": "CONSTRUCTION",
    "website": "https://acme-plumbing.example",
    "street": "1 Main St",
    "city": "Chicago",
    "region": "IL",
    "postal_code": "60601",
    "contact_first_name": "Alice",
    "contact_last_name": "Owner",
    "contact_email": "alice@acme.test",
    "contact_phone": "+13125550199",
}


def _complete(twilio, web, personas) -> HostedNumberOrder:
    page(web, personas.alice).post(PAGE, ORDER)
    order = order_row(personas)
    twilio.set_hosted_order_status(order.order_sid, "completed")
    hosting_check_all()
    return order_row(personas)


def _campaign_after_brand(twilio, web, personas):
    from deliverability.models import A2PRegistration
    from deliverability.registration import registrations_check_all

    nina = web("localhost", personas.nina)
    url = f"/deliverability/northwind/clients/{personas.acme.pk}/registration/"
    assert nina.post(url, REGISTRATION).status_code == 302
    twilio.set_brand_status(A2PRegistration.objects.get(client=personas.acme).brand_sid, "APPROVED")
    registrations_check_all()


def test_a_registration_after_hosting_puts_the_hosted_number_in_the_campaigns_service(
    twilio, web, personas, carrier_mode
):
    order = _complete(twilio, web, personas)
    _campaign_after_brand(twilio, web, personas)
    [added] = [r for r in twilio.requests if r["operation"] == "CreatePhoneNumber"]
    assert added["form"]["PhoneNumberSid"] == order.incoming_number_sid


def test_hosting_completed_after_the_campaign_joins_its_service(twilio, web, personas, carrier_mode):
    held = twilio.add_incoming_number(str(personas.acme.phone_number))
    Client.objects.filter(pk=personas.acme.pk).update(number_sid=held["sid"])
    _campaign_after_brand(twilio, web, personas)
    order = _complete(twilio, web, personas)
    added = [r["form"]["PhoneNumberSid"] for r in twilio.requests if r["operation"] == "CreatePhoneNumber"]
    assert added == [held["sid"], order.incoming_number_sid]


def test_the_letter_is_sent_again_to_another_email_and_the_new_one_is_followed(
    twilio, web, personas, carrier_mode
):
    alice = page(web, personas.alice)
    alice.post(PAGE, ORDER)
    first = order_row(personas).signing_document_sid
    response = alice.post(PAGE, {"action": "letter", "email": "not-an-email"})
    assert response.status_code == 400 and "not an email address" in shown(response)
    assert alice.post(PAGE, {"action": "letter", "email": "owner@acme.test"}).status_code == 302
    order = order_row(personas)
    sent = twilio.requests[-1]
    assert sent["operation"] == "CreateAuthorizationDocument"
    assert sent["form"]["HostedNumberOrderSids"] == [order.order_sid]
    assert sent["form"]["AddressSid"] == order.address_sid and sent["form"]["Email"] == "owner@acme.test"
    assert order.signing_document_sid != first and order.contact_email == "owner@acme.test"
    twilio.sign_loa(order.order_sid)
    alice.post(PAGE, {"action": "check"})
    assert order_row(personas).loa_status == "signed"
    response = alice.post(PAGE, {"action": "letter", "email": "owner@acme.test"})
    assert response.status_code == 400 and "signed already" in shown(response)


@pytest.mark.parametrize("carrier", ["telnyx", "console"])
def test_hosting_is_twilios_so_other_carriers_are_told_plainly(
    web, personas, carrier_mode, settings, carrier
):
    from accounts.models import Agency

    if carrier == "telnyx":
        Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    else:
        settings.TELEPHONY_PROVIDER = "console"
    body = shown(page(web, personas.alice).get(PAGE))
    assert "done through Twilio" in body and 'value="order"' not in body
    response = page(web, personas.alice).post(PAGE, ORDER)
    assert response.status_code == 400 and "done through Twilio" in shown(response)
    assert not HostedNumberOrder.objects.exists()


def test_releasing_a_completed_hosting_gives_the_number_back_and_it_may_be_ordered_again(
    twilio, web, personas, carrier_mode
):
    alice = page(web, personas.alice)
    response = alice.post(PAGE, {"action": "release"})
    assert response.status_code == 400 and "no order for hosting yet" in shown(response)
    alice.post(PAGE, ORDER)
    response = alice.post(PAGE, {"action": "release"})
    assert response.status_code == 400 and "Only a completed hosting" in shown(response)
    order = order_row(personas)
    twilio.set_hosted_order_status(order.order_sid, "completed")
    hosting_check_all()
    assert twilio.incoming_number(OWN) is not None
    assert alice.post(PAGE, {"action": "release"}).status_code == 302
    assert twilio.requests[-1]["operation"] == "DeleteIncomingPhoneNumber"
    assert twilio.incoming_number(OWN) is None
    assert Client.objects.get(pk=personas.acme.pk).hosted_sms_number is None
    body = shown(alice.get(PAGE))
    assert "Released on" in body and "Order again" in body
    assert alice.post(PAGE, ORDER).status_code == 302  # the number may be hosted again


def test_the_settings_card_says_what_the_owner_must_do_next(twilio, web, personas, carrier_mode):
    alice = page(web, personas.alice)
    assert 'id="texting-number-next"' not in shown(alice.get("/settings/"))
    alice.post(PAGE, ORDER)
    alice.post(PAGE, {"action": "call"})
    card = shown(alice.get("/settings/"))
    assert "Next, for the owner:" in card and order_row(personas).verification_code in card


def test_a_number_another_business_has_on_order_cannot_be_ordered(twilio, web, personas, carrier_mode):
    page(web, personas.alice).post(PAGE, ORDER)
    erin = page(web, personas.erin, "cedar.localhost")
    response = erin.post(PAGE, {**ORDER, "contact_email": "erin@cedar.test"})
    assert response.status_code == 400 and "Another business already has an order for that number" in shown(
        response
    )
    assert HostedNumberOrder.objects.filter(client=personas.cedar).count() == 0


def test_a_sole_proprietors_service_keeps_one_number_the_hosted_one(twilio, web, personas, carrier_mode):
    from deliverability.models import A2PRegistration
    from deliverability.registration import registrations_check_all

    held = twilio.add_incoming_number(str(personas.acme.phone_number))
    Client.objects.filter(pk=personas.acme.pk).update(number_sid=held["sid"])
    sole = {**REGISTRATION, "legal_name": "Alice Owner", "business_type": "Sole Proprietorship", "ein": ""}
    url = f"/deliverability/northwind/clients/{personas.acme.pk}/registration/"
    assert web("localhost", personas.nina).post(url, sole).status_code == 302
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    twilio.answer_brand_otp(registration.brand_sid)
    registrations_check_all()
    registration.refresh_from_db()
    assert twilio.service_numbers(registration.messaging_service_sid) == [held["sid"]]
    order = _complete(twilio, web, personas)
    assert twilio.service_numbers(registration.messaging_service_sid) == [order.incoming_number_sid]
