import pytest

from accounts.throttle import login_failures_clear

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


def clear_login_failures(*emails: str, address: str = "127.0.0.1") -> None:
    """127.0.0.1 is what django.test.Client sends as REMOTE_ADDR."""
    for email in emails or PERSONA_EMAILS:
        login_failures_clear(email=email, address=address)


@pytest.fixture(autouse=True)
def _no_login_failures_carried_over():
    """Failed logins are counted in Redis for 15 minutes, across tests and runs: start and end each test clean."""
    clear_login_failures()
    yield
    clear_login_failures()
