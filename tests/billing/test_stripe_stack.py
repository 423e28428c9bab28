"""Stripe Connect on the running stack, as production runs it: the operator's close_billing_month stores the
month, its worker sends the client's statement to the fake Stripe as an invoice, and Stripe's signed webhooks to
gunicorn pause and resume the client's text-backs (the agency chose that)."""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.conf import settings

from accounts.models import AuditEntry, Client
from billing.models import (
    ClientInvoice,
    ClientPrice,
    ClientStripeCustomer,
    MonthlyUsage,
    Statement,
    StripeConnection,
    StripeEvent,
)
from tests.stack import wait_until

from .conftest import stripe_account

NOV = date(2026, 11, 1)


def _clear(personas) -> None:
    ClientInvoice.objects.all().delete()
    for model in (ClientStripeCustomer, StripeEvent, StripeConnection):
        model.objects.all().delete()
    Statement.objects.filter(agency=personas.northwind, month=NOV).delete()
    MonthlyUsage.objects.filter(client__agency=personas.northwind, month=NOV).delete()
    ClientPrice.objects.filter(client=personas.acme).delete()
    AuditEntry.objects.filter(client=personas.acme, actor__isnull=True).delete()
    Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.LIVE)


@pytest.fixture
def agency_on_stripe(live, personas, _fake_stripe_server):
    fake = _fake_stripe_server
    fake.reset()
    _clear(personas)
    ClientPrice.objects.create(client=personas.acme, monthly_price=Decimal("99.00"))
    MonthlyUsage.objects.create(client=personas.acme, month=NOV, numbers_held=1)
    connection = StripeConnection.objects.create(
        agency=personas.northwind,
        account_id=stripe_account(fake),
        invoice_clients=True,
        invoicing_since=datetime(2026, 12, 1, tzinfo=UTC),
        pause_on_failed_payment=True,
    )
    yield fake, connection
    _clear(personas)


def _webhook(live, fake, event: dict, *, secret: str | None = None) -> tuple[int, str]:
    body = json.dumps(event).encode()
    request = urllib.request.Request(
        f"{live.base_url}/hooks/stripe/",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": fake.sign(body, secret)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the local stack
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_closed_month_is_invoiced_by_the_worker_and_webhooks_pause_and_resume(
    live, personas, agency_on_stripe
):
    fake, connection = agency_on_stripe
    closed = subprocess.run(
        [sys.executable, "manage.py", "close_billing_month", "--agency", "northwind", "--month", "2026-11"],
        cwd=settings.BASE_DIR,
        env=live.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert closed.returncode == 0, closed.stderr[-2000:]
    invoice = wait_until(
        lambda: ClientInvoice.objects.filter(client=personas.acme, status=ClientInvoice.Status.OPEN).first(),
        timeout=30,
        what="the worker to send the invoice",
    )
    [made] = fake.invoices_of(connection.account_id)
    assert made["id"] == invoice.invoice_id and made["amount_due"] == 9900 and fake.sent == [made["id"]]

    # A forged webhook changes nothing; Stripe's own pause and resume the client.
    assert _webhook(live, fake, fake.fail_payment(made["id"]), secret="whsec_forged")[0] == 400
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE
    assert _webhook(live, fake, fake.fail_payment(made["id"])) == (200, "payment failed, text-backs paused")
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.PAUSED
    assert _webhook(live, fake, fake.pay(made["id"])) == (200, "paid, text-backs resumed")
    assert Client.objects.get(pk=personas.acme.pk).status == Client.Status.LIVE
    assert Statement.objects.get(pk=invoice.statement_id).paid_at is not None
