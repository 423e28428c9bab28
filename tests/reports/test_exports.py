"""Exports: CSV and XLSX of the funnel, calls and conversations with their outcomes (formulas neutralised), big
exports as a job with progress and a download link for the person who asked, and the monthly PDF."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context
from openpyxl import load_workbook
from PIL import Image

from accounts.models import Agency
from crm.models import Contact
from reports import exports
from reports.models import ExportJob
from reports.selectors import Period
from reports.tasks import expire_exports, run_export

pytestmark = pytest.mark.django_db

ACME = "acme.localhost"
PERIOD = "?preset=custom&start=2026-10-31&end=2026-11-02"
EVIL = '=HYPERLINK("http://evil.test","click")'


@pytest.fixture
def evil_name(history):
    with schema_context(history.acme.schema_name):
        contact = Contact.objects.filter(calls__isnull=False).order_by("calls__started_at").first()
        contact.name = EVIL
        contact.save()
    return history


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_funnel_csv_has_every_number_and_the_labelled_estimate(web, history):
    response = web(ACME, history.alice).get("/reports/export/funnel.csv" + PERIOD)
    assert response["Content-Disposition"] == 'attachment; filename="acme-funnel-20261031-20261102.csv"'
    rows = {row[0]: row[1:] for row in _csv(response)}
    assert rows["Missed calls"][0] == "8" and rows["Reply rate"][0] == "60.0%"
    assert rows["Recovered revenue"][0] == "$1,650.50"
    assert rows["Time to first staff reply (median)"][0] == "10 min"
    assert rows["Estimate for those (average job value; not in recovered revenue)"][0] == "300.00"
    assert rows["Skipped: Landline"][0] == "1"


def test_calls_csv_lists_each_call_in_local_time_with_formulas_neutralised(web, evil_name):
    rows = _csv(web(ACME, evil_name.alice).get("/reports/export/calls.csv" + PERIOD))
    header, calls = rows[0], rows[1:]
    assert header[0] == "Started (America/Chicago)" and len(calls) == 9
    assert calls[0][0] == "2026-10-31 09:30:00" and calls[0][3] == "Missed" and calls[0][7] == "Sent"
    assert calls[0][2] == "'" + EVIL  # a spreadsheet shows the text instead of running it
    assert all(row[1].startswith("'+1") or row[1] == "anonymous" for row in calls)
    skipped = {row[8] for row in calls if row[7] == "Skipped"}
    assert skipped == {"Landline", "Caller hid their number", "On the block list"}
    # The second 01:30 of the night the clocks went back is a separate row, an hour after the first.
    assert [row[0] for row in calls].count("2026-11-01 01:30:00") == 2


def test_xlsx_stores_text_not_formulas(web, evil_name):
    response = web(ACME, evil_name.alice).get("/reports/export/calls.xlsx" + PERIOD)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet["C2"]
    assert cell.value == "'" + EVIL and cell.data_type == "s"
    assert sheet.max_row == 10


def test_conversations_with_outcomes(web, history):
    rows = _csv(web(ACME, history.alice).get("/reports/export/conversations.csv" + PERIOD))
    header, body = rows[0], rows[1:]
    assert header[7:9] == ["Outcome", "Value"]
    by_outcome = {row[7]: row for row in body if row[7]}
    assert by_outcome["Won"][8] in ("450.00", "1200.50") and by_outcome["Booked"][5] == "30 min"
    assert {row[8] for row in body if row[7] == "Won"} == {"450.00", "1200.50"}
    assert len(body) == 5  # every conversation with a text in the period (call 4's and 9's callers had none)
    # Call 2's caller only said STOP: an opt-out, not a reply, as in the funnel.
    [stopped] = [row for row in body if row[2] == "2026-10-31 23:31:00"]
    assert stopped[3:6] == ["", "", ""]


def test_an_unknown_export_or_period_is_refused(web, personas):
    browser = web(ACME, personas.alice)
    assert browser.get("/reports/export/secrets.csv").status_code == 404
    assert browser.get("/reports/export/calls.pdf").status_code == 404
    response = browser.get("/reports/export/calls.csv?preset=custom&start=2026-11-05&end=2026-11-01")
    assert response.status_code == 400 and b"ends before it starts" in response.content


def test_a_big_export_is_a_job_with_progress_and_a_download_link(
    web, history, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "INLINE_LIMIT", 5)
    monkeypatch.setattr(exports, "CHUNK", 2)
    queued = []
    monkeypatch.setattr(run_export, "delay", lambda *args: queued.append(args))
    alice = web(ACME, history.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.get("/reports/export/calls.csv" + PERIOD)
    assert response.status_code == 302
    job_id = int(re.search(r"/reports/exports/(\d+)/", response["Location"])[1])
    assert queued == [(history.acme.pk, job_id)]
    page = alice.get(f"/reports/exports/{job_id}/").content.decode()
    assert '<progress class="progress" value="0" max="100">' in page and "0 of 9 rows" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert alice.get(f"/reports/exports/{job_id}/download/").status_code == 404  # not ready yet

    assert run_export.apply(args=[history.acme.pk, job_id]).get() == "done"
    assert run_export.apply(args=[history.acme.pk, job_id]).get() == "taken"  # a repeated task does nothing
    page = alice.get(f"/reports/exports/{job_id}/").content.decode()
    assert "Download acme-calls-20261031-20261102.csv" in page and "refresh" not in page
    rows = _csv(alice.get(f"/reports/exports/{job_id}/download/"))
    assert len(rows) == 10
    # Someone else of the same client cannot see or fetch it.
    bob = web(ACME, history.bob)
    assert bob.get(f"/reports/exports/{job_id}/").status_code == 404
    assert bob.get(f"/reports/exports/{job_id}/download/").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_progress_is_reported_as_rows_are_written(history, monkeypatch, fmt):
    monkeypatch.setattr(exports, "CHUNK", 2)
    seen = []
    with schema_context(history.acme.schema_name):
        exports.export_build(
            client=history.acme,
            kind="calls",
            fmt=fmt,
            progress=seen.append,
            period=Period(date(2026, 10, 31), date(2026, 11, 2), "America/Chicago"),
        )
    assert seen == [2, 4, 6, 8]  # 9 rows, reported every 2


def test_a_job_records_its_progress_and_failure(history, monkeypatch):
    with schema_context(history.acme.schema_name):
        job = ExportJob.objects.create(
            kind="calls",
            format="csv",
            start=date(2026, 10, 31),
            end=date(2026, 11, 2),
            rows_total=9,
            requested_by_id=history.alice.pk,
        )

        def broken(**kwargs):
            kwargs["progress"](4)
            raise RuntimeError("disk full")

        monkeypatch.setattr(exports, "export_build", broken)
        with pytest.raises(RuntimeError):
            exports.export_job_run(client=history.acme, job_id=job.pk)
        job.refresh_from_db()
        assert (job.state, job.rows_done, job.error, job.percent) == ("failed", 4, "disk full", 44)


def test_monthly_pdf_is_one_page(web, history):
    response = web(ACME, history.alice).get("/reports/monthly.pdf?month=2026-11")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"/Count 1" in response.content
    assert response["Content-Disposition"] == 'attachment; filename="acme-2026-11.pdf"'
    assert web(ACME, history.alice).get("/reports/monthly.pdf?month=november").status_code == 400
    agency = web("localhost", history.nina).get("/reports/clients/acme/monthly.pdf?month=2026-11")
    assert agency.status_code == 200 and agency.content.startswith(b"%PDF")


# --- Expiry ----------------------------------------------------------------------------------------------


def _finished_job(client, user, *, state="done", days_ago: float, **fields) -> ExportJob:
    with schema_context(client.schema_name):
        return ExportJob.objects.create(
            kind="calls",
            format="csv",
            start=date(2026, 10, 31),
            end=date(2026, 11, 2),
            state=state,
            rows_total=9,
            content=b"Started,Caller\r\n" if state == "done" else None,
            filename="acme-calls-20261031-20261102.csv",
            requested_by_id=user.pk,
            finished_at=None if days_ago is None else now() - timedelta(days=days_ago),
            **fields,
        )


def test_finished_exports_expire_after_the_retention_days(personas, settings):
    settings.REPORT_EXPORT_RETENTION_DAYS = 3
    old = _finished_job(personas.acme, personas.alice, days_ago=3.1)
    old_failure = _finished_job(personas.acme, personas.alice, state="failed", days_ago=10)
    recent = _finished_job(personas.acme, personas.alice, days_ago=2.9)
    waiting = _finished_job(personas.acme, personas.alice, state="pending", days_ago=None)
    other_client = _finished_job(personas.bolt, personas.dave, days_ago=4)
    assert expire_exports.apply().get() == 3
    with schema_context(personas.acme.schema_name):
        states = {j.pk: (j.state, j.content is None) for j in ExportJob.objects.all()}
    assert states[old.pk] == ("expired", True) and states[old_failure.pk] == ("expired", True)
    assert states[recent.pk] == ("done", False) and states[waiting.pk] == ("pending", True)
    with schema_context(personas.bolt.schema_name):
        assert ExportJob.objects.get(pk=other_client.pk).state == "expired"
    assert expire_exports.apply().get() == 0  # nothing twice


def test_the_expiry_runs_from_the_beat_schedule():
    from config.celery_app import app

    entry = app.conf.beat_schedule["reports-expire-exports"]
    assert entry["task"] == expire_exports.name


def test_an_expired_exports_link_says_it_has_gone_and_offers_it_again(web, personas, settings):
    settings.REPORT_EXPORT_RETENTION_DAYS = 7
    job = _finished_job(personas.acme, personas.alice, days_ago=8)
    expire_exports.apply()
    alice = web(ACME, personas.alice)
    for path in (f"/reports/exports/{job.pk}/download/", f"/reports/exports/{job.pk}/"):
        response = alice.get(path)
        assert response.status_code == 410
        text = re.sub(r"\s+", " ", response.content.decode())
        assert "This export has expired" in text and "Exports are kept for 7 days" in text
        assert (
            'href="/reports/export/calls.csv?preset=custom&amp;start=2026-10-31&amp;end=2026-11-02"' in text
        )
    # Not the person who asked, or another client's host: nothing to say about it.
    assert web(ACME, personas.bob).get(f"/reports/exports/{job.pk}/download/").status_code == 404
    assert web("bolt.localhost", personas.dave).get(f"/reports/exports/{job.pk}/download/").status_code == 404


def test_the_monthly_pdf_carries_the_agencys_logo(web, history):
    def pdf():
        response = web(ACME, history.alice).get("/reports/monthly.pdf?month=2026-11")
        assert response.status_code == 200 and b"/Count 1" in response.content
        return response.content

    assert b"/Subtype /Image" not in pdf()
    logo = io.BytesIO()
    Image.new("RGB", (200, 80), "#0f766e").save(logo, "PNG")
    Agency.objects.filter(pk=history.northwind.pk).update(logo=logo.getvalue(), logo_content_type="image/png")
    assert b"/Subtype /Image" in pdf()
    # A logo that cannot be read leaves the report without it, not without a report.
    Agency.objects.filter(pk=history.northwind.pk).update(logo=b"\x89PNG broken")
    assert b"/Subtype /Image" not in pdf()
