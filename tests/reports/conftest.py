import pytest

from accounts.models import Client

from .history import build_acme, build_bolt, build_cedar


@pytest.fixture
def history(personas, django_db_blocker):
    """The known history of tests/reports/history.py in acme, bolt and cedar (rolled back after the test).
    Acme's average job value is set to $300 for the estimate; the personas' rows are put back afterwards."""
    Client.objects.filter(pk=personas.acme.pk).update(average_job_value="300.00")
    personas.acme.refresh_from_db()
    build_acme(personas.acme)
    build_bolt(personas.bolt)
    build_cedar(personas.cedar)
    yield personas
    personas.acme.average_job_value = None
