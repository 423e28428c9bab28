"""Keys and an API client for the API's tests."""

import json

import pytest
from django.test import Client as HttpClient

from api.services import apikey_create

ACME = "acme.localhost"
BOLT = "bolt.localhost"
CEDAR = "cedar.localhost"
PLATFORM = "localhost"


class Api:
    """JSON requests to one host with one key: api.get("/api/v1/contacts/"), api.post(path, {...})."""

    def __init__(self, host: str, key: str | None, **headers):
        self.http = HttpClient(HTTP_HOST=host)
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
        self.headers.update(
            {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        )

    def _extra(self, headers: dict) -> dict:
        extra = dict(self.headers)
        extra.update({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
        return extra

    def get(self, path: str, params: dict | None = None, **headers):
        return self.http.get(path, params or {}, **self._extra(headers))

    def post(self, path: str, data=None, **headers):
        body = json.dumps(data if data is not None else {})
        return self.http.post(path, body, content_type="application/json", **self._extra(headers))

    def patch(self, path: str, data=None, **headers):
        return self.http.patch(
            path, json.dumps(data or {}), content_type="application/json", **self._extra(headers)
        )


@pytest.fixture(autouse=True)
def _webhooks_to_this_machine(settings):
    """pytest-django runs with DEBUG off; the receivers in these tests listen on 127.0.0.1."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def make_key(personas):
    """make_key("acme", scope="write") → the raw secret of a new key of that client (or agency)."""

    def make(owner: str, *, scope: str = "write", by=None) -> str:
        target = getattr(personas, owner)
        is_agency = owner in ("northwind", "southpeak")
        creator = (
            by
            or {
                "acme": personas.alice,
                "bolt": personas.dave,
                "cedar": personas.erin,
                "northwind": personas.nina,
                "southpeak": personas.sara,
            }[owner]
        )
        _, raw = apikey_create(
            name=f"{owner} test key",
            scope=scope,
            created_by=creator,
            client=None if is_agency else target,
            agency=target if is_agency else None,
        )
        return raw

    return make


@pytest.fixture
def api(make_key):
    """api(host, owner="acme", scope="write") → an Api for that host with a new key of that owner."""

    def make(host: str = ACME, owner: str | None = "acme", scope: str = "write", **headers) -> Api:
        return Api(host, make_key(owner, scope=scope) if owner else None, **headers)

    return make


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


class Receiver:
    """A local HTTP server standing in for a customer's webhook URL: records each request and answers with
    the next status in `statuses` (the last one repeats)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[tuple[dict, bytes]] = []
        self.statuses = [200]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answered {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/textback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()
