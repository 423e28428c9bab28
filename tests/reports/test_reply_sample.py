"""Reply-time percentiles over very many waits come from a fixed sample of them (one in eight, chosen by a hash of
the client and the text-back): exactly the percentiles of that sample, close to those of every wait, the same
on every load, spread over every client, and said so on the page. Fewer waits are always exact."""

import re
import statistics
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import Count

from reports import selectors
from reports.models import SAMPLE_EVERY, DailyRollup, FirstStaffReply, MonthlyRollup
from reports.rollups import monthly_rollups_rebuild
from reports.selectors import funnel_for_clients

pytestmark = pytest.mark.django_db

START, DAYS = date(2026, 10, 1), 30
EACH = 40_000  # waits per client: a sample of 10,000 between the two, as a sampled period has 50,000 or more


def _exact(waits: list[int]) -> tuple[int, int]:
    """percentile_cont's median and 90th percentile (linear between the two nearest), rounded as reports do."""
    median, p90 = (statistics.quantiles(waits, n=10, method="inclusive")[i] for i in (4, 8))
    return round(median), round(p90)


@pytest.fixture
def many_waits(personas):
    """Acme and Bolt with EACH answered text-backs each over a month, their ids in steps of SAMPLE_EVERY (as a
    client whose every conversation has eight messages would have), waits spread as people answer (most within
    minutes, some after hours: exponential, 15 minutes on average, the same every run); each day's
    answered_by_staff agrees, as the roll-ups keep it."""
    ids = [personas.acme.pk, personas.bolt.pk]
    for model in (DailyRollup, MonthlyRollup, FirstStaffReply):
        model.objects.filter(client_id__in=ids).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "INSERT INTO reports_firststaffreply (client_id, date, textback_id, wait_seconds)"
            " SELECT c, %s::date + n %% %s, n * %s, 10 + floor(-ln(1 - random()) * 900)"
            " FROM unnest(%s::bigint[]) AS c, generate_series(0, %s) AS n ORDER BY c, n",
            [START, DAYS, SAMPLE_EVERY, ids, EACH - 1],
        )
    per_day = (
        FirstStaffReply.objects.filter(client_id__in=ids).values("client_id", "date").annotate(n=Count("id"))
    )
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(client_id=row["client_id"], date=row["date"], answered_by_staff=row["n"])
            for row in per_day
        ]
    )
    monthly_rollups_rebuild(client_ids=ids)
    return ids


def _waits(ids, *, sample: bool = False) -> list[int]:
    rows = FirstStaffReply.objects.filter(client_id__in=ids)
    if sample:
        rows = rows.filter(in_sample=True)
    return list(rows.values_list("wait_seconds", flat=True))


def test_fewer_waits_than_the_threshold_are_exact(many_waits):
    funnel = funnel_for_clients(client_ids=many_waits, start=START, end=START + timedelta(days=DAYS - 1))
    assert funnel.first_reply_sample_every == 1
    assert (funnel.first_reply_median_seconds, funnel.first_reply_p90_seconds) == _exact(_waits(many_waits))


def test_more_waits_come_from_the_sample_close_to_all_of_them(many_waits, monkeypatch):
    monkeypatch.setattr(selectors, "SAMPLE_ABOVE", 2 * EACH - 1)
    funnel = funnel_for_clients(client_ids=many_waits, start=START, end=START + timedelta(days=DAYS - 1))
    assert funnel.first_reply_sample_every == SAMPLE_EVERY
    found = (funnel.first_reply_median_seconds, funnel.first_reply_p90_seconds)
    assert found == _exact(_waits(many_waits, sample=True))  # the sample's own percentiles, exactly
    for sampled, everything in zip(found, _exact(_waits(many_waits)), strict=True):
        assert abs(sampled - everything) <= 0.03 * everything
    again = funnel_for_clients(client_ids=many_waits, start=START, end=START + timedelta(days=DAYS - 1))
    assert (again.first_reply_median_seconds, again.first_reply_p90_seconds) == found


def test_the_sample_takes_about_one_in_eight_of_every_clients_waits(many_waits):
    """Text-back ids alone (all multiples of eight here) would take all of these clients' waits or none."""
    for pk in many_waits:
        share = len(_waits([pk], sample=True)) / EACH
        assert 0.8 / SAMPLE_EVERY < share < 1.2 / SAMPLE_EVERY, (pk, share)


def test_the_agency_report_says_when_reply_times_are_sampled(web, personas, many_waits, monkeypatch):
    page = "/reports/?preset=custom&start=2026-10-01&end=2026-10-30"

    def reply_rows() -> list[str]:
        text = re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", " ", web("localhost", personas.nate).get(page).content.decode())
        )
        return re.findall(r"Time to first staff reply \([^)]*\)", text)

    assert reply_rows() == [
        "Time to first staff reply (median)",
        "Time to first staff reply (90th percentile)",
    ]
    monkeypatch.setattr(selectors, "SAMPLE_ABOVE", 2 * EACH - 1)
    assert reply_rows() == [
        "Time to first staff reply (median, from 1 in 8 replies)",
        "Time to first staff reply (90th percentile, from 1 in 8 replies)",
    ]
