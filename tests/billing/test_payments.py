"""Payment collection goes through one small interface; Stripe is one implementation, off unless
STRIPE_SECRET_KEY is set. The interface is tested with a fake gateway (Stripe itself is never called)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from billing.models import AgencyBilling, Statement
from billing.payments import PaymentError, StripeGateway, amount_in_cents, payment_gateway
from billing.services import statement_collect, statements_close
from billing.tasks import statements_close_last_month

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


class FakeGateway:
    """Records what it was asked to collect; fails when told to."""

    def __init__(self, fail_with: str = ""):
        self.collected: list[tuple[int, Decimal]] = []
        self.fail_with = fail_with

    def collect(self, *, statement: Statement) -> str:
        if self.fail_with:
            raise PaymentError(self.fail_with)
        self.collected.append((statement.pk, statement.total))
        return f"pay_{statement.pk}"


@pytest.fixture
def closed(personas, plan) -> Statement:
    with time_machine.travel(datetime(2026, 12, 2, tzinfo=CHICAGO), tick=False):
        statements_close(agency=personas.northwind, month=date(2026, 11, 1))
    return Statement.objects.get(kind=Statement.Kind.PLATFORM, agency=personas.northwind)


def test_a_closed_statement_is_collected_once(closed):
    gateway = FakeGateway()
    paid = statement_collect(statement=closed, gateway=gateway)
    statement_collect(statement=closed, gateway=gateway)
    assert gateway.collected == [(closed.pk, Decimal("69.00"))]
    assert paid.payment_reference == f"pay_{closed.pk}" and paid.paid_at is not None


def test_a_failed_collection_is_recorded_and_can_be_retried(closed):
    failed = statement_collect(statement=closed, gateway=FakeGateway(fail_with="Your card was declined."))
    assert (failed.paid_at, failed.payment_error) == (None, "Your card was declined.")
    retried = statement_collect(statement=closed, gateway=FakeGateway())
    assert retried.paid_at is not None and retried.payment_error == ""


def test_a_zero_statement_is_not_collected(personas, closed):
    zero = Statement.objects.filter(kind=Statement.Kind.CLIENT).first()  # no prices set: 0.00
    gateway = FakeGateway()
    statement_collect(statement=zero, gateway=gateway)
    assert gateway.collected == []


def test_payment_is_off_without_a_stripe_key(settings, monkeypatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    settings.STRIPE_SECRET_KEY = ""
    assert payment_gateway() is None


def test_a_stripe_key_turns_stripe_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_not_a_real_key"
    assert isinstance(payment_gateway(), StripeGateway)


def test_stripe_takes_cents():
    assert amount_in_cents(Decimal("69.10")) == 6910
    assert amount_in_cents(Decimal("0.01")) == 1


def test_stripe_refuses_an_agency_without_a_customer_before_calling_stripe(closed):
    with pytest.raises(PaymentError, match="no Stripe customer"):
        StripeGateway("sk_test_not_a_real_key").collect(statement=closed)


def test_the_monthly_task_closes_last_month_and_collects_the_platforms_statements(
    personas, plan, monkeypatch
):
    gateway = FakeGateway()
    monkeypatch.setattr("billing.tasks.payment_gateway", lambda: gateway)
    with time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=CHICAGO), tick=False):
        assert statements_close_last_month() == 1
        assert statements_close_last_month() == 1  # already paid: not charged again
    northwind = Statement.objects.get(kind=Statement.Kind.PLATFORM, agency=personas.northwind)
    assert gateway.collected == [(northwind.pk, Decimal("69.00"))]
    # southpeak has no plan: a statement of 0.00, nothing to collect
    assert Statement.objects.get(kind=Statement.Kind.PLATFORM, agency=personas.southpeak).total == Decimal(
        "0.00"
    )


# --- The Stripe implementation, against a fake of Stripe's HTTP API ---------------------------------------


class FakeStripe:
    """Stripe's API on 127.0.0.1, answering the two calls the gateway makes and recording each request."""

    def __init__(self, *, decline: bool = False, payment_method: str | None = "pm_card_visa"):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        fake = self
        self.requests: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.requests.append({"method": "GET", "path": self.path})
                settings = {"default_payment_method": payment_method}
                self._answer(200, {"id": "cus_agency", "object": "customer", "invoice_settings": settings})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "form": form,
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                    }
                )
                if decline:
                    self._answer(
                        402,
                        {
                            "error": {
                                "type": "card_error",
                                "code": "card_declined",
                                "message": "Your card was declined.",
                            }
                        },
                    )
                else:
                    self._answer(200, {"id": "pi_123", "object": "payment_intent", "status": "succeeded"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def with_customer(personas, closed):
    AgencyBilling.objects.filter(agency=personas.northwind).update(stripe_customer_id="cus_agency")
    return closed


def _stripe(fake: FakeStripe) -> StripeGateway:
    return StripeGateway("sk_test_not_a_real_key", api_base=fake.base_url)


def test_stripe_charges_the_agencys_default_method_once_per_statement(with_customer):
    fake = FakeStripe()
    try:
        paid = statement_collect(statement=with_customer, gateway=_stripe(fake))
    finally:
        fake.close()
    assert (paid.payment_reference, paid.payment_error) == ("pi_123", "")
    get, post = fake.requests
    assert (get["method"], get["path"]) == ("GET", "/v1/customers/cus_agency")
    assert post["path"] == "/v1/payment_intents"
    assert post["form"] == {
        "amount": "6900",
        "currency": "usd",
        "customer": "cus_agency",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "off_session": "true",
        "description": "Textback 2026-11",
        "metadata[statement_id]": str(with_customer.pk),
        "metadata[agency_id]": str(with_customer.agency_id),
    }
    assert post["idempotency_key"] == f"statement-{with_customer.pk}"


def test_a_declined_card_is_recorded_in_stripes_words(with_customer):
    fake = FakeStripe(decline=True)
    try:
        failed = statement_collect(statement=with_customer, gateway=_stripe(fake))
    finally:
        fake.close()
    assert (failed.paid_at, failed.payment_error) == (None, "Your card was declined.")


def test_no_default_payment_method_is_a_clear_error(with_customer):
    fake = FakeStripe(payment_method=None)
    try:
        failed = statement_collect(statement=with_customer, gateway=_stripe(fake))
    finally:
        fake.close()
    assert failed.payment_error == "The agency has no default payment method in Stripe."
    assert [request["method"] for request in fake.requests] == ["GET"]  # nothing was charged
