"""What every page of a client's host may say about billing: that its text-backs are paused because an invoice
from its agency is unpaid (templates/base.html). Lazy: asked only on a paused client's pages."""

from accounts.models import ClientMembership
from accounts.selectors import client_role, request_client

from .selectors import payment_pause


def _notice(request, client) -> dict | None:
    invoice = payment_pause(client=client)
    if invoice is None:
        return None
    # The link to pay is for the client's owners (the invoice's payer); staff read why, not the bill.
    user = getattr(request, "user", None)
    owner = bool(user and user.is_authenticated) and client_role(user, client) == ClientMembership.Role.OWNER
    return {"month": invoice.statement.month, "pay_url": invoice.hosted_invoice_url if owner else ""}


def payment(request) -> dict:
    client = request_client(request)
    return {"payment_pause": (lambda: _notice(request, client)) if client is not None else None}
