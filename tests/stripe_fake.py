"""A local fake of the part of Stripe's HTTP API that Textback uses, faked only at the HTTP boundary: the real
`stripe` library talks to it (STRIPE_API_BASE and STRIPE_CONNECT_BASE point here), and it signs webhooks the way
Stripe does (`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>`).

Connect (OAuth, Standard accounts), on the connect base:
    GET  /oauth/authorize?client_id&state&redirect_uri…  → the page where the agency approves (a link back with
                                                           ?code=ac_…&state=…, or ?error=access_denied)
    POST /oauth/token        grant_type=authorization_code, code → {stripe_user_id, …}; a code works once
    POST /oauth/deauthorize  client_id, stripe_user_id
On the API base (`Stripe-Account: acct_…` acts on that connected account; without it, on the platform's own):
    GET  /v1/accounts/{id}
    POST /v1/customers, GET /v1/customers/{id}
    POST /v1/invoices, GET /v1/invoices?customer=…, GET /v1/invoices/{id}
    POST /v1/invoiceitems    (invoice=… attaches it to a draft)
    POST /v1/invoices/{id}/finalize, POST /v1/invoices/{id}/send
    POST /v1/payment_intents, GET /v1/customers/{id} answer the platform's own collection (billing.payments)
    GET  /hosted/{invoice}   the hosted invoice page a client pays on (a stand-in)

Requests are form-encoded as Stripe's libraries send them (`metadata[k]=v`, `a[b][0]=c`) and need
`Authorization: Bearer <secret key>` (401 otherwise). `Idempotency-Key` is honoured per account: the same key
answers the first answer again (with `Idempotent-Replayed: true`); the same key with other parameters is a 400
idempotency_error, as Stripe answers. Errors have Stripe's shape ({"error": {"type", "message", "param"}}).

Knobs: `next_account(id=, name=, email=)`, `fail_next(status, type, message, code)`, `pay(invoice_id)`,
`fail_payment(invoice_id)`, `void(invoice_id)` (each returns the webhook event Stripe would send), `event(...)`,
`sign(body, secret)`.

    with FakeStripe() as fake:
        ...  # settings.STRIPE_API_BASE = STRIPE_CONNECT_BASE = fake.base_url, STRIPE_SECRET_KEY = fake.api_key
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

PLATFORM = "platform"  # the account a request without Stripe-Account acts on


class StripeFail(Exception):
    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type, "message": message, **extra}}


def form_decode(raw: str) -> dict:
    """Stripe's form encoding back into nested dicts and lists: `a[b][0]=c` → {"a": {"b": ["c"]}}."""
    result: dict = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(result)


def _lists(node):
    """{"0": x, "1": y} → [x, y] (Stripe's libraries encode lists with indices)."""
    if isinstance(node, dict):
        node = {key: _lists(value) for key, value in node.items()}
        if node and all(key.isdigit() for key in node):
            return [node[key] for key in sorted(node, key=int)]
    return node


def signature_header(body: bytes | str, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends with a webhook: t=<time>,v1=<HMAC-SHA256 hex>."""
    payload = body.decode() if isinstance(body, bytes) else body
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class FakeStripe:
    def __init__(self, *, api_key: str = "sk_test_fake_platform", client_id: str = "ca_fake_platform"):
        self.api_key = api_key
        self.client_id = client_id
        self.webhook_secret = "whsec_fake_connect_endpoint"
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[dict] = []
            self.accounts: dict[str, dict] = {}
            self.codes: dict[str, str] = {}  # authorization code → account id
            self.deauthorized: list[str] = []
            self.customers: dict[str, dict] = {}
            self.invoices: dict[str, dict] = {}
            self.invoice_items: dict[str, dict] = {}
            self.sent: list[str] = []  # invoices emailed to their customer
            self._idempotent: dict[tuple[str, str], tuple[str, int, dict]] = {}
            self._failures: list[tuple[str, StripeFail]] = []
            self._next_account: dict = {}

    # --- knobs ---------------------------------------------------------------------------------------------

    def next_account(
        self, *, id: str | None = None, name: str = "Northwind Payments", email: str = ""
    ) -> None:
        """What the next agency to approve on the authorize page connects."""
        self._next_account = {"id": id, "name": name, "email": email}

    def fail_next(
        self,
        status: int = 402,
        type: str = "card_error",
        message: str = "Your card was declined.",
        *,
        on: str = "",
        times: int = 1,
        **extra,
    ) -> None:
        """The next `times` POSTs whose path ends with `on` (any POST by default) fail with this error."""
        for _ in range(times):
            self._failures.append((on, StripeFail(status, message, type=type, **extra)))

    def approve(self, *, state: str = "") -> str:
        """An authorization code, as the authorize page hands one out after the agency approves."""
        with self.lock:
            return self._approve()

    def invoices_of(self, account: str) -> list[dict]:
        return [invoice for invoice in self.invoices.values() if invoice["_account"] == account]

    def pay(self, invoice_id: str) -> dict:
        invoice = self.invoices[invoice_id]
        invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, attempted=True)
        invoice["status_transitions"]["paid_at"] = int(time.time())
        return self.event("invoice.paid", invoice)

    def fail_payment(self, invoice_id: str) -> dict:
        invoice = self.invoices[invoice_id]
        invoice.update(attempted=True, attempt_count=invoice["attempt_count"] + 1)
        return self.event("invoice.payment_failed", invoice)

    def void(self, invoice_id: str) -> dict:
        invoice = self.invoices[invoice_id]
        invoice["status"] = "void"
        return self.event("invoice.voided", invoice)

    def event(self, type: str, obj: dict, *, account: str | None = None) -> dict:
        """A webhook event as Stripe sends it to a Connect endpoint (`account` names the connected account)."""
        return {
            "id": f"evt_{next(self._ids):012d}",
            "object": "event",
            "api_version": "2026-08-26.dahlia",
            "created": int(time.time()),
            "type": type,
            "livemode": False,
            "pending_webhooks": 1,
            "account": account or obj.get("_account"),
            "data": {"object": _public(obj)},
        }

    def sign(self, body: bytes | str, secret: str | None = None, *, timestamp: int | None = None) -> str:
        return signature_header(body, secret or self.webhook_secret, timestamp=timestamp)

    # --- the server ----------------------------------------------------------------------------------------

    def __enter__(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        params = form_decode(raw if method == "POST" else url.query)
        account = handler.headers.get("Stripe-Account") or PLATFORM
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": url.path,
                    "params": params,
                    "account": account,
                    "idempotency_key": key,
                }
            )
            if method == "GET" and url.path == "/oauth/authorize":
                return self._page(handler, 200, self._authorize_page(params))
            if method == "GET" and url.path.startswith("/hosted/"):
                return self._page(handler, 200, self._hosted_page(url.path.rsplit("/", 1)[-1]))
            replayed = False
            try:
                if url.path.startswith("/oauth/"):
                    status, body = 200, self._oauth(url.path, params, handler.headers)
                else:
                    self._authenticate(handler.headers)
                    if key and method == "POST" and (account, key) in self._idempotent:
                        seen_raw, status, body = self._idempotent[(account, key)]
                        if seen_raw != raw:
                            raise StripeFail(
                                400,
                                "Keys for idempotent requests can only be used with the same parameters they "
                                "were first used with.",
                                type="idempotency_error",
                            )
                        replayed = True
                    else:
                        if method == "POST":
                            for index, (on, fail) in enumerate(self._failures):
                                if url.path.endswith(on):
                                    del self._failures[index]
                                    raise fail
                        status, body = 200, self._api(method, url.path, params, account)
                        if key and method == "POST":
                            self._idempotent[(account, key)] = (raw, status, body)
            except StripeFail as fail:
                status, body = fail.status, fail.body
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", f"req_{next(self._ids):012d}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(data)

    def _page(self, handler, status: int, text: str) -> None:
        data = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _authenticate(self, headers) -> None:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            raise StripeFail(401, "Invalid API Key provided.")

    # --- Connect -------------------------------------------------------------------------------------------

    def _approve(self) -> str:
        wanted = self._next_account
        account_id = wanted.get("id") or f"acct_{next(self._ids):016d}"
        self.accounts[account_id] = {
            "id": account_id,
            "object": "account",
            "type": "standard",
            "email": wanted.get("email") or "billing@agency.test",
            "business_profile": {"name": wanted.get("name", "Northwind Payments")},
            "settings": {"dashboard": {"display_name": wanted.get("name", "Northwind Payments")}},
            "charges_enabled": True,
            "details_submitted": True,
        }
        code = f"ac_{next(self._ids):024d}"
        self.codes[code] = account_id
        return code

    def _authorize_page(self, params: dict) -> str:
        if params.get("client_id") != self.client_id:
            return "<h1>Invalid client_id</h1>"
        redirect = params.get("redirect_uri", "")
        state = params.get("state", "")
        code = self._approve()
        allow = f"{redirect}?{urlencode({'code': code, 'scope': params.get('scope', 'read_write'), 'state': state})}"
        deny = f"{redirect}?{urlencode({'error': 'access_denied', 'error_description': 'The user denied your request', 'state': state})}"
        return (
            "<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
            "<title>Stripe (fake): connect</title></head><body>"
            "<h1>Connect your Stripe account</h1>"
            f"<p>The platform {html.escape(self.client_id)} asks to create invoices on your account.</p>"
            f"<p><a id='allow' href='{html.escape(allow)}'>Connect my Stripe account</a></p>"
            f"<p><a id='deny' href='{html.escape(deny)}'>Cancel</a></p></body></html>"
        )

    def _oauth(self, path: str, params: dict, headers) -> dict:
        secret = params.get("client_secret") or (headers.get("Authorization") or "").removeprefix("Bearer ")
        if secret != self.api_key:
            raise StripeFail(401, "Invalid API Key provided.")
        if path == "/oauth/token":
            if params.get("grant_type") != "authorization_code":
                raise StripeFail(400, "Unsupported grant_type", param="grant_type")
            account_id = self.codes.pop(params.get("code", ""), None)
            if account_id is None:
                # Stripe answers OAuth errors in OAuth's own shape, not {"error": {...}}.
                raise _OAuthFail("invalid_grant", f"Authorization code does not exist: {params.get('code')}")
            return {
                "access_token": f"sk_test_connected_{account_id}",
                "livemode": False,
                "refresh_token": f"rt_{account_id}",
                "token_type": "bearer",
                "stripe_publishable_key": f"pk_test_{account_id}",
                "stripe_user_id": account_id,
                "scope": "read_write",
            }
        if path == "/oauth/deauthorize":
            if params.get("client_id") != self.client_id:
                raise _OAuthFail("invalid_client", f"No such application: '{params.get('client_id')}'")
            account_id = params.get("stripe_user_id", "")
            if account_id not in self.accounts:
                raise _OAuthFail("invalid_client", "This application is not connected to stripe account")
            self.deauthorized.append(account_id)
            return {"stripe_user_id": account_id}
        raise StripeFail(404, f"Unrecognized request URL (POST: {path}).")

    # --- The API -------------------------------------------------------------------------------------------

    def _api(self, method: str, path: str, params: dict, account: str) -> dict:
        if account != PLATFORM and (account not in self.accounts or account in self.deauthorized):
            raise StripeFail(
                403,
                f"The provided key does not have access to account '{account}' (or that account does not "
                "exist). Application access may have been revoked.",
                type="invalid_request_error",
                code="account_invalid",
            )
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            raise StripeFail(404, f"Unrecognized request URL ({method}: {path}).")
        resource, rest = parts[1] if len(parts) > 1 else "", parts[2:]
        if resource == "accounts" and method == "GET" and len(rest) == 1:
            found = self.accounts.get(rest[0])
            if found is None:
                raise StripeFail(404, f"No such account: '{rest[0]}'", code="resource_missing")
            return found
        if resource == "customers":
            return self._customers(method, rest, params, account)
        if resource == "invoices":
            return self._invoices(method, rest, params, account)
        if resource == "invoiceitems" and method == "POST" and not rest:
            return self._invoice_item(params, account)
        if resource == "payment_intents" and method == "POST" and not rest:
            return {"id": f"pi_{next(self._ids):016d}", "object": "payment_intent", "status": "succeeded"}
        raise StripeFail(404, f"Unrecognized request URL ({method}: {path}).")

    def _customers(self, method: str, rest: list[str], params: dict, account: str) -> dict:
        if method == "POST" and not rest:
            customer = {
                "id": f"cus_{next(self._ids):014d}",
                "object": "customer",
                "email": params.get("email"),
                "name": params.get("name"),
                "metadata": params.get("metadata", {}),
                "invoice_settings": {"default_payment_method": None},
                "_account": account,
            }
            self.customers[customer["id"]] = customer
            return _public(customer)
        customer = self.customers.get(rest[0]) if rest else None
        if customer is None or customer["_account"] != account:
            raise StripeFail(404, f"No such customer: '{rest[0] if rest else ''}'", code="resource_missing")
        if method == "POST" and len(rest) == 1:
            for field in ("email", "name"):
                if field in params:
                    customer[field] = params[field]
        return _public(customer)

    def _invoice(self, invoice_id: str, account: str) -> dict:
        invoice = self.invoices.get(invoice_id)
        if invoice is None or invoice["_account"] != account:
            raise StripeFail(404, f"No such invoice: '{invoice_id}'", code="resource_missing")
        return invoice

    def _invoices(self, method: str, rest: list[str], params: dict, account: str) -> dict:
        if method == "GET" and not rest:
            found = [
                _public(invoice)
                for invoice in self.invoices.values()
                if invoice["_account"] == account
                and (not params.get("customer") or invoice["customer"] == params["customer"])
            ]
            limit = int(params.get("limit", 10))
            return {
                "object": "list",
                "data": found[:limit],
                "has_more": len(found) > limit,
                "url": "/v1/invoices",
            }
        if method == "POST" and not rest:
            customer = params.get("customer")
            if not customer:
                raise StripeFail(400, "Missing required param: customer.", param="customer")
            if customer not in self.customers or self.customers[customer]["_account"] != account:
                raise StripeFail(400, f"No such customer: '{customer}'", param="customer")
            collection = params.get("collection_method", "charge_automatically")
            if collection == "send_invoice" and "days_until_due" not in params and "due_date" not in params:
                raise StripeFail(
                    400,
                    "Invoices with `collection_method=send_invoice` must have a `due_date` or `days_until_due`.",
                )
            invoice_id = f"in_{next(self._ids):016d}"
            invoice = {
                "id": invoice_id,
                "object": "invoice",
                "customer": customer,
                "customer_email": self.customers[customer]["email"],
                "currency": params.get("currency", "usd"),
                "collection_method": collection,
                "days_until_due": int(params["days_until_due"]) if "days_until_due" in params else None,
                "description": params.get("description"),
                "metadata": params.get("metadata", {}),
                "payment_settings": params.get("payment_settings", {}),
                "auto_advance": params.get("auto_advance") == "true",
                "status": "draft",
                "number": None,
                "hosted_invoice_url": None,
                "amount_due": 0,
                "amount_paid": 0,
                "amount_remaining": 0,
                "attempted": False,
                "attempt_count": 0,
                "lines": {"object": "list", "data": [], "has_more": False},
                "status_transitions": {"finalized_at": None, "paid_at": None},
                "_account": account,
            }
            self.invoices[invoice_id] = invoice
            return _public(invoice)
        invoice = self._invoice(rest[0], account) if rest else None
        if invoice is None:
            raise StripeFail(404, "Unrecognized request URL.")
        if method == "GET" and len(rest) == 1:
            return _public(invoice)
        action = rest[1] if len(rest) == 2 else ""
        if method == "POST" and action == "finalize":
            if invoice["status"] != "draft":
                raise StripeFail(
                    400, "This invoice is already finalized, you can't re-finalize a non-draft invoice."
                )
            invoice["status"] = "open"
            invoice["number"] = f"FAKE-{next(self._ids):04d}"
            invoice["hosted_invoice_url"] = f"{self.base_url}/hosted/{invoice['id']}"
            invoice["status_transitions"]["finalized_at"] = int(time.time())
            invoice["amount_remaining"] = invoice["amount_due"]
            return _public(invoice)
        if method == "POST" and action == "send":
            if invoice["status"] == "draft":
                raise StripeFail(400, "You can only send an invoice that is finalized.")
            if invoice["collection_method"] != "send_invoice":
                raise StripeFail(
                    400, "You can only manually send an invoice if its collection method is 'send_invoice'."
                )
            self.sent.append(invoice["id"])
            return _public(invoice)
        raise StripeFail(404, f"Unrecognized request URL ({method}: /v1/invoices/{'/'.join(rest)}).")

    def _invoice_item(self, params: dict, account: str) -> dict:
        for required in ("customer",):
            if not params.get(required):
                raise StripeFail(400, f"Missing required param: {required}.", param=required)
        if "amount" in params and "currency" not in params:
            raise StripeFail(400, "Missing required param: currency.", param="currency")
        invoice_id = params.get("invoice")
        item = {
            "id": f"ii_{next(self._ids):016d}",
            "object": "invoiceitem",
            "customer": params["customer"],
            "amount": int(params.get("amount", 0)),
            "currency": params.get("currency"),
            "description": params.get("description"),
            "invoice": invoice_id,
            "_account": account,
        }
        if invoice_id:
            invoice = self._invoice(invoice_id, account)
            if invoice["status"] != "draft":
                raise StripeFail(400, "You cannot add invoice items to an invoice that is not a draft.")
            if invoice["customer"] != item["customer"]:
                raise StripeFail(400, "The invoice item's customer is not the invoice's.", param="invoice")
            invoice["lines"]["data"].append(
                {
                    "id": f"il_{item['id']}",
                    "object": "line_item",
                    "amount": item["amount"],
                    "description": item["description"],
                    "currency": item["currency"],
                }
            )
            invoice["amount_due"] += item["amount"]
            invoice["amount_remaining"] = invoice["amount_due"]
        self.invoice_items[item["id"]] = item
        return _public(item)

    def _hosted_page(self, invoice_id: str) -> str:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return "<h1>No such invoice</h1>"
        amount = f"{invoice['amount_due'] / 100:.2f} {invoice['currency'].upper()}"
        return (
            "<!doctype html><html><head><title>Stripe (fake): invoice</title></head><body>"
            f"<h1>Invoice {html.escape(invoice['number'] or '')}</h1><p>Amount due: {amount}</p>"
            f"<p>Status: {invoice['status']}</p></body></html>"
        )


class _OAuthFail(StripeFail):
    def __init__(self, error: str, description: str):
        super().__init__(400, description)
        self.body = {"error": error, "error_description": description}


def _public(obj: dict) -> dict:
    """What Stripe shows of an object: without the fake's own bookkeeping."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}
