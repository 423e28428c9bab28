"""A closed client statement becomes a Stripe invoice on the agency's connected account, and Stripe's webhooks
about it move its status; a failed card payment pauses the client's text-backs only if the agency chose that,
with notice, and paying resumes them. All against the fake Stripe over HTTP (the real stripe library), webhooks
signed as Stripe signs them and checked by the library's own WebhookSignature."""

import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import AuditEntry, Client
from billing import connect
from billing.models import (
    ClientInvoice,
    ClientPrice,
    ClientStripeCustomer,
    MonthlyUsage,
    Statement,
    StripeEvent,
)
from billing.services import statements_close

from .conftest import connect_agency, price_for

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOV = date(2026, 11, 1)
HOST = "localhost"


def _close_november(agency) -> list[Statement]:
    with time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=CHICAGO), tick=False):
        return statements_close(agency=agency, month=NOV)


@pytest.fixture
def november(personas, plan):
    """Acme used 250 segments in November (100 included at 0.03 each above) on a price of 99.00: 103.50."""
    price_for(personas.acme, included_segments=100, owner_sees_statement=True)
    MonthlyUsage.objects.create(client=personas.acme, month=NOV, segments_out=250, numbers_held=1)
    return personas


@pytest.fixture
def connected(november, stripe_fake):
    return connect_agency(november.northwind, stripe_fake)


def _acme_statement() -> Statement:
    return Statement.objects.get(kind=Statement.Kind.CLIENT, client__slug="acme", month=NOV)


def _issued(personas) -> ClientInvoice:
    _close_november(personas.northwind)
    invoice = connect.client_invoice_issue(statement_id=_acme_statement().pk)
    assert invoice is not None
    return invoice


def test_a_closed_statement_becomes_a_sent_invoice_at_the_agencys_prices(personas, connected, stripe_fake):
    invoice = _issued(personas)
    statement = _acme_statement()
    assert statement.total == Decimal("103.50")
    assert invoice.status == ClientInvoice.Status.OPEN and invoice.error == ""
    assert invoice.hosted_invoice_url == f"{stripe_fake.base_url}/hosted/{invoice.invoice_id}"

    [made] = stripe_fake.invoices_of(connected.account_id)
    assert made["status"] == "open" and made["collection_method"] == "send_invoice"
    assert made["amount_due"] == 10350 and made["currency"] == "usd"
    assert made["payment_settings"] == {"payment_method_types": ["card"]}
    assert made["metadata"] == {"textback_statement_id": str(statement.pk)}
    assert [(line["description"], line["amount"]) for line in made["lines"]["data"]] == [
        ("Monthly service", 9900),
        ("SMS segments above the 100 included (250 used): 150 × 0.0300 USD", 450),
    ]
    assert stripe_fake.sent == [made["id"]]
    customer = stripe_fake.customers[made["customer"]]
    assert (customer["email"], customer["name"]) == ("alice@acme.test", "Acme Plumbing")  # the first owner
    # Every request acted on the agency's account, and each one that creates something had an idempotency key.
    api = [r for r in stripe_fake.requests if r["path"].startswith("/v1/")]
    assert {r["account"] for r in api} == {connected.account_id}
    assert all(r["idempotency_key"] for r in api if r["method"] == "POST")


def test_a_billing_email_set_by_the_agency_is_used(personas, connected, stripe_fake):
    ClientPrice.objects.filter(client=personas.acme).update(billing_email="accounts@acme.test")
    _issued(personas)
    [customer] = stripe_fake.customers.values()
    assert customer["email"] == "accounts@acme.test"


def test_a_retried_task_never_invoices_twice(personas, connected, stripe_fake):
    first = _issued(personas)
    again = connect.client_invoice_issue(statement_id=_acme_statement().pk)
    assert again.pk == first.pk and again.invoice_id == first.invoice_id
    assert len(stripe_fake.invoices) == 1 and len(stripe_fake.customers) == 1
    assert stripe_fake.sent == [first.invoice_id]


def test_an_attempt_cut_off_halfway_is_finished_without_a_second_invoice(personas, connected, stripe_fake):
    """Stripe fails (5xx, after the library's own retries) while finalizing: the invoice made so far is kept,
    the task is told to retry, and the retry finalizes that same invoice with its lines added once."""
    stripe_fake.fail_next(500, "api_error", "Something went wrong on Stripe's end.", on="/finalize", times=3)
    _close_november(personas.northwind)
    statement = _acme_statement()
    with pytest.raises(connect.StripeConnectError):
        connect.client_invoice_issue(statement_id=statement.pk)
    halfway = ClientInvoice.objects.get(statement=statement)
    assert halfway.status == ClientInvoice.Status.ERROR and halfway.invoice_id
    assert "went wrong" in halfway.error

    done = connect.client_invoice_issue(statement_id=statement.pk)
    assert done.status == ClientInvoice.Status.OPEN
    [made] = stripe_fake.invoices.values()
    assert made["id"] == done.invoice_id and len(made["lines"]["data"]) == 2 and made["amount_due"] == 10350


def test_an_invoice_made_long_ago_is_found_not_made_again(personas, connected, stripe_fake):
    """Our row is gone and Stripe's idempotency keys have expired (24 hours): the invoice is found by the
    statement id in its metadata, and the customer by our own record."""
    first = _issued(personas)
    ClientInvoice.objects.all().delete()
    stripe_fake._idempotent.clear()
    again = connect.client_invoice_issue(statement_id=_acme_statement().pk)
    assert again.invoice_id == first.invoice_id
    assert len(stripe_fake.invoices) == 1 and len(stripe_fake.customers) == 1


def test_a_client_without_a_billing_email_is_not_invoiced_and_the_agency_is_told(
    personas, connected, stripe_fake
):
    from accounts.models import ClientMembership

    ClientMembership.objects.filter(client=personas.acme).delete()
    invoice = _issued(personas)
    assert invoice.status == ClientInvoice.Status.ERROR
    assert (
        invoice.error == "Acme Plumbing has no billing email: set one on its price page, or invite an owner."
    )
    assert not stripe_fake.invoices


def test_the_agency_sends_a_failed_invoice_again_once_it_fixed_the_cause(
    web, personas, connected, stripe_fake, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.models import ClientMembership

    ClientMembership.objects.filter(client=personas.acme).delete()
    invoice = _issued(personas)
    page = web(HOST, personas.nina).get("/billing/northwind/stripe/").content.decode()
    assert "has no billing email" in page and "Send again" in page
    ClientPrice.objects.filter(client=personas.acme).update(billing_email="accounts@acme.test")
    monkeypatch.setattr(
        "billing.tasks.client_invoice_send.apply_async",
        lambda args, **kw: connect.client_invoice_issue(statement_id=args[0]),
    )
    retry = f"/billing/northwind/stripe/invoices/{invoice.pk}/retry/"
    # Another agency's admin and the agency's staff: not found, nothing sent.
    assert web(HOST, personas.sara).post(retry).status_code == 404
    assert web(HOST, personas.nate).post(retry).status_code == 404
    assert not stripe_fake.invoices
    with django_capture_on_commit_callbacks(execute=True):
        assert web(HOST, personas.nina).post(retry).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == ClientInvoice.Status.OPEN and len(stripe_fake.invoices) == 1
    # Sent now: there is nothing to send again.
    assert web(HOST, personas.nina).post(retry).status_code == 404


def test_a_refused_request_is_kept_in_stripes_words(personas, connected, stripe_fake):
    stripe_fake.fail_next(400, "invalid_request_error", "Invalid currency: xyz.", on="/v1/invoices")
    invoice = _issued(personas)
    assert (invoice.status, invoice.error) == (ClientInvoice.Status.ERROR, "Invalid currency: xyz.")


def test_closing_a_month_queues_the_invoices_after_commit(
    personas, connected, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(
        "billing.tasks.client_invoice_send.apply_async", lambda args, **kw: queued.append(args[0])
    )
    with django_capture_on_commit_callbacks(execute=True):
        _close_november(personas.northwind)
    # Bolt has no price (0.00): nothing to invoice.
    assert queued == [_acme_statement().pk]


def test_statements_closed_before_invoicing_was_switched_on_are_not_sent(personas, connected, stripe_fake):
    connected.invoicing_since = datetime(2026, 12, 5, tzinfo=CHICAGO)
    connected.save()
    _close_november(personas.northwind)
    assert connect.client_invoice_issue(statement_id=_acme_statement().pk) is None
    assert connect.client_invoices_pending() == []
    assert not stripe_fake.requests


def test_the_daily_sweep_finds_a_statement_whose_task_was_lost(personas, connected, stripe_fake):
    _close_november(personas.northwind)
    assert connect.client_invoices_pending() == [_acme_statement().pk]
    connect.client_invoice_issue(statement_id=_acme_statement().pk)
    assert connect.client_invoices_pending() == []


def test_without_stripe_everything_stays_as_today(personas, november, stripe_fake, settings, web):
    """Stripe Connect off (no client id), even with an old connection row: statements close and read as
    before, nothing is queued or sent, and the webhook endpoint is not there."""
    connect_agency(personas.northwind, stripe_fake)
    stripe_fake.requests.clear()
    settings.STRIPE_CONNECT_CLIENT_ID = ""
    statements = _close_november(personas.northwind)
    assert len(statements) == 3 and _acme_statement().total == Decimal("103.50")
    assert connect.client_invoice_issue(statement_id=_acme_statement().pk) is None
    assert connect.client_invoices_pending() == []
    assert not stripe_fake.requests and not ClientInvoice.objects.exists()
    page = web("acme.localhost", personas.alice).get("/billing/2026-11/").content.decode()
    assert "103.50" in page and "stripe-invoice" not in page
    assert web(HOST).post("/hooks/stripe/", b"{}", content_type="application/json").status_code == 404


def test_an_agency_that_did_not_choose_stripe_invoicing_sends_nothing(personas, november, stripe_fake):
    connect_agency(personas.northwind, stripe_fake, invoice_clients=False)
    _close_november(personas.northwind)
    assert connect.client_invoice_issue(statement_id=_acme_statement().pk) is None
    assert not stripe_fake.invoices


# --- The invoice on the statement pages --------------------------------------------------------------------


def test_the_agency_and_the_owner_see_the_invoice_and_its_payment_link(web, personas, connected, stripe_fake):
    invoice = _issued(personas)
    agency_page = web(HOST, personas.nina).get("/billing/northwind/clients/acme/2026-11/").content.decode()
    assert "Sent, awaiting payment" in agency_page and invoice.hosted_invoice_url in agency_page
    month_page = web(HOST, personas.nina).get("/billing/northwind/2026-11/").content.decode()
    assert "Invoice: Sent, awaiting payment" in month_page
    owner_page = web("acme.localhost", personas.alice).get("/billing/2026-11/").content.decode()
    assert "Pay by card" in owner_page and invoice.hosted_invoice_url in owner_page


def test_no_one_else_sees_the_invoice(web, personas, connected, stripe_fake):
    invoice = _issued(personas)
    # Southpeak's admin, on the agency host: the same 404 as a missing client.
    assert web(HOST, personas.sara).get("/billing/northwind/clients/acme/2026-11/").status_code == 404
    assert web(HOST, personas.sara).get("/billing/northwind/stripe/").status_code == 404
    # Bolt's owner on Acme's host is not let in; on Bolt's own host he sees Bolt's statement, not Acme's invoice.
    assert (
        invoice.hosted_invoice_url.encode()
        not in web("acme.localhost", personas.dave).get("/billing/").content
    )
    price_for(personas.bolt, owner_sees_statement=True)
    bolt = web("bolt.localhost", personas.dave).get("/billing/2026-11/").content.decode()
    assert invoice.hosted_invoice_url not in bolt and "Acme" not in bolt
    # Acme's staff member is not an owner: the statement (and so the invoice) is not shared with him.
    assert (
        invoice.hosted_invoice_url.encode()
        not in web("acme.localhost", personas.bob).get("/billing/").content
    )


# --- Webhooks ----------------------------------------------------------------------------------------------


def _post(web, fake, event: dict, *, secret: str | None = None, timestamp: int | None = None, body=None):
    body = body if body is not None else json.dumps(event)
    return web(HOST).post(
        "/hooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake.sign(body, secret, timestamp=timestamp),
    )


def test_a_paid_invoice_is_marked_paid(
    web, personas, connected, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = _issued(personas)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post(web, stripe_fake, stripe_fake.pay(invoice.invoice_id))
    assert (answer.status_code, answer.content) == (200, b"paid")
    invoice.refresh_from_db()
    assert invoice.status == ClientInvoice.Status.PAID and invoice.paid_at is not None
    statement = _acme_statement()
    assert statement.paid_at is not None and statement.payment_reference == invoice.invoice_id
    assert {tuple(m.to) for m in mailoutbox} == {("nina@northwind.test",), ("alice@acme.test",)}
    page = web(HOST, personas.nina).get("/billing/northwind/clients/acme/2026-11/").content.decode()
    assert "Paid" in page and "pay-invoice" not in page


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no header", "five minutes old", "garbled header"],
)
def test_a_bad_signature_is_a_400_that_says_why_and_changes_nothing(
    web, personas, connected, stripe_fake, tamper
):
    import time

    invoice = _issued(personas)
    event = stripe_fake.pay(invoice.invoice_id)
    body = json.dumps(event)
    headers = {"HTTP_STRIPE_SIGNATURE": stripe_fake.sign(body)}
    if tamper == "wrong secret":
        headers["HTTP_STRIPE_SIGNATURE"] = stripe_fake.sign(body, "whsec_someone_else")
    elif tamper == "changed body":
        body = body.replace('"invoice.paid"', '"invoice.voided"')
    elif tamper == "no header":
        headers = {}
    elif tamper == "five minutes old":
        headers["HTTP_STRIPE_SIGNATURE"] = stripe_fake.sign(body, timestamp=int(time.time()) - 301)
    else:
        headers["HTTP_STRIPE_SIGNATURE"] = "v1=deadbeef"
    answer = web(HOST).post("/hooks/stripe/", body, content_type="application/json", **headers)
    assert answer.status_code == 400
    assert answer.content.decode().startswith("Bad Stripe-Signature:")
    invoice.refresh_from_db()
    assert invoice.status == ClientInvoice.Status.OPEN and not StripeEvent.objects.exists()


def test_a_redelivered_event_is_handled_once(
    web, personas, connected, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = _issued(personas)
    event = stripe_fake.pay(invoice.invoice_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(web, stripe_fake, event).content == b"paid"
        assert _post(web, stripe_fake, event).content == b"already handled"
    assert len(mailoutbox) == 2  # the agency and the owner, once


def test_an_unknown_accounts_event_is_ignored(web, personas, connected, stripe_fake):
    invoice = _issued(personas)
    event = stripe_fake.pay(invoice.invoice_id)
    event["account"] = "acct_nobody_connected"
    answer = _post(web, stripe_fake, event)
    assert (answer.status_code, answer.content) == (200, b"ignored: no agency has connected this account")
    invoice.refresh_from_db()
    assert invoice.status == ClientInvoice.Status.OPEN


def test_another_agencys_account_cannot_touch_this_agencys_invoice(web, personas, connected, stripe_fake):
    """Southpeak's connected account sends an event naming Northwind's invoice id: not one of Southpeak's."""
    southpeak = connect_agency(personas.southpeak, stripe_fake)
    invoice = _issued(personas)
    event = stripe_fake.fail_payment(invoice.invoice_id)
    event["account"] = southpeak.account_id
    assert _post(web, stripe_fake, event).content == b"ignored: not one of our invoices"
    invoice.refresh_from_db()
    assert invoice.status == ClientInvoice.Status.OPEN


def test_a_failed_payment_pauses_text_backs_when_the_agency_chose_it_and_paying_resumes_them(
    web, personas, connected, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    connected.pause_on_failed_payment = True
    connected.save()
    invoice = _issued(personas)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post(web, stripe_fake, stripe_fake.fail_payment(invoice.invoice_id))
    assert answer.content == b"payment failed, text-backs paused"
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.PAUSED
    audit = AuditEntry.objects.filter(client=personas.acme, action=AuditEntry.Action.PAUSE).first()
    assert audit.actor is None and "invoice for November 2026 was not paid" in audit.detail
    to_owner = next(m for m in mailoutbox if m.to == ["alice@acme.test"])
    assert "paused until it is paid" in to_owner.body and invoice.hosted_invoice_url in to_owner.body
    assert any(m.to == ["nina@northwind.test"] for m in mailoutbox)

    # The owner's inbox says why, with the link to pay; a staff member reads why without the bill.
    owner_page = web("acme.localhost", personas.alice).get("/", follow=True).content.decode()
    assert "its invoice for November 2026 from Northwind" in owner_page
    assert f'href="{invoice.hosted_invoice_url}"' in owner_page
    staff_page = web("acme.localhost", personas.bob).get("/", follow=True).content.decode()
    assert "its invoice for November 2026" in staff_page and invoice.hosted_invoice_url not in staff_page
    # The agency's dashboard names the client.
    dashboard = web(HOST, personas.nina).get("/").content.decode()
    assert "Acme Plumbing's invoice for November 2026 (text-backs paused until paid)" in dashboard

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post(web, stripe_fake, stripe_fake.pay(invoice.invoice_id))
    assert answer.content == b"paid, text-backs resumed"
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE
    assert any("running again" in m.body for m in mailoutbox)
    assert "unpaid-invoices" not in web(HOST, personas.nina).get("/").content.decode()


def test_without_the_agencys_choice_a_failed_payment_only_gives_notice(
    web, personas, connected, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = _issued(personas)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            _post(web, stripe_fake, stripe_fake.fail_payment(invoice.invoice_id)).content == b"payment failed"
        )
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE
    assert any("Text-backs keep going out." in m.body for m in mailoutbox)
    invoice.refresh_from_db()
    assert invoice.status == ClientInvoice.Status.PAYMENT_FAILED
    assert "Card payment failed" in web(HOST, personas.nina).get("/").content.decode()


def test_a_client_the_agency_paused_by_hand_is_not_resumed_by_a_payment(
    web, personas, connected, stripe_fake
):
    from accounts.services import client_pause

    invoice = _issued(personas)
    client_pause(client=personas.acme, actor=personas.nina)
    _post(web, stripe_fake, stripe_fake.fail_payment(invoice.invoice_id))
    assert _post(web, stripe_fake, stripe_fake.pay(invoice.invoice_id)).content == b"paid"
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.PAUSED


def test_voiding_the_invoice_ends_the_pause(web, personas, connected, stripe_fake):
    connected.pause_on_failed_payment = True
    connected.save()
    invoice = _issued(personas)
    _post(web, stripe_fake, stripe_fake.fail_payment(invoice.invoice_id))
    assert (
        _post(web, stripe_fake, stripe_fake.void(invoice.invoice_id)).content == b"voided, text-backs resumed"
    )
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE


def test_a_late_failure_after_payment_changes_nothing(web, personas, connected, stripe_fake):
    connected.pause_on_failed_payment = True
    connected.save()
    invoice = _issued(personas)
    failed = stripe_fake.fail_payment(invoice.invoice_id)
    _post(web, stripe_fake, stripe_fake.pay(invoice.invoice_id))
    assert _post(web, stripe_fake, failed).content == b"ignored: the invoice is paid"
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE


def test_revoking_access_in_stripe_disconnects_the_agency(web, personas, connected, stripe_fake):
    event = stripe_fake.event("account.application.deauthorized", {"id": "ca_x", "object": "application"})
    event["account"] = connected.account_id
    assert _post(web, stripe_fake, event).status_code == 200
    assert not type(connected).objects.filter(agency=personas.northwind).exists()


def test_a_body_that_is_not_an_event_is_a_400(web, personas, connected, stripe_fake):
    assert _post(web, stripe_fake, {}, body="[1, 2]").status_code == 400


def test_customers_are_reused_month_after_month(personas, connected, stripe_fake):
    _issued(personas)
    december = date(2026, 12, 1)
    MonthlyUsage.objects.create(client=personas.acme, month=december, numbers_held=1)
    with time_machine.travel(datetime(2027, 1, 2, 9, 0, tzinfo=CHICAGO), tick=False):
        statements_close(agency=personas.northwind, month=december)
    statement = Statement.objects.get(kind=Statement.Kind.CLIENT, client=personas.acme, month=december)
    connect.client_invoice_issue(statement_id=statement.pk)
    assert len(stripe_fake.customers) == 1 and len(stripe_fake.invoices) == 2
    assert ClientStripeCustomer.objects.filter(client=personas.acme).count() == 1
