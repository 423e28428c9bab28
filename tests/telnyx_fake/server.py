"""A local fake of the part of Telnyx's v2 API that Textback uses, faked only at the HTTP boundary, and a signer
for the webhooks Telnyx sends (Ed25519 over "<timestamp>|<body>", with a key pair made for the session).

    POST /v2/messages                   → 200 {"data": message}; Idempotency-Key honoured (the first answer again)
    GET  /v2/number_lookup/{number}     → 200 {"data": {"carrier": {"type": ...}}}
    GET  /v2/available_phone_numbers    → numbers in filter[national_destination_code]
    POST /v2/number_orders              → the numbers join the account (10005-like 422 if taken)
    GET  /v2/phone_numbers?filter[phone_number]=…, PATCH /v2/phone_numbers/{id}[/messaging], DELETE …/{id}
    GET, PATCH /v2/texml_applications/{id} → the account's one TeXML application (`texml_application`)
    POST /v2/texml/calls/{application_id} → 200 {"call_sid", "from", "to", "status": "queued"} (TeXML Calls API:
                                          From and To required, Url or Texml; 404 for an application not ours)
    GET  /v2/recordings/{id}            → 200 {"data": {"download_urls": {"mp3": a fresh pre-signed link}}} | 404
    GET  a media file (add_media)       → its bytes: a pre-signed S3 link (no Authorization header, the query's
                                          signature) or a file on api.telnyx.com (the Bearer key)

Requests without `Authorization: Bearer <api_key>` are 401 as Telnyx answers them; a body without `from`, `to`
or `text` is 422 with Telnyx's error shape. Knobs: `fail_next(status, code)` (the next message, call or numbers
request), `reject(number, code)`,
`drop_next()` (the connection closes after the message was made: the sender cannot know), `line_types`.

    with FakeTelnyx() as fake:
        ...  # point the app at fake.base_url, fake.api_key, fake.public_key
        headers = fake.sign(body)  # telnyx-signature-ed25519 and telnyx-timestamp for a webhook
        [call] = fake.calls  # an outbound call: its "params" are the request's fields
        path, body, headers = fake.leg(call, call["params"]["Url"], CallStatus="in-progress")
        # … the callback Telnyx would make to that URL for the call's leg, form-encoded and signed
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _error(status: int, code: int, title: str, detail: str = "") -> tuple[int, dict]:
    return status, {"errors": [{"code": str(code), "title": title, "detail": detail}]}


class FakeTelnyx:
    def __init__(self, api_key: str = "KEY_test_telnyx", texml_app_id: str = "texml-app-1"):
        self.api_key = api_key
        self.texml_app_id = texml_app_id  # the account's TeXML application (calls are placed through it)
        self.account_sid = str(uuid.uuid4())  # what Telnyx's TeXML callbacks name as AccountSid
        self._private = Ed25519PrivateKey.generate()
        raw = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = base64.b64encode(raw).decode()
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.requests: list[dict] = []
            self.messages: list[dict] = []
            self.lookups: list[str] = []
            self.line_types: dict[str, str] = {}
            self._failures: list[tuple[int, int]] = []
            self._rejected: dict[str, int] = {}
            self._idempotent: dict[str, dict] = {}
            self._drop_next = False
            self._hang_next = 0.0
            self.numbers: dict[str, dict] = {}  # id → the account's numbers
            self.calls: list[dict] = []  # outbound TeXML calls, oldest first
            self.texml_application = {
                "id": self.texml_app_id,
                "friendly_name": "Textback",
                "voice_url": "",
                "status_callback": "",
            }
            self.taken: set[str] = set()
            self._recordings: dict[str, str] = {}  # recording id → its file's path (add_recording)
            self._media: dict[
                str, tuple[bytes, str, str]
            ] = {}  # path → (content, content type, its S3 signature)

    # --- knobs -------------------------------------------------------------------------------------------------

    def fail_next(self, status: int, code: int = 10007) -> None:
        self._failures.append((status, code))

    def reject(self, number: str, code: int) -> None:
        self._rejected[number] = code

    def drop_next(self) -> None:
        self._drop_next = True

    def hang_next(self, seconds: float) -> None:
        """The next message is made at once but answered only after `seconds` (a sender's timeout)."""
        self._hang_next = seconds

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} messages at the fake Telnyx, wanted {count}")

    def sign(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._private.sign(stamp.encode() + b"|" + body)
        return {"telnyx-signature-ed25519": base64.b64encode(signature).decode(), "telnyx-timestamp": stamp}

    def leg(self, call: dict, url: str, **params: str) -> tuple[str, bytes, dict[str, str]]:
        """The callback Telnyx makes to `url` (one we gave it) about this call's leg: the path with its query, the
        form-encoded body (CallSid, From, To, Direction, AccountSid, then `params`) and its signed headers."""
        fields = {
            "AccountSid": self.account_sid,
            "CallSid": call["call_sid"],
            "From": call["from"],
            "To": call["to"],
            "Direction": "outbound-api",
            **params,
        }
        body = urlencode(fields).encode()
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path, body, self.sign(body)

    def add_media(self, name: str, content: bytes, content_type: str, *, presigned: bool = True) -> str:
        """A recording or an inbound MMS file; returns the URL Telnyx would put in its webhook. Pre-signed (as
        Telnyx hands them out): an S3 link whose query carries the signature, served without any Authorization
        header (S3 refuses a second way to authenticate, 400). Otherwise on api.telnyx.com, with the API key."""
        if presigned:
            path, signature = f"/telephony-recorder-prod/{name}", uuid.uuid4().hex
            self._media[path] = (content, content_type, signature)
            query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=600&X-Amz-Signature={signature}"
            return f"https://s3.amazonaws.com{path}?{query}"
        path = f"/v2/media/{name}"
        self._media[path] = (content, content_type, "")
        return f"https://api.telnyx.com{path}"

    def add_recording(self, recording_id: str, content: bytes, content_type: str = "audio/mpeg") -> str:
        """A <Record>'s recording: its pre-signed link (as the recording callback names it), and the Recordings API
        (GET /v2/recordings/{id}) hands out a fresh one."""
        url = self.add_media(f"{recording_id}.mp3", content, content_type)
        self._recordings[recording_id] = urlsplit(url).path
        return url

    def expire_links(self) -> None:
        """Every pre-signed link handed out so far stops working (403), as Telnyx's do after 10 minutes."""
        for path, (content, content_type, signature) in self._media.items():
            if signature:
                self._media[path] = (content, content_type, uuid.uuid4().hex)

    def _recording(self, recording_id: str) -> tuple[int, dict]:
        path = self._recordings.get(recording_id)
        if path is None:
            return _error(404, 10005, "Resource not found")
        signature = self._media[path][2]
        query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=600&X-Amz-Signature={signature}"
        return 200, {
            "data": {
                "record_type": "recording",
                "id": recording_id,
                "status": "completed",
                "download_urls": {"mp3": f"https://s3.amazonaws.com{path}?{query}"},
            }
        }

    def _file(self, path: str, headers: dict, query: dict) -> tuple[int, dict] | None:
        """A media file's answer ({"_file": (content, type)} for the handler), or None if `path` is none."""
        found = self._media.get(path)
        if found is None:
            return None
        content, content_type, signature = found
        if not signature:
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, 10009, "Authentication failed")
        elif "authorization" in headers:
            return 400, {"Error": "Only one auth mechanism allowed"}
        elif query.get("X-Amz-Signature", [""])[0] != signature:
            return 403, {"Error": "SignatureDoesNotMatch"}
        return 200, {"_file": (content, content_type)}

    # --- the API -------------------------------------------------------------------------------------------------

    def add_number(self, phone_number: str) -> str:
        """A number the account already holds (to adopt); returns its id."""
        # Telnyx's phone number ids are int64s as strings (e.g. "1293384261075731499"), not UUIDs.
        number_id = str(uuid.uuid4().int % 10**19)
        self.numbers[number_id] = {"id": number_id, "phone_number": phone_number, "connection_id": ""}
        return number_id

    def _numbers(self, method: str, path: str, query: dict, body: bytes) -> tuple[int, dict]:
        if self._failures:
            return _error(*self._failures.pop(0), "Failed as asked")
        fields = json.loads(body or b"{}") if method in ("POST", "PATCH") else {}
        if method == "GET" and path == "/v2/available_phone_numbers":
            area = query.get("filter[national_destination_code]", [""])[0]
            offered = [f"+1{area}55501{n:02d}" for n in range(10, 15)]
            return 200, {
                "data": [
                    {
                        "phone_number": number,
                        "region_information": [
                            {"region_type": "rate_center", "region_name": "CHICAGO"},
                            {"region_type": "state", "region_name": "IL"},
                        ],
                    }
                    for number in offered
                    if number not in self.taken
                ]
            }
        if method == "POST" and path == "/v2/number_orders":
            wanted = [entry["phone_number"] for entry in fields.get("phone_numbers", [])]
            if any(number in self.taken for number in wanted):
                return _error(422, 10005, "Number not available")
            for number in wanted:
                self.taken.add(number)
                self.add_number(number)
            for entry in self.numbers.values():
                if entry["phone_number"] in wanted:
                    entry["connection_id"] = fields.get("connection_id", "")
                    entry["messaging_profile_id"] = fields.get("messaging_profile_id", "")
            return 200, {
                "data": {
                    "id": str(uuid.uuid4()),
                    "status": "pending",
                    "phone_numbers": fields["phone_numbers"],
                }
            }
        if method == "GET" and path == "/v2/phone_numbers":
            wanted = query.get("filter[phone_number]", [""])[0]
            return 200, {"data": [n for n in self.numbers.values() if n["phone_number"] == wanted]}
        parts = path.split("/")  # ["", "v2", "phone_numbers", id, ("messaging")]
        number = self.numbers.get(parts[3]) if len(parts) > 3 else None
        if number is None:
            return _error(404, 10005, "Resource not found")
        if method == "DELETE":
            del self.numbers[parts[3]]
            return 200, {"data": number}
        if method == "PATCH":
            number.update(fields)
            return 200, {"data": number}
        return _error(405, 10015, "Bad Request")

    def handle(
        self, method: str, path: str, headers: dict, body: bytes, query: dict | None = None
    ) -> tuple[int, dict] | None:
        """The answer to one request; None to drop the connection without one."""
        query = query or {}
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            if method == "GET" and (answer := self._file(path, headers, query)) is not None:
                return answer
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, 10009, "Authentication failed")
            if method == "POST" and path == "/v2/messages":
                return self._create_message(headers, body)
            if path.startswith("/v2/texml_applications/"):
                if path.rsplit("/", 1)[1] != self.texml_app_id:
                    return _error(404, 10005, "Resource not found")
                if method == "PATCH":
                    fields = json.loads(body or b"{}")
                    if not (fields.get("friendly_name") and fields.get("voice_url")):
                        return _error(422, 10004, "Missing required parameter", "friendly_name, voice_url")
                    self.texml_application.update(fields)
                return 200, {"data": dict(self.texml_application)}
            if method == "POST" and path.startswith("/v2/texml/calls/"):
                return self._create_call(path.rsplit("/", 1)[1], body)
            if (
                path.startswith("/v2/available_phone_numbers")
                or path.startswith("/v2/number_orders")
                or (path.startswith("/v2/phone_numbers"))
            ):
                return self._numbers(method, path, query, body)
            if method == "GET" and path.startswith("/v2/recordings/"):
                return self._recording(unquote(path.rsplit("/", 1)[1]))
            if method == "GET" and path.startswith("/v2/number_lookup/"):
                number = unquote(path.rsplit("/", 1)[1])
                self.lookups.append(number)
                kind = self.line_types.get(number, "mobile")
                return 200, {"data": {"phone_number": number, "carrier": {"type": kind, "name": "Fake"}}}
            return _error(404, 10005, "Resource not found")

    def _create_call(self, application_id: str, body: bytes) -> tuple[int, dict]:
        if application_id != self.texml_app_id:
            return _error(404, 10005, "Resource not found", f"no TeXML application {application_id}")
        if self._failures:
            return _error(*self._failures.pop(0), "Failed as asked")
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return _error(400, 10015, "Bad Request")
        missing = [name for name in ("From", "To") if not fields.get(name)]
        if missing:
            return _error(422, 10004, "Missing required parameter", ", ".join(missing))
        if fields.get("Url") and fields.get("Texml"):
            return _error(422, 10015, "Bad Request", "Url and Texml are exclusive")
        call = {"call_sid": f"v3:{uuid.uuid4().hex}", "from": fields["From"], "to": fields["To"]}
        self.calls.append({**call, "params": fields})
        return 200, {**call, "status": "queued"}

    def _create_message(self, headers: dict, body: bytes) -> tuple[int, dict] | None:
        key = headers.get("idempotency-key", "")
        if key and key in self._idempotent:
            return 200, self._idempotent[key]
        if self._failures:
            return _error(*self._failures.pop(0), "Failed as asked")
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return _error(400, 10015, "Bad Request")
        missing = [name for name in ("from", "to", "text") if not fields.get(name)]
        if missing:
            return _error(422, 10004, "Missing required parameter", ", ".join(missing))
        if fields["to"] in self._rejected:
            return _error(400, self._rejected[fields["to"]], "Rejected as asked")
        message = {
            "record_type": "message",
            "id": str(uuid.uuid4()),
            "direction": "outbound",
            "from": {"phone_number": fields["from"]},
            "to": [{"phone_number": fields["to"], "status": "queued"}],
            "text": fields["text"],
            "parts": max(1, -(-len(fields["text"]) // 153)) if len(fields["text"]) > 160 else 1,
            "webhook_url": fields.get("webhook_url"),
        }
        self.messages.append(message)
        answer = {"data": message}
        if key:
            self._idempotent[key] = answer
        if self._drop_next:
            self._drop_next = False
            return None
        if self._hang_next:
            hang, self._hang_next = self._hang_next, 0.0
            return 200, {**answer, "_hang": hang}
        return 200, answer

    # --- serving -------------------------------------------------------------------------------------------------

    def __enter__(self) -> FakeTelnyx:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                parts = urlsplit(self.path)
                result = fake.handle(method, parts.path, headers, body, parse_qs(parts.query))
                if result is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, payload = result
                if "_file" in payload:  # a media file: its bytes, not JSON
                    content, content_type = payload["_file"]
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                    return
                if "_hang" in payload:  # answered late, outside the fake's lock
                    payload = dict(payload)
                    time.sleep(payload.pop("_hang"))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer("GET")

            def do_POST(self):
                self._answer("POST")

            def do_PATCH(self):
                self._answer("PATCH")

            def do_DELETE(self):
                self._answer("DELETE")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
