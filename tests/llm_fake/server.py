"""A local stand-in for an OpenAI-compatible chat API (POST <base>/chat/completions), faked only at its HTTP
boundary: it records every request as it arrived and answers as a test tells it to (a draft, an error, silence
past the client's timeout, or something that is not a chat completion)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    def __init__(self):
        self.requests: list[dict] = []  # {"path", "headers", "json"}
        self.mode = "ok"  # ok | error | slow | garbage | empty
        self.reply = "Hi! We can help with that."
        self.delay = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeLLM":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                if self.path != "/v1/chat/completions":
                    return self._answer(404, {"error": {"message": "not found"}})
                if fake.mode == "slow":
                    time.sleep(fake.delay or 3)
                if fake.mode == "error":
                    return self._answer(500, {"error": {"message": "the model is overloaded"}})
                if fake.mode == "garbage":
                    return self._answer(200, {"unexpected": True})
                content = "" if fake.mode == "empty" else fake.reply
                return self._answer(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "model": (body or {}).get("model", ""),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                )

            def _answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout)

        return Handler
