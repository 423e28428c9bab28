"""Roll-up bumps from many connections at once add up exactly. Committed data (other connections must see
it), so no django_db mark: committed_db gives database access outside a rolled-back transaction."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from reports.models import DailyRollup
from reports.rollups import rollup_bump


@pytest.fixture
def clean_rollups(committed_db, personas):
    DailyRollup.objects.filter(client=personas.acme).delete()
    yield
    DailyRollup.objects.filter(client=personas.acme).delete()


def test_concurrent_bumps_add_up_exactly(personas, clean_rollups):
    day, threads, per_thread = date(2026, 11, 1), 6, 20
    barrier = threading.Barrier(threads)

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                rollup_bump(
                    client_id=personas.acme.pk,
                    day=day,
                    calls=1,
                    won_value=Decimal("0.01"),
                    skipped_reason="landline",
                    textbacks_skipped=1,
                )
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    row = DailyRollup.objects.get(client=personas.acme, date=day)
    assert (row.calls, row.textbacks_skipped, row.won_value) == (120, 120, Decimal("1.20"))
    assert row.skipped_reasons == {"landline": 120}
