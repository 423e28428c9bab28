"""The requests Textback makes to Stripe on agencies' connected accounts (Stripe Connect), in one small class
over the official `stripe` library: connecting an account (OAuth), and invoicing a client on it.

Every request on a connected account carries `Stripe-Account`, with the platform's secret key: no key or token
of the agency's is ever needed or kept. Every request that creates something carries an idempotency key made
from our own row ids, so a retried task gets Stripe's first answer again instead of a second object.

Each request is written out where it is made, so mypy checks its parameters against the library's own types
(`InvoiceCreateParams` …, TypedDicts of Stripe's API): a misspelt or retired parameter fails `./run lint`, not
a payment. Stripe is a fixed, trusted host, so these requests go through the library's own HTTP client rather than
config.outbound (which guards URLs that agencies give us). STRIPE_API_BASE and STRIPE_CONNECT_BASE point it
elsewhere (tests: tests/stripe_fake.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from django.conf import settings


class StripeConnectError(Exception):
    """Stripe refused or failed; the message is Stripe's own, fit to show the agency. `permanent`: asking again
    will not help (a bad code, a revoked account, invalid parameters)."""

    def __init__(self, message: str, *, permanent: bool = True):
        super().__init__(message)
        self.permanent = permanent


def connect_enabled() -> bool:
    """Agencies may connect Stripe: the platform set its Connect client id (settings check the rest)."""
    return bool(settings.STRIPE_CONNECT_CLIENT_ID and settings.STRIPE_SECRET_KEY)


def authorize_url(*, state: str, redirect_uri: str, email: str = "") -> str:
    """Where the agency admin approves the connection in Stripe (OAuth for Standard accounts)."""
    params = {
        "response_type": "code",
        "client_id": settings.STRIPE_CONNECT_CLIENT_ID,
        "scope": "read_write",
        "state": state,
        "redirect_uri": redirect_uri,
    }
    if email:
        params["stripe_user[email]"] = email
    return f"{settings.STRIPE_CONNECT_BASE.rstrip('/')}/oauth/authorize?{urlencode(params)}"


class StripeConnect:
    def __init__(self) -> None:
        import stripe  # here: only Stripe's paths need the library, and it takes over a second to import

        self._stripe = stripe
        self._client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            client_id=settings.STRIPE_CONNECT_CLIENT_ID,
            base_addresses={"api": settings.STRIPE_API_BASE, "connect": settings.STRIPE_CONNECT_BASE},
            max_network_retries=2,
        )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Stripe's errors (OAuth's too: its description is the message) as StripeConnectError."""
        try:
            yield
        except self._stripe.StripeError as exc:
            transient = isinstance(exc, self._stripe.APIConnectionError | self._stripe.RateLimitError) or (
                exc.http_status is not None and exc.http_status >= 500
            )
            raise StripeConnectError(exc.user_message or str(exc), permanent=not transient) from exc

    # --- Connecting --------------------------------------------------------------------------------------

    def token_exchange(self, *, code: str) -> dict[str, Any]:
        """The connected account's id (stripe_user_id) and livemode for the code Stripe handed back."""
        with self._errors():
            return self._client.oauth.token(
                params={"grant_type": "authorization_code", "code": code}
            ).to_dict()

    def deauthorize(self, *, account_id: str) -> None:
        with self._errors():
            self._client.oauth.deauthorize(params={"stripe_user_id": account_id})

    def account_retrieve(self, *, account_id: str) -> dict[str, Any]:
        with self._errors():
            return self._client.v1.accounts.retrieve(account_id).to_dict()

    # --- Invoicing on a connected account ----------------------------------------------------------------

    def customer_create(self, *, account_id: str, email: str, name: str, client_id: int) -> dict[str, Any]:
        with self._errors():
            return self._client.v1.customers.create(
                params={"email": email, "name": name, "metadata": {"textback_client_id": str(client_id)}},
                options={"stripe_account": account_id, "idempotency_key": f"textback-customer-{client_id}"},
            ).to_dict()

    def invoice_find(self, *, account_id: str, customer_id: str, statement_id: int) -> dict[str, Any] | None:
        """The customer's invoice already made for this statement (an earlier attempt whose answer was lost
        after the idempotency key expired), or None."""
        with self._errors():
            found = self._client.v1.invoices.list(
                params={"customer": customer_id, "limit": 100}, options={"stripe_account": account_id}
            ).to_dict()
        for invoice in found.get("data", []):
            if (invoice.get("metadata") or {}).get("textback_statement_id") == str(statement_id):
                return invoice
        return None

    def invoice_create(
        self,
        *,
        account_id: str,
        customer_id: str,
        statement_id: int,
        currency: str,
        description: str,
        days_until_due: int,
    ) -> dict[str, Any]:
        with self._errors():
            return self._client.v1.invoices.create(
                params={
                    "customer": customer_id,
                    "currency": currency,
                    "collection_method": "send_invoice",
                    "days_until_due": days_until_due,
                    "auto_advance": False,  # we finalize and send it ourselves, once its lines are on
                    "pending_invoice_items_behavior": "exclude",
                    "description": description,
                    "payment_settings": {"payment_method_types": ["card"]},
                    "metadata": {"textback_statement_id": str(statement_id)},
                },
                options={
                    "stripe_account": account_id,
                    "idempotency_key": f"textback-statement-{statement_id}",
                },
            ).to_dict()

    def invoice_item_add(
        self,
        *,
        account_id: str,
        customer_id: str,
        invoice_id: str,
        statement_id: int,
        index: int,
        amount_cents: int,
        currency: str,
        description: str,
    ) -> dict[str, Any]:
        with self._errors():
            return self._client.v1.invoice_items.create(
                params={
                    "customer": customer_id,
                    "invoice": invoice_id,
                    "amount": amount_cents,
                    "currency": currency,
                    "description": description,
                },
                options={
                    "stripe_account": account_id,
                    "idempotency_key": f"textback-statement-{statement_id}-line-{index}",
                },
            ).to_dict()

    def invoice_retrieve(self, *, account_id: str, invoice_id: str) -> dict[str, Any]:
        with self._errors():
            return self._client.v1.invoices.retrieve(
                invoice_id, options={"stripe_account": account_id}
            ).to_dict()

    def invoice_finalize(self, *, account_id: str, invoice_id: str, statement_id: int) -> dict[str, Any]:
        with self._errors():
            return self._client.v1.invoices.finalize_invoice(
                invoice_id,
                params={"auto_advance": False},
                options={
                    "stripe_account": account_id,
                    "idempotency_key": f"textback-statement-{statement_id}-finalize",
                },
            ).to_dict()

    def invoice_send(self, *, account_id: str, invoice_id: str, statement_id: int) -> dict[str, Any]:
        """Stripe emails the invoice to the customer, with the link to its hosted page (pay by card)."""
        with self._errors():
            return self._client.v1.invoices.send_invoice(
                invoice_id,
                options={
                    "stripe_account": account_id,
                    "idempotency_key": f"textback-statement-{statement_id}-send",
                },
            ).to_dict()


def webhook_event(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event in a webhook body, once its Stripe-Signature checks out against STRIPE_WEBHOOK_SECRET (within
    Stripe's 5-minute tolerance); ValueError saying why not otherwise."""
    import json

    import stripe

    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
        )
    except stripe.SignatureVerificationError as exc:
        raise ValueError(f"Bad Stripe-Signature: {exc.user_message or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("The body is not UTF-8.") from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise ValueError("The body is not JSON.") from exc
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
        raise ValueError("The body is not a Stripe event.")
    return event
