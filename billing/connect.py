"""Agencies billing their clients through their own Stripe account (Stripe Connect): connecting it, sending each
closed client statement as a Stripe invoice on it, and following what Stripe says about those invoices.

- Connecting is Stripe's OAuth for Standard accounts. The `state` we send is a random token kept in the admin's
  session with the agency it is for; the return is accepted once, from that session, for an agency the person
  still administers. We keep the account's id only (the platform's key acts on it with Stripe-Account).
- Invoicing: when a client statement closes and the agency invoices through Stripe, a task makes (or reuses) the
  client's customer on the agency's account, a draft invoice with the statement's lines at the agency's prices,
  finalizes it and has Stripe email it (its hosted page takes a card). Each step carries an idempotency key made
  from the statement's id and its progress is kept on the ClientInvoice row, so a retried task never invoices
  twice; an invoice already made for the statement is found by its metadata before another is made.
- Webhooks (connected-account events) move the invoice's status; a failed payment pauses the client's text-backs
  when the agency chose that (accounts.services.client_pause: the client's one "paused" state), and paying (or
  the agency voiding the invoice) resumes them. Everyone concerned is emailed either way.

Without STRIPE_CONNECT_CLIENT_ID nothing here runs: statements close and read exactly as before.
"""

import logging
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.timezone import now, override

from accounts.models import Agency, AgencyMembership, AuditEntry, Client, ClientMembership, User
from accounts.services import (
    ClientStateError,
    agency_url,
    audit_record,
    brand_from_email,
    client_pause,
    client_resume,
)

from .models import (
    AgencyBilling,
    ClientInvoice,
    ClientPrice,
    ClientStripeCustomer,
    Statement,
    StripeConnection,
    StripeEvent,
)
from .payments import amount_in_cents
from .selectors import agency_time_zone
from .stripe_api import StripeConnect, StripeConnectError, connect_enabled

log = logging.getLogger(__name__)

_SESSION_KEY = "billing_stripe_connect"
STATE_SECONDS = 15 * 60
_PUBLIC_URLS = settings.PUBLIC_SCHEMA_URLCONF  # the agency's pages (its host or the platform's)


class ConnectRefused(ValueError):
    """The connection cannot be made; the message says why, for the agency admin."""


# --- Connecting --------------------------------------------------------------------------------------------


def connect_state_new(*, session, agency: Agency) -> str:
    """A one-time state for Stripe's authorize link, bound to this session and this agency."""
    state = secrets.token_urlsafe(32)
    session[_SESSION_KEY] = {"state": state, "agency": agency.pk, "at": now().timestamp()}
    return state


def connect_state_take(*, session, state: str) -> int | None:
    """The agency a returning state was made for, once: the session's state is spent whatever the answer, so a
    replayed or forged return finds nothing. None when it does not match or is too old."""
    kept = session.pop(_SESSION_KEY, None)
    if not isinstance(kept, dict) or not state or not isinstance(kept.get("state"), str):
        return None
    if not secrets.compare_digest(kept["state"], state):
        return None
    if now().timestamp() - float(kept.get("at", 0)) > STATE_SECONDS:
        return None
    return int(kept["agency"])


def stripe_connect_finish(
    *, agency: Agency, user: User, code: str, ip_address: str | None = None
) -> StripeConnection:
    """Exchange the code Stripe handed back for the connected account, and keep the account's id (and its name,
    to show). Every admin of the agency is emailed (stripe_account_notify). Raises StripeConnectError (Stripe's
    words) or ConnectRefused."""
    api = StripeConnect()
    token = api.token_exchange(code=code)
    account_id = str(token.get("stripe_user_id") or "")
    if not account_id.startswith("acct_"):
        raise ConnectRefused("Stripe did not say which account was connected; nothing was saved.")
    owner = StripeConnection.objects.filter(account_id=account_id).exclude(agency=agency).first()
    if owner is not None:
        raise ConnectRefused(
            "That Stripe account is already connected to another agency; connect a different account."
        )
    name, email = "", ""
    try:
        account = api.account_retrieve(account_id=account_id)
        profile = account.get("business_profile") or {}
        dashboard = (account.get("settings") or {}).get("dashboard") or {}
        name = str(profile.get("name") or dashboard.get("display_name") or "")[:200]
        email = str(account.get("email") or "")[:254]
    except StripeConnectError as exc:  # only for showing; the connection stands without it
        log.warning("could not read Stripe account %s: %s", account_id, exc)
    try:
        with transaction.atomic():
            before = StripeConnection.objects.select_for_update().filter(agency=agency).first()
            previous = (before.account_id, before.account_name) if before is not None else None
            connection, _ = StripeConnection.objects.update_or_create(
                agency=agency,
                defaults={
                    "account_id": account_id,
                    "account_name": name,
                    "account_email": email,
                    "livemode": bool(token.get("livemode")),
                    "connected_at": now(),
                    "connected_by": user,
                },
            )
    except IntegrityError as exc:  # another agency took the account at the same moment
        raise ConnectRefused(
            "That Stripe account is already connected to another agency; connect a different account."
        ) from exc
    audit_record(
        agency=agency,
        actor=user,
        action=AuditEntry.Action.STRIPE_CONNECT,
        detail=f"{account_id} {name}",
        ip_address=ip_address,
    )
    changed = previous is not None and previous[0] != account_id
    stripe_account_notify(
        agency=agency,
        what="changed" if changed else "connected",
        account=(account_id, name),
        previous=previous if changed else None,
        actor=user,
        ip_address=ip_address,
    )
    return connection


def stripe_disconnect(*, agency: Agency, user: User | None, ip_address: str | None = None) -> bool:
    """Forget the agency's Stripe account and tell Stripe to revoke our access. Invoices already sent stay on
    the agency's account (it collects them there); no new ones are made. False if nothing was connected."""
    connection = StripeConnection.objects.filter(agency=agency).first()
    if connection is None:
        return False
    try:
        StripeConnect().deauthorize(account_id=connection.account_id)
    except StripeConnectError as exc:  # already revoked in Stripe's dashboard: forgetting it is what is left
        log.info("Stripe deauthorize of %s: %s", connection.account_id, exc)
    connection.delete()
    audit_record(
        agency=agency,
        actor=user,
        action=AuditEntry.Action.STRIPE_DISCONNECT,
        detail=connection.account_id,
        ip_address=ip_address,
    )
    stripe_account_notify(
        agency=agency,
        what="disconnected",
        account=(connection.account_id, connection.account_name),
        actor=user,
        ip_address=ip_address,
    )
    return True


def stripe_connection_update(
    *,
    connection: StripeConnection,
    user: User,
    invoice_clients: bool,
    pause_on_failed_payment: bool,
    days_until_due: int,
) -> StripeConnection:
    if invoice_clients and not connection.invoice_clients:
        connection.invoicing_since = now()
    connection.invoice_clients = invoice_clients
    connection.pause_on_failed_payment = pause_on_failed_payment
    connection.days_until_due = days_until_due
    connection.save()
    choices = [
        "invoices clients" if invoice_clients else "does not invoice clients",
        "pauses on failed payments" if pause_on_failed_payment else "does not pause",
        f"{days_until_due} days to pay",
    ]
    audit_record(
        agency=connection.agency,
        actor=user,
        action=AuditEntry.Action.STRIPE_SETTINGS,
        detail=", ".join(choices),
    )
    return connection


def client_invoice_retry(*, invoice: ClientInvoice) -> None:
    """Send again an invoice that could not be sent (the agency fixed the billing email, Stripe is back)."""
    client_invoice_queue(statement=invoice.statement)


# --- Invoicing ---------------------------------------------------------------------------------------------


def _invoicing(agency_id: int) -> StripeConnection | None:
    if not connect_enabled():
        return None
    return StripeConnection.objects.filter(agency_id=agency_id, invoice_clients=True).first()


def client_invoice_due(*, statement: Statement) -> bool:
    """This statement is to become a Stripe invoice: a client's, with something to pay, of an agency invoicing
    through Stripe since before it closed, and not sent already."""
    if statement.kind != Statement.Kind.CLIENT or statement.total <= 0:
        return False
    connection = _invoicing(statement.agency_id)
    if (
        connection is None
        or connection.invoicing_since is None
        or statement.closed_at < connection.invoicing_since
    ):
        return False
    sent = ClientInvoice.objects.filter(statement=statement).exclude(
        status__in=[ClientInvoice.Status.PENDING, ClientInvoice.Status.ERROR]
    )
    return not sent.exists()


def client_invoice_queue(*, statement: Statement) -> None:
    """After commit, have a worker send the statement as an invoice (if it is due one)."""
    if not client_invoice_due(statement=statement):
        return

    def queue(statement_id: int = statement.pk) -> None:
        from .tasks import client_invoice_send  # here: the task module imports this one

        try:
            client_invoice_send.apply_async((statement_id,), retry=False)
        except Exception as exc:  # the broker is down: the close task (every 6 hours) finds it unsent
            log.warning("could not queue the invoice of statement %s: %s", statement_id, exc)

    transaction.on_commit(queue)


def client_billing_email(*, client: Client) -> str:
    """Where a client's invoices go: the address the agency set on its price, else its first owner's."""
    chosen = ClientPrice.objects.filter(client=client).values_list("billing_email", flat=True).first()
    if chosen:
        return chosen
    owner = (
        ClientMembership.objects.filter(client=client, role=ClientMembership.Role.OWNER)
        .order_by("pk")
        .values_list("user__email", flat=True)
        .first()
    )
    return owner or ""


def _line_text(line: dict, currency: str) -> str:
    if int(line["quantity"]) == 1:
        return line["description"]
    return f"{line['description']}: {line['quantity']} × {line['unit_price']} {currency.upper()}"


def client_invoice_issue(*, statement_id: int, api: StripeConnect | None = None) -> ClientInvoice | None:
    """Send one closed client statement as an invoice on its agency's Stripe account, once. Safe to repeat at
    any point: the row is locked while it works, each Stripe request is idempotent, and what is done is kept.
    Returns the invoice row (its status says how it went), or None when the statement is not to be invoiced."""
    with transaction.atomic():
        statement = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("client", "agency")
            .get(pk=statement_id)
        )
        if not client_invoice_due(statement=statement):
            return ClientInvoice.objects.filter(statement=statement).first()
        connection = _invoicing(statement.agency_id)
        assert connection is not None and statement.client is not None  # client_invoice_due said so
        client = statement.client
        invoice, _ = ClientInvoice.objects.get_or_create(
            statement=statement,
            defaults={
                "agency_id": statement.agency_id,
                "client": client,
                "account_id": connection.account_id,
            },
        )
        if invoice.account_id != connection.account_id:
            # The agency connected another account since the last attempt: start over on the new one.
            invoice.account_id = connection.account_id
            invoice.customer_id = invoice.invoice_id = ""
            invoice.lines_added = False
        failure = None
        try:
            _issue(invoice, statement, connection, api or StripeConnect())
        except StripeConnectError as exc:
            failure = exc
            invoice.status = ClientInvoice.Status.ERROR
            invoice.error = str(exc)[:255]
        invoice.save()
    if failure is not None and not failure.permanent:
        raise failure  # after commit: the progress and the error are kept, and the task tries again later
    return invoice


def _issue(
    invoice: ClientInvoice, statement: Statement, connection: StripeConnection, api: StripeConnect
) -> None:
    client = statement.client
    assert client is not None
    account = connection.account_id
    currency = statement.currency.lower()
    if not invoice.customer_id:
        known = ClientStripeCustomer.objects.filter(client=client, account_id=account).first()
        if known is None:
            email = client_billing_email(client=client)
            if not email:
                raise StripeConnectError(
                    f"{client.name} has no billing email: set one on its price page, or invite an owner."
                )
            customer = api.customer_create(
                account_id=account, email=email, name=client.name, client_id=client.pk
            )
            known = ClientStripeCustomer.objects.create(
                client=client, account_id=account, customer_id=customer["id"]
            )
        invoice.customer_id = known.customer_id
    if not invoice.invoice_id:
        found = api.invoice_find(
            account_id=account, customer_id=invoice.customer_id, statement_id=statement.pk
        )
        if found is None:
            found = api.invoice_create(
                account_id=account,
                customer_id=invoice.customer_id,
                statement_id=statement.pk,
                currency=currency,
                description=f"{statement.agency.display_name}: {client.name}, {statement.month:%B %Y}",
                days_until_due=connection.days_until_due,
            )
        invoice.invoice_id = found["id"]
        # Made (or found) on Stripe's side: keep it now, whatever happens next.
        invoice.save(update_fields=["account_id", "customer_id", "invoice_id"])
    stripe_invoice = api.invoice_retrieve(account_id=account, invoice_id=invoice.invoice_id)
    if stripe_invoice.get("status") == "draft":
        if not invoice.lines_added:
            # Each line's idempotency key makes a repeat of this loop (an attempt cut off in it) add nothing.
            for index, line in enumerate(statement.lines):
                cents = amount_in_cents(Decimal(line["amount"]))
                if cents <= 0:
                    continue
                api.invoice_item_add(
                    account_id=account,
                    customer_id=invoice.customer_id,
                    invoice_id=invoice.invoice_id,
                    statement_id=statement.pk,
                    index=index,
                    amount_cents=cents,
                    currency=currency,
                    description=_line_text(line, currency),
                )
            invoice.lines_added = True
            stripe_invoice = api.invoice_retrieve(account_id=account, invoice_id=invoice.invoice_id)
        expected = amount_in_cents(statement.total)
        if stripe_invoice.get("amount_due") != expected:
            # Only a draft whose lines were added twice after the keys expired can get here: never send it.
            raise StripeConnectError(
                f"The draft invoice {invoice.invoice_id} in Stripe comes to {stripe_invoice.get('amount_due')} "
                f"cents, not the statement's {expected}; it was left as a draft for you to check."
            )
        stripe_invoice = api.invoice_finalize(
            account_id=account, invoice_id=invoice.invoice_id, statement_id=statement.pk
        )
    invoice.lines_added = True
    if invoice.sent_at is None:
        stripe_invoice = api.invoice_send(
            account_id=account, invoice_id=invoice.invoice_id, statement_id=statement.pk
        )
        invoice.sent_at = now()
    invoice.hosted_invoice_url = str(stripe_invoice.get("hosted_invoice_url") or "")[:500]
    invoice.status = _STATUS_OF_STRIPE.get(str(stripe_invoice.get("status")), ClientInvoice.Status.OPEN)
    invoice.error = ""


_STATUS_OF_STRIPE = {
    "open": ClientInvoice.Status.OPEN,
    "paid": ClientInvoice.Status.PAID,
    "void": ClientInvoice.Status.VOID,
    "uncollectible": ClientInvoice.Status.UNCOLLECTIBLE,
}


def client_invoices_pending() -> list[int]:
    """Statements that should be invoices and are not (a lost task, a Stripe outage): for the close task's
    sweep, every six hours."""
    if not connect_enabled():
        return []
    agencies = StripeConnection.objects.filter(invoice_clients=True, invoicing_since__isnull=False)
    found = []
    for connection in agencies:
        statements = Statement.objects.filter(
            kind=Statement.Kind.CLIENT,
            agency_id=connection.agency_id,
            total__gt=0,
            closed_at__gte=connection.invoicing_since,
        ).exclude(invoice__status__in=[s for s in ClientInvoice.Status if s not in _RETRIED])
        found += list(statements.values_list("pk", flat=True)[:500])
    return found


_RETRIED = {ClientInvoice.Status.PENDING, ClientInvoice.Status.ERROR}


# --- Webhooks ----------------------------------------------------------------------------------------------


def stripe_event_handle(*, event: dict) -> str:
    """Act on one verified webhook event, once. Returns what was done, in a few words (for the answer and the
    log). Events of accounts no agency has connected, and types we do not follow, are acknowledged and ignored."""
    account = str(event.get("account") or "")
    kind = str(event.get("type") or "")
    if not account:
        return "ignored: not a connected account's event"
    with transaction.atomic():
        connection = StripeConnection.objects.select_for_update().filter(account_id=account).first()
        if connection is None:
            return "ignored: no agency has connected this account"
        _, created = StripeEvent.objects.get_or_create(
            event_id=str(event["id"])[:80], defaults={"type": kind[:80], "account_id": account}
        )
        if not created:
            return "already handled"
        if kind == "account.application.deauthorized":
            connection.delete()
            stripe_account_notify(
                agency=connection.agency,
                what="revoked",
                account=(connection.account_id, connection.account_name),
                actor=None,
            )
            return "disconnected: the agency revoked our access in Stripe"
        if not kind.startswith("invoice."):
            return "ignored: not an invoice event"
        data = (event.get("data") or {}).get("object") or {}
        invoice = (
            ClientInvoice.objects.select_for_update(of=("self",))
            .select_related("client", "agency", "statement")
            .filter(account_id=account, invoice_id=str(data.get("id") or ""))
            .first()
        )
        if invoice is None:
            return "ignored: not one of our invoices"
        return _invoice_event(invoice, connection, kind, data, at=_event_time(event))


def _event_time(event: dict) -> datetime:
    try:
        return datetime.fromtimestamp(int(event["created"]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        return now()


def _invoice_event(
    invoice: ClientInvoice, connection: StripeConnection, kind: str, data: dict, *, at: datetime
) -> str:
    Status = ClientInvoice.Status
    if data.get("hosted_invoice_url"):
        invoice.hosted_invoice_url = str(data["hosted_invoice_url"])[:500]
    if kind in ("invoice.paid", "invoice.payment_succeeded"):
        if invoice.status == Status.PAID:
            invoice.save()
            return "already paid"
        invoice.status, invoice.paid_at, invoice.error = Status.PAID, at, ""
        Statement.objects.filter(pk=invoice.statement_id).update(
            paid_at=at, payment_reference=invoice.invoice_id, payment_error=""
        )
        resumed = _resume_if_paused_by(invoice)
        invoice.save()
        _notify_on_commit(invoice, "paid", resumed=resumed)
        return "paid" + (", text-backs resumed" if resumed else "")
    if kind == "invoice.payment_failed":
        if invoice.status in (Status.PAID, Status.VOID):
            invoice.save()
            return f"ignored: the invoice is {invoice.get_status_display().lower()}"
        invoice.status, invoice.payment_failed_at = Status.PAYMENT_FAILED, at
        error = (data.get("last_finalization_error") or {}).get("message") or "The card payment failed."
        invoice.error = str(error)[:255]
        Statement.objects.filter(pk=invoice.statement_id).update(payment_error=invoice.error)
        paused = False
        if connection.pause_on_failed_payment and not invoice.paused_client:
            paused = _pause_for(invoice)
        invoice.save()
        _notify_on_commit(invoice, "failed", paused=paused)
        return "payment failed" + (", text-backs paused" if paused else "")
    if kind in ("invoice.voided", "invoice.marked_uncollectible"):
        voided = kind == "invoice.voided"
        if invoice.status == Status.PAID:
            invoice.save()
            return "ignored: the invoice is paid"
        invoice.status = Status.VOID if voided else Status.UNCOLLECTIBLE
        # The agency called off the debt: nothing is owed any more, so a pause for it ends.
        resumed = _resume_if_paused_by(invoice) if voided else False
        invoice.save()
        return invoice.get_status_display().lower() + (", text-backs resumed" if resumed else "")
    if kind in ("invoice.finalized", "invoice.sent", "invoice.updated") and invoice.status == Status.PENDING:
        invoice.status = Status.OPEN
    invoice.save()
    return "noted"


def _pause_for(invoice: ClientInvoice) -> bool:
    client = invoice.client
    if client.status != Client.Status.LIVE:
        return False
    try:
        client_pause(
            client=client,
            actor=None,
            detail=f"Paused automatically: the invoice for {invoice.statement.month:%B %Y} was not paid",
        )
    except ClientStateError:
        return False
    invoice.paused_client = True
    log.warning("client %s paused: its Stripe invoice %s payment failed", client.slug, invoice.invoice_id)
    return True


def _resume_if_paused_by(invoice: ClientInvoice) -> bool:
    """Resume text-backs this invoice paused, unless another unpaid invoice still holds them paused (or someone
    resumed them by hand meanwhile)."""
    if not invoice.paused_client:
        return False
    invoice.paused_client = False
    still_held = (
        ClientInvoice.objects.filter(client=invoice.client, paused_client=True)
        .exclude(pk=invoice.pk)
        .exists()
    )
    if still_held or Client.objects.filter(pk=invoice.client_id).values_list("status", flat=True).first() != (
        Client.Status.PAUSED
    ):
        return False
    try:
        client_resume(client=invoice.client, actor=None)
    except ClientStateError:
        return False
    return True


# --- Notices -----------------------------------------------------------------------------------------------


def _notify_on_commit(
    invoice: ClientInvoice, what: str, *, paused: bool = False, resumed: bool = False
) -> None:
    transaction.on_commit(lambda: _notify(invoice.pk, what, paused=paused, resumed=resumed))


def _agency_emails(agency: Agency) -> list[str]:
    emails = set(
        AgencyMembership.objects.filter(agency=agency, role=AgencyMembership.Role.ADMIN).values_list(
            "user__email", flat=True
        )
    )
    billing = AgencyBilling.objects.filter(agency=agency).values_list("billing_email", flat=True).first()
    if billing:
        emails.add(billing)
    return sorted(emails)


def stripe_account_notify(
    *,
    agency: Agency,
    what: str,
    account: tuple[str, str],
    actor: User | None,
    previous: tuple[str, str] | None = None,
    ip_address: str | None = None,
) -> None:
    """Tell every admin of the agency (and its billing address) that the Stripe account its clients pay into was
    connected, changed, disconnected, or revoked from Stripe's side: who, when, which account, and what to do if
    it was not them. Sent once the change commits; mail trouble is logged, never raised (the change stands and is
    in the audit log)."""
    at = now()
    actor_text = ""
    if actor is not None:
        actor_text = f"{actor.name} ({actor.email})" if actor.name else actor.email

    def send() -> None:
        base = agency_url(agency).rstrip("/")
        zone = ZoneInfo(agency_time_zone(agency=agency))
        payments = reverse("billing:stripe", args=[agency.slug], urlconf=_PUBLIC_URLS)
        audit = reverse("agency:audit", args=[agency.slug], urlconf=_PUBLIC_URLS)
        context = {
            "agency": agency,
            "what": what,
            "account_id": account[0],
            "account_name": account[1],
            "previous_id": previous[0] if previous else "",
            "previous_name": previous[1] if previous else "",
            "actor": actor_text,
            "ip_address": ip_address or "",
            "at": at,
            "payments_url": f"{base}{payments}",
            "audit_url": f"{base}{audit}",
        }
        subjects = {
            "connected": "A Stripe account was connected",
            "changed": "The Stripe account was changed",
            "disconnected": "The Stripe account was disconnected",
            "revoked": "The Stripe account was disconnected from Stripe",
        }
        try:
            if recipients := _agency_emails(agency):
                send_mail(
                    f"{subjects[what]} for {agency.display_name}",
                    # The template's date filter shows a time in the current time zone: the agency's here.
                    _render_in(zone, "billing/stripe_account_email.txt", context),
                    settings.DEFAULT_FROM_EMAIL,
                    recipients,
                )
        except Exception:
            log.exception("could not email %s's admins that its Stripe account was %s", agency.slug, what)

    transaction.on_commit(send)


def _owner_emails(client: Client) -> list[str]:
    owners = ClientMembership.objects.filter(client=client, role=ClientMembership.Role.OWNER)
    return sorted(owners.values_list("user__email", flat=True))


def _render_in(zone: ZoneInfo, template: str, context: dict) -> str:
    with override(zone):
        return render_to_string(template, context)


def _notify(invoice_id: int, what: str, *, paused: bool, resumed: bool) -> None:
    """Email the agency's admins (and billing address) and the client's owners about a payment. Mail trouble
    is logged, never raised: the webhook has already done its work."""
    invoice = ClientInvoice.objects.select_related("client__agency", "statement").get(pk=invoice_id)
    client, agency = invoice.client, invoice.client.agency
    month = f"{invoice.statement.month:%B %Y}"
    amount = f"{invoice.statement.total} {invoice.statement.currency}"
    if what == "failed":
        subject = f"Payment failed: {client.name}'s invoice for {month}"
        then = (
            f"Text-backs for {client.name} are paused until it is paid; they resume by themselves once it is."
            if paused
            else "Text-backs keep going out."
        )
        owner_body = (
            f"The card payment of {client.name}'s invoice for {month} ({amount}) from {agency.display_name} "
            f"failed: {invoice.error}\n\n{then}\n"
            + (f"\nPay it here: {invoice.hosted_invoice_url}\n" if invoice.hosted_invoice_url else "")
        )
        agency_body = (
            f"The card payment of {client.name}'s Stripe invoice {invoice.invoice_id} for {month} ({amount}) "
            f"failed: {invoice.error}\n\n{then}\n\nBilling: {agency_url(agency)}billing/\n"
        )
    else:
        subject = f"Paid: {client.name}'s invoice for {month}"
        then = f"\nText-backs for {client.name} are running again.\n" if resumed else ""
        owner_body = f"Thank you: {client.name}'s invoice for {month} ({amount}) is paid.\n{then}"
        agency_body = (
            f"{client.name} paid its Stripe invoice {invoice.invoice_id} for {month} ({amount}).\n{then}"
        )
    sender = brand_from_email(agency)
    try:
        if recipients := _agency_emails(agency):
            send_mail(subject, agency_body, settings.DEFAULT_FROM_EMAIL, recipients)
        if recipients := _owner_emails(client):
            send_mail(subject, owner_body, sender, recipients)
    except Exception:
        log.exception("could not email the payment notice of invoice %s", invoice_id)
