"""Each agency in a Twilio account of its own: a subaccount we create through the API with its first number, or
its own account, whose credentials an admin enters and Twilio must accept. Numbers are bought, adopted and
released inside it, texts go out from it, its webhooks are checked with its token, and no agency can use
another's. All against the fake Twilio (tests/twilio_fake), which knows subaccounts as Twilio does.

Personas: Northwind (nina admin, nate staff) serves acme and bolt; Southpeak (sara) serves cedar."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Client
from config import crypto
from inbox.models import NotificationPreference
from messaging import twilio_accounts
from messaging.models import Message, TwilioAccount
from messaging.services import send_deliver, textback_schedule
from telephony.numbers import get_numbers
from tests.agency.test_onboarding_number import buy, client_of, onboarding  # noqa: F401 - a fixture
from tests.inbox.conftest import add_conversation
from tests.webhooks import post_signed, sid

pytestmark = pytest.mark.django_db

STATUS = "/hooks/twilio/sms/status/"
INCOMING = "/hooks/twilio/sms/incoming/"


@pytest.fixture(autouse=True)
def _forget_accounts(twilio_accounts_forgotten):
    """Each test starts with no agency's Twilio account cached (tests/conftest.py)."""


def subaccount_of(twilio, agency) -> TwilioAccount:
    """Northwind's subaccount, made the way the app makes it (CreateAccount, as the platform)."""
    return twilio_accounts.subaccount_create(agency=agency)


def _text_back(client, caller: str) -> Message:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=caller, missed_at=timezone.now())
    assert send_deliver(send_id=send.pk) == "sent"
    with schema_context(client.schema_name):
        return Message.objects.get(call_sid=send.call_sid)


# --- Subaccounts ------------------------------------------------------------------------------------------------


def test_a_subaccount_is_made_through_the_api_and_its_token_kept_encrypted(twilio, personas):
    account = subaccount_of(twilio, personas.northwind)
    [made] = twilio.accounts
    assert account.account_sid == made["sid"] and made["owner_account_sid"] == twilio.account_sid
    assert [r["operation"] for r in twilio.requests] == ["CreateAccount"]
    stored = TwilioAccount.objects.get(agency=personas.northwind)
    assert made["auth_token"] not in stored.auth_token_encrypted  # at rest, only the ciphertext
    assert stored.auth_token == made["auth_token"]
    # Asked again, the agency keeps the one it has.
    assert twilio_accounts.subaccount_create(agency=personas.northwind).pk == stored.pk
    assert len(twilio.accounts) == 1


@override_settings(TWILIO_SUBACCOUNTS=True)
def test_the_first_number_makes_the_subaccount_and_is_bought_inside_it(twilio, web, personas, onboarding):  # noqa: F811
    response = buy(web("localhost", personas.nate), onboarding, "+13125550111")
    assert response.status_code == 302, response.content.decode()[:500]
    account = TwilioAccount.objects.get(agency=personas.northwind)
    number = twilio.incoming_number("+13125550111")
    assert (
        number["account_sid"] == account.account_sid
    )  # bought in the subaccount, not the platform's account
    assert client_of(onboarding).number_sid == number["sid"]
    purchase = next(r for r in twilio.requests if r["operation"] == "CreateIncomingPhoneNumber")
    assert purchase["path"] == f"/2010-04-01/Accounts/{account.account_sid}/IncomingPhoneNumbers.json"
    assert purchase["authenticated_as"] == account.account_sid
    # Released inside it too. Another agency (no account of its own) acts in the platform's account, where Twilio
    # has no such number (404, which a release takes as "already gone"): the number stays Northwind's.
    get_numbers(agency=personas.southpeak).release(sid=number["sid"])
    assert twilio.incoming_number("+13125550111") is not None
    get_numbers(agency=personas.northwind).release(sid=number["sid"])
    assert twilio.incoming_number("+13125550111") is None


@override_settings(TWILIO_SUBACCOUNTS=True)
def test_a_number_of_another_account_cannot_be_adopted(twilio, personas):
    twilio.add_incoming_number("+13125550177")  # in the platform's account, say another agency's
    with pytest.raises(Exception, match="not a number of your Twilio account"):
        get_numbers(agency=personas.northwind).adopt(phone_number="+13125550177")


def test_texts_go_out_from_the_agencys_account_and_others_from_the_platforms(twilio, personas):
    account = subaccount_of(twilio, personas.northwind)
    acme = _text_back(personas.acme, "+13125550161")
    cedar = _text_back(personas.cedar, "+14155550161")
    assert twilio.message(acme.provider_sid)["account_sid"] == account.account_sid
    assert twilio.message(cedar.provider_sid)["account_sid"] == twilio.account_sid


# --- Webhooks: the token of the account that owns the number ------------------------------------------------------


def _status_params(message: Message, account_sid: str, status="delivered") -> dict:
    return {
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
        "MessageSid": message.provider_sid,
        "MessageStatus": status,
        "SmsSid": message.provider_sid,
        "SmsStatus": status,
        "From": message.from_number,
        "To": message.to_number,
    }


def test_a_subaccounts_webhooks_are_checked_with_its_own_token(twilio, web, personas):
    account = subaccount_of(twilio, personas.northwind)
    message = _text_back(personas.acme, "+13125550162")
    # As Twilio sends it: signed by the subaccount, with its token.
    params = _status_params(message, account.account_sid)
    platform = web("localhost")
    assert (
        post_signed(platform, STATUS, params, token=twilio.token_of(account.account_sid)).status_code == 200
    )
    with schema_context(personas.acme.schema_name):
        assert Message.objects.get(pk=message.pk).status == "delivered"
    # The platform's token does not sign for the subaccount's AccountSid, nor the subaccount's for the platform's.
    failed = _status_params(message, account.account_sid, "failed")
    assert post_signed(platform, STATUS, failed).status_code == 403
    failed["AccountSid"] = settings.TWILIO_ACCOUNT_SID
    assert post_signed(platform, STATUS, failed, token=account.auth_token).status_code == 403


def test_an_unknown_account_sid_is_refused_before_anything(twilio, web, personas):
    message = _text_back(personas.acme, "+13125550163")
    params = _status_params(message, "AC" + "f" * 32, "failed")
    assert (
        post_signed(web("localhost"), STATUS, params).status_code == 403
    )  # signed with the platform's token
    assert post_signed(web("localhost"), STATUS, params, token="anything").status_code == 403
    with schema_context(personas.acme.schema_name):
        assert Message.objects.get(pk=message.pk).status == "sent"


def test_an_agencys_own_account_cannot_speak_for_another_agencys_number(twilio, web, personas):
    """Southpeak knows its own account's token: a webhook it signs about acme's number (Northwind's) is refused
    as a number it does not serve, and nothing is recorded for acme."""
    own = twilio.add_account(friendly_name="Southpeak's own")
    twilio_accounts.own_account_connect(
        agency=personas.southpeak, account_sid=own["sid"], auth_token=own["auth_token"]
    )
    params = {
        "AccountSid": own["sid"],
        "MessageSid": sid("SM"),
        "From": "+13125550164",
        "To": str(personas.acme.phone_number),
        "Body": "STOP",
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    response = post_signed(web("localhost"), INCOMING, params, token=own["auth_token"])
    assert response.status_code == 404
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(from_number="+13125550164").exists()
    # Its own client's number, signed by it: served.
    params["To"] = str(personas.cedar.phone_number)
    assert post_signed(web("localhost"), INCOMING, params, token=own["auth_token"]).status_code == 200


# --- The agency's own Twilio account --------------------------------------------------------------------------


def test_an_admin_connects_the_agencys_own_account_once_twilio_accepts_it(twilio, web, personas):
    own = twilio.add_account(friendly_name="Northwind Twilio")
    nina = web("localhost", personas.nina)
    page = nina.get("/agency/northwind/twilio/").content.decode()
    assert "the platform's Twilio account" in page
    wrong = nina.post("/agency/northwind/twilio/", {"account_sid": own["sid"], "auth_token": "wrong-token"})
    assert wrong.status_code == 200
    assert "Twilio did not accept this Account SID and auth token." in wrong.content.decode()
    assert not TwilioAccount.objects.exists()
    bad = nina.post("/agency/northwind/twilio/", {"account_sid": "not-a-sid", "auth_token": "x"})
    assert "An Account SID is AC followed by 32" in bad.content.decode()
    right = nina.post(
        "/agency/northwind/twilio/", {"account_sid": own["sid"], "auth_token": own["auth_token"]}
    )
    assert right.status_code == 302
    account = TwilioAccount.objects.get(agency=personas.northwind)
    assert (account.kind, account.account_sid, account.friendly_name) == (
        "own",
        own["sid"],
        "Northwind Twilio",
    )
    checks = [
        (r["status"], r.get("authenticated_as")) for r in twilio.requests if r["operation"] == "FetchAccount"
    ]
    assert checks == [
        (401, None),
        (200, own["sid"]),
    ]  # the wrong token refused by Twilio, the right one accepted
    page = nina.get("/agency/northwind/twilio/").content.decode()
    assert "your own Twilio account" in page and own["auth_token"] not in page and own["sid"] not in page
    # Texts now go out from it.
    message = _text_back(personas.acme, "+13125550165")
    assert twilio.message(message.provider_sid)["account_sid"] == own["sid"]
    # Another agency cannot connect the same account.
    sara = web("localhost", personas.sara)
    taken = sara.post(
        "/agency/southpeak/twilio/", {"account_sid": own["sid"], "auth_token": own["auth_token"]}
    )
    assert "already connected to another agency" in taken.content.decode()
    nina.post("/agency/northwind/twilio/disconnect/")
    assert not TwilioAccount.objects.exists()


def test_the_twilio_page_is_for_the_agencys_admins_only(twilio, web, personas):
    own = twilio.add_account()
    form = {"account_sid": own["sid"], "auth_token": own["auth_token"]}
    assert web("localhost", personas.nate).get("/agency/northwind/twilio/").status_code == 403
    assert web("localhost", personas.nate).post("/agency/northwind/twilio/", form).status_code == 403
    assert web("localhost", personas.sara).get("/agency/northwind/twilio/").status_code == 404
    assert web("localhost", personas.sara).post("/agency/northwind/twilio/", form).status_code == 404
    assert web("localhost", personas.sara).post("/agency/northwind/twilio/disconnect/").status_code == 404
    assert web("acme.localhost", personas.nina).get("/agency/northwind/twilio/").status_code == 404
    assert not TwilioAccount.objects.exists()


# --- Moving an existing agency, and rotating the key ---------------------------------------------------------------


def test_an_existing_agency_moves_to_its_subaccount_with_its_numbers(twilio, personas, capsys):
    held = twilio.add_incoming_number(str(personas.acme.phone_number))  # bought before subaccounts
    Client.objects.filter(pk=personas.acme.pk).update(number_sid=held["sid"])
    other = twilio.add_incoming_number(str(personas.cedar.phone_number))
    Client.objects.filter(pk=personas.cedar.pk).update(number_sid=other["sid"])
    call_command("twilio_subaccounts", "--agency", "northwind")
    account = TwilioAccount.objects.get(agency=personas.northwind)
    assert twilio.incoming_number(str(personas.acme.phone_number))["account_sid"] == account.account_sid
    assert twilio.incoming_number(str(personas.cedar.phone_number))["account_sid"] == twilio.account_sid
    assert f"northwind: subaccount {account.account_sid}, 1 number(s) moved" in capsys.readouterr().out
    call_command("twilio_subaccounts", "--agency", "northwind")  # again: nothing left to move, nothing breaks
    assert "0 number(s) moved" in capsys.readouterr().out
    assert len(twilio.accounts) == 1


def test_rotating_the_key_reencrypts_every_token(twilio, personas, settings):
    old, new = crypto.Fernet.generate_key().decode(), crypto.Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    account = subaccount_of(twilio, personas.northwind)
    token = account.auth_token
    settings.CREDENTIALS_KEYS = [new, old]  # the new key first: it encrypts, both decrypt
    call_command("credentials_rotate")
    settings.CREDENTIALS_KEYS = [new]  # the old key is gone
    assert TwilioAccount.objects.get(pk=account.pk).auth_token == token
    settings.CREDENTIALS_KEYS = [old]
    with pytest.raises(crypto.SecretUnreadable):
        TwilioAccount.objects.get(pk=account.pk).auth_token  # noqa: B018 - reading it is the test


def test_production_refuses_to_store_a_token_without_a_key(settings):
    settings.CREDENTIALS_KEYS = []  # DEBUG off and none set (with DEBUG on, settings derive one)
    with pytest.raises(Exception, match="CREDENTIALS_KEYS must be set"):
        crypto.encrypt("token")


def test_a_call_back_rings_from_the_agencys_account(twilio, web, personas):
    """Calls are placed where the business's number is: the agency's subaccount (telephony.callbacks)."""
    account = subaccount_of(twilio, personas.northwind)
    conversation = add_conversation(personas.acme, name="Jane Doe", number="+13125550166")
    with schema_context(personas.acme.schema_name):
        NotificationPreference.objects.update_or_create(
            user_id=personas.alice.pk,
            defaults={"text_to": "+13125550198", "text_to_confirmed": "+13125550198"},
        )
    web("acme.localhost", personas.alice).post(f"/inbox/{conversation.pk}/call/")
    [call] = twilio.calls
    assert call["account_sid"] == account.account_sid
    create = next(r for r in twilio.requests if r["operation"] == "CreateCall")
    assert create["authenticated_as"] == account.account_sid
