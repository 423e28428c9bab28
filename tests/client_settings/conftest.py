# Failed logins are counted in Redis across tests: start and end each test clean, as tests/accounts does.
from tests.accounts.conftest import _no_login_failures_carried_over  # noqa: F401
