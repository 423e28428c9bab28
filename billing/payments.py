"""Collecting a closed platform statement from the agency: one small interface, with Stripe behind it.

Off unless STRIPE_SECRET_KEY is set; billing (metering, limits, statements) works the same without it. The
key is read here, with the project's strict environment helpers, so a setting line in config is optional:
``STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")``.
"""

from decimal import Decimal
from typing import Protocol

from django.conf import settings

from config.settings.env import env

from .models import AgencyBilling, Statement


class PaymentError(Exception):
    """Collection failed; the message says why (a declined card, no payment method on file …)."""


class PaymentGateway(Protocol):
    def collect(self, *, statement: Statement) -> str:
        """Charge the statement's total to its agency; return the provider's reference, or raise PaymentError."""
        ...


def stripe_secret_key() -> str:
    return getattr(settings, "STRIPE_SECRET_KEY", None) or env.str("STRIPE_SECRET_KEY", default="")


def amount_in_cents(amount: Decimal) -> int:
    """Stripe takes the smallest currency unit; a statement total is already rounded to the cent."""
    return int((amount * 100).to_integral_value())


class StripeGateway:
    """Charges the agency's Stripe customer (AgencyBilling.stripe_customer_id) off-session with its default
    payment method. The statement id is the idempotency key, so a retried collection never charges twice."""

    def __init__(self, secret_key: str, *, api_base: str | None = None):
        import stripe  # here: only a Stripe gateway needs the SDK, and it takes over a second to import

        # api_base: another origin for Stripe's API (tests point it at a local fake).
        self._client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base} if api_base else None, max_network_retries=2
        )
        self._stripe = stripe

    def collect(self, *, statement: Statement) -> str:
        customer = (
            AgencyBilling.objects.filter(agency_id=statement.agency_id)
            .values_list("stripe_customer_id", flat=True)
            .first()
        )
        if not customer:
            raise PaymentError("The agency has no Stripe customer on file.")
        try:
            # A PaymentIntent does not fall back to the customer's default method by itself.
            found = self._client.v1.customers.retrieve(customer)
            method = (found.to_dict().get("invoice_settings") or {}).get("default_payment_method")
            if not method:
                raise PaymentError("The agency has no default payment method in Stripe.")
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount_in_cents(statement.total),
                    "currency": statement.currency.lower(),
                    "customer": customer,
                    "payment_method": method if isinstance(method, str) else method["id"],
                    "confirm": True,
                    "off_session": True,
                    "description": f"Textback {statement.month:%Y-%m}",
                    "metadata": {"statement_id": str(statement.pk), "agency_id": str(statement.agency_id)},
                },
                options={"idempotency_key": f"statement-{statement.pk}"},
            )
        except self._stripe.StripeError as exc:
            raise PaymentError(exc.user_message or str(exc)) from exc
        return intent.id


def payment_gateway() -> PaymentGateway | None:
    """The configured gateway, or None when payment collection is off."""
    key = stripe_secret_key()
    return StripeGateway(key, api_base=getattr(settings, "STRIPE_API_BASE", None)) if key else None
