"""A fake Telnyx API (messages, number lookup, numbers, TeXML calls) served locally for tests; see server.py."""

from .server import FakeTelnyx

__all__ = ["FakeTelnyx"]
