"""Secrets that travel in URL paths, kept out of every log line: invitation and handoff tokens and password-reset
tokens. Each link is spent on first use and the pages move the token out of the URL at once (invitations and
resets redirect to a token-free URL), but the first request line still reaches the access log, and a bad or
spent token's 404 reaches Django's request log."""

import logging
import re

REDACTED = "[redacted]"
# /accounts/invitation/<token>/, /accounts/enter/<token>/, /accounts/password/reset/<uidb64>/<token>/ (but not
# Django's own /set-password/ step, which holds no token).
TOKEN_IN_PATH = re.compile(
    r"(/accounts/(?:invitation|enter)/)(?!\s)[^/\s?#\"]+"
    r"|(/accounts/password/reset/[^/\s?#\"]+/)(?!set-password/)[^/\s?#\"]+"
)


def redact_tokens(text: str) -> str:
    return TOKEN_IN_PATH.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """On a handler: the record's message with tokens taken out of any path it names."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
