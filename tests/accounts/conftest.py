import pytest
from django.core.cache import cache

from accounts.forms import _failure_key

PERSONA_EMAILS = [
    f"{name}@{domain}.test"
    for name, domain in [
        ("alice", "acme"),
        ("bob", "acme"),
        ("dave", "bolt"),
        ("erin", "cedar"),
        ("nina", "northwind"),
        ("nate", "northwind"),
        ("sara", "southpeak"),
        ("charlie", "nowhere"),
        ("oscar", "textback"),
    ]
]


class _TestRequest:
    META = {"REMOTE_ADDR": "127.0.0.1"}  # what django.test.Client sends


def clear_login_failures(*emails: str) -> None:
    for email in emails or PERSONA_EMAILS:
        cache.delete(_failure_key(_TestRequest, email))


@pytest.fixture(autouse=True)
def _no_login_failures_carried_over():
    """Failed logins are counted in Redis for 15 minutes, across tests and runs: start and end each test clean."""
    clear_login_failures()
    yield
    clear_login_failures()
