"""Usage and prices per subaccount, read from Twilio's Usage Records (this month, last month) for the agency's own
account and shown on its texting-health page; an agency on the platform's shared account is told it has none of its
own; another agency never sees them. Against the fake Twilio (checked against Twilio's OpenAPI).
Personas: Northwind (nina admin, nate staff), Southpeak (sara)."""

import pytest
from django.core.cache import caches
from django.utils.timezone import now
from django_tenants.utils import schema_context

from messaging import twilio_accounts
from messaging.models import TwilioAccount
from messaging.services import send_deliver, textback_schedule
from tests.webhooks import sid

pytestmark = pytest.mark.django_db

PAGE = "/deliverability/{}/"


@pytest.fixture(autouse=True)
def _forget(twilio_accounts_forgotten):
    """No agency's Twilio account, nor its usage, cached before or after a test."""

    def forget_usage():
        cache = caches["platform"]
        for agency_id in TwilioAccount.objects.values_list("agency_id", flat=True).distinct():
            for account in TwilioAccount.objects.values_list("account_sid", flat=True):
                cache.delete(f"twilio-usage:{agency_id}:{account}")

    forget_usage()
    yield
    forget_usage()


def usage_section(body: str) -> str:
    start = body.index('id="usage"')
    return body[start : body.index("</section>", start)]


def test_an_agency_on_the_shared_account_is_told_it_has_no_usage_of_its_own(twilio, web, personas):
    body = web("localhost", personas.nina).get(PAGE.format("northwind")).content.decode()
    assert "shares the platform's Twilio account" in usage_section(body)
    assert twilio.requests == []


def test_a_subaccounts_usage_and_prices_this_month_and_last(twilio, web, personas):
    account = twilio_accounts.subaccount_create(agency=personas.northwind)
    twilio.set_usage(
        account.account_sid,
        "ThisMonth",
        [
            {"category": "sms-outbound", "count": "120", "usage": "150", "price": "1.24500"},
            {
                "category": "phonenumbers",
                "count": "2",
                "usage": "2",
                "price": "2.30",
                "usage_unit": "numbers",
            },
            {"category": "totalprice", "count": "0", "usage": "3.545", "price": "3.545"},
            {"category": "recordings", "count": "9", "usage": "9", "price": "0.02"},  # not shown
        ],
    )
    twilio.set_usage(
        account.account_sid,
        "LastMonth",
        [{"category": "sms-outbound", "count": "80", "usage": "80", "price": "0.66"}],
    )
    body = usage_section(web("localhost", personas.nate).get(PAGE.format("northwind")).content.decode())
    assert account.account_sid in body
    assert "Texts sent" in body and "120" in body and "1.25 USD" in body
    assert "Phone numbers" in body and "recordings" not in body.lower()
    assert 'id="usage-total-1">3.55 USD' in body  # Twilio's own total
    assert 'id="usage-total-2">0.66 USD' in body
    reads = [r for r in twilio.requests if r["operation"].startswith("ListUsageRecord")]
    assert {r["authenticated_as"] for r in reads} == {account.account_sid}
    assert {r["path"].split("/")[3] for r in reads} == {account.account_sid}
    # Read once, then from the cache for a while.
    web("localhost", personas.nina).get(PAGE.format("northwind"))
    assert len([r for r in twilio.requests if r["operation"].startswith("ListUsageRecord")]) == 2


def test_the_default_usage_follows_the_texts_the_subaccount_sent(twilio, web, personas):
    account = twilio_accounts.subaccount_create(agency=personas.northwind)
    with schema_context(personas.acme.schema_name):
        send = textback_schedule(
            client=personas.acme, call_sid=sid("CA"), caller="+13125550123", missed_at=now()
        )
    assert send_deliver(send_id=send.pk) == "sent"
    body = usage_section(web("localhost", personas.nina).get(PAGE.format("northwind")).content.decode())
    assert "Texts (all)" in body and account.account_sid in body


def test_twilio_down_is_said_on_the_page_not_a_500(twilio, web, personas):
    twilio_accounts.subaccount_create(agency=personas.northwind)
    twilio.fail_next(500, operation="usage_this_month")
    response = web("localhost", personas.nina).get(PAGE.format("northwind"))
    assert response.status_code == 200
    assert "Usage could not be read from Twilio" in usage_section(response.content.decode())


def test_another_agency_never_sees_a_subaccounts_usage(twilio, web, personas):
    account = twilio_accounts.subaccount_create(agency=personas.northwind)
    twilio.set_usage(
        account.account_sid, "ThisMonth", [{"category": "sms", "count": "7", "usage": "7", "price": "0.05"}]
    )
    assert web("localhost", personas.sara).get(PAGE.format("northwind")).status_code == 404
    body = usage_section(web("localhost", personas.sara).get(PAGE.format("southpeak")).content.decode())
    assert account.account_sid not in body and "shares the platform's Twilio account" in body
