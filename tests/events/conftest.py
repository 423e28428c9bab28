"""The outbound-webhook receiver (a real local HTTP server, on 127.0.0.1) the API tests use."""

from tests.api.conftest import _webhooks_to_this_machine, receiver  # noqa: F401
