"""A fake Twilio REST API (Messages + Lookup v2) served locally for tests and benchmarks; see server.py."""

from .server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, ERRORS, FakeTwilio, twilio_error

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_AUTH_TOKEN", "ERRORS", "FakeTwilio", "twilio_error"]
