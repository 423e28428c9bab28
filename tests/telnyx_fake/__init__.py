"""A fake Telnyx API (messages, number lookup) served locally for tests; see server.py."""

from .server import FakeTelnyx

__all__ = ["FakeTelnyx"]
