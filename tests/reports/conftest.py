import pytest

from accounts.models import Client
from reports.rollups import rollup_rebuild_client

from .history import build_acme, build_bolt, build_cedar


@pytest.fixture
def history(personas, django_db_blocker):
    """The known history of tests/reports/history.py in acme, bolt and cedar, and its roll-ups (rolled back
    after the test).
    Acme's average job value is set to $300 for the estimate; the personas' rows are put back afterwards."""
    Client.objects.filter(pk=personas.acme.pk).update(average_job_value="300.00")
    personas.acme.refresh_from_db()
    build_acme(personas.acme)
    build_bolt(personas.bolt)
    build_cedar(personas.cedar)
    # The history is written as rows, without the events that keep the roll-ups: the nightly rebuild makes
    # them, as it would in production (tests/reports/test_events.py proves events keep them the same).
    for client in (personas.acme, personas.bolt, personas.cedar):
        rollup_rebuild_client(client=client)
    yield personas
    personas.acme.average_job_value = None
