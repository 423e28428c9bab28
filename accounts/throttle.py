"""Failed-login throttling, for every form that checks a password: the login page (every host's, the Django
admin's included: it logs in there) and accepting an invitation as someone who already has an account.

Failures are counted in the `platform` cache, whose keys carry no schema, so guesses at one account on one
client's host count on every other host too. Three counts, each over LOGIN_LOCKOUT_SECONDS:
- one account from one address: LOGIN_FAILURE_LIMIT (a person mistyping is held up, nobody else);
- one account from anywhere: ACCOUNT_FAILURE_LIMIT (guesses spread over many addresses);
- one address at any accounts: ADDRESS_FAILURE_LIMIT (one password tried on many accounts).
Keys are made from what was typed, whether or not the account exists, so a lock-out tells a stranger nothing
about which addresses are real. The address is REMOTE_ADDR, which config.middleware.TrustedProxyMiddleware sets
from X-Forwarded-For only when the request came through a trusted proxy."""

import hashlib

from django.core.cache import caches

LOGIN_FAILURE_LIMIT = 5
ACCOUNT_FAILURE_LIMIT = 20
ADDRESS_FAILURE_LIMIT = 50
LOGIN_LOCKOUT_SECONDS = 15 * 60


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _keys(email: str, address: str) -> dict[str, int]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return {
        f"login-failures:{account}:{address}": LOGIN_FAILURE_LIMIT,
        f"login-failures:{account}": ACCOUNT_FAILURE_LIMIT,
        f"login-failures::{address}": ADDRESS_FAILURE_LIMIT,
    }


def login_throttled(*, email: str, address: str) -> bool:
    keys = _keys(email, address)
    counts = caches["platform"].get_many(keys)
    return any((counts.get(key) or 0) >= limit for key, limit in keys.items())


def login_failure_record(*, email: str, address: str) -> None:
    cache = caches["platform"]
    for key in _keys(email, address):
        cache.add(key, 0, timeout=LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=LOGIN_LOCKOUT_SECONDS)


def login_success(*, email: str, address: str) -> None:
    """The person got in: their account's counts start again. The address's stays (one right password must not
    wipe out a spray of wrong ones from there)."""
    caches["platform"].delete_many(list(_keys(email, address))[:2])


def login_failures_clear(*, email: str, address: str) -> None:
    """Forget every count these two take part in (tests start clean with it)."""
    caches["platform"].delete_many(list(_keys(email, address)))
