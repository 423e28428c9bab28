"""Roll-up bumps from many connections at once add up exactly. Committed data (other connections must see
it), so no django_db mark: committed_db gives database access outside a rolled-back transaction."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from reports.models import DailyRollup, MonthlyRollup
from reports.rollups import rollup_bump


@pytest.fixture
def clean_rollups(committed_db, personas):
    for model in (DailyRollup, MonthlyRollup):
        model.objects.filter(client=personas.acme).delete()
    yield
    for model in (DailyRollup, MonthlyRollup):
        model.objects.filter(client=personas.acme).delete()


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
    month = MonthlyRollup.objects.get(client=personas.acme, month=day.replace(day=1))
    assert (month.calls, month.textbacks_skipped, month.won_value) == (120, 120, Decimal("1.20"))
    assert month.skipped_reasons == {"landline": 120}


def test_two_days_of_a_month_bumped_in_crossing_orders_do_not_deadlock(personas, clean_rollups):
    """One transaction bumps 1 Nov and then 2 Nov (an outcome that takes a booking's pending count off one day
    and counts a win on another) while another bumps 2 Nov. Every bump locks the month's row before the day's,
    so the second waits for the first before it holds 2 Nov; locking the day first, it would hold 2 Nov while
    waiting for the month that the first holds, and the first would wait for 2 Nov: a deadlock."""
    first_bumped, errors = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                rollup_bump(client_id=personas.acme.pk, day=date(2026, 11, 1), booked_pending=-1)
                first_bumped.set()
                time.sleep(0.5)  # the other transaction is waiting by now
                rollup_bump(client_id=personas.acme.pk, day=date(2026, 11, 2), won=1)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def second():
        try:
            assert first_bumped.wait(10)
            with transaction.atomic():
                rollup_bump(client_id=personas.acme.pk, day=date(2026, 11, 2), calls=1)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    month = MonthlyRollup.objects.get(client=personas.acme, month=date(2026, 11, 1))
    assert (month.booked_pending, month.won, month.calls) == (-1, 1, 1)
