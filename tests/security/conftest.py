import pytest
from django.db import transaction

from tests.accounts.conftest import PERSONA_EMAILS

from .account_steps import forget_failed_logins

# --- Account and login side ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_failed_logins_carried_over():
    """Failed logins are counted in Redis for 15 minutes, across tests and runs: start and end each test clean."""
    forget_failed_logins(*PERSONA_EMAILS)
    yield
    forget_failed_logins(*PERSONA_EMAILS)


@pytest.fixture
def mail_on_commit(monkeypatch):
    """Invitations are mailed once their transaction commits; a test's transaction never does, so the callback
    runs when it is registered."""
    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
