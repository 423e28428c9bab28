"""After the text-back: what callers did next (the booking link opened → booked, the intake form opened →
answered, recovered by the follow-up, voicemails left, what their replies were about) is in every report, not
only the client's page: the agency's roll-up (each client and together, in a few queries however many clients),
the monthly PDF, the funnel export and the API's report. One client's or agency's figures never show at another."""

import csv
import io
import re
import zlib
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from api.services import apikey_create
from reports import pdf
from reports.emails import monthly_email_send_agency, monthly_email_send_client
from reports.rollups import rollup_rebuild_client
from reports.selectors import Period, after_textback, text_results

from .history import build_after_textback

pytestmark = pytest.mark.django_db

ACME = "acme.localhost"
PERIOD = {"preset": "custom", "start": "2026-10-31", "end": "2026-11-02"}
DAYS = Period(date(2026, 10, 31), date(2026, 11, 2), "America/Chicago")


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def after(history):
    build_after_textback(history.acme, history.bolt)
    return history


def test_each_clients_figures_and_the_agencys_are_three_queries_however_many_clients(
    after, django_assert_num_queries
):
    clients = [after.acme, after.bolt, after.cedar]
    # The two link tables grouped by client, and one statement over the clients' own tables (in a transaction
    # with JIT off: its savepoint, the SET, the read, its release).
    after_textback(
        clients=clients, period=DAYS
    )  # the connection's own first SET search_path, out of the count
    with django_assert_num_queries(2 + 4):
        numbers = after_textback(clients=clients, period=DAYS)
    with django_assert_num_queries(2 + 4):
        after_textback(clients=clients[:1], period=DAYS)
    acme, bolt, cedar = (numbers[c.pk] for c in clients)
    assert (acme.steps.links_sent, acme.steps.links_opened, acme.steps.booked_after_opening) == (3, 2, 1)
    assert (acme.steps.forms_sent, acme.steps.forms_opened, acme.steps.forms_answered) == (2, 1, 1)
    assert (acme.followups.sent, acme.followups.recovered) == (3, 1)
    # The same follow-ups, sent and replied to, as "What works in the texts" counts them on the same page.
    [followup] = [t for t in text_results(client=after.acme, period=DAYS) if t.template == "followup"]
    assert (followup.total.sent, followup.total.replied) == (acme.followups.sent, acme.followups.recovered)
    # The history's replies are "Yes please" (booking), and the intake-era "How much?" on 2 Nov.
    assert acme.voicemails == 1 and acme.intents == [("Booking", 4), ("Price question", 1)]
    assert (bolt.steps.links_opened, bolt.followups.recovered, bolt.voicemails) == (1, 1, 1)
    assert bolt.intents == [("Booking", 1), ("Emergency", 1)]
    assert not cedar


def test_the_agency_rollup_shows_them_together_and_by_client(web, after):
    text = _text(web("localhost", after.nate).get("/reports/", PERIOD))
    assert "After the text-back" in text
    assert "Booking link: sent in 4 texts · opened from 3 · 1 booked after opening it." in text
    assert "Intake form: sent to 2 callers · opened by 1 · 1 sent answers" in text
    assert (
        "4 callers who had not answered the text-back got one follow-up · 2 recovered by the follow-up"
        in text
    )
    assert "Voicemail: 2 callers left a voicemail" in text
    assert "What callers' replies were about: Booking 5 · Emergency 1 · Price question 1" in text
    assert re.search(
        r"Acme Plumbing 2 opened · 1 booked of 3 1 opened · 1 answered of 2 1 recovered of 3 1", text
    )
    assert re.search(r"Bolt Electric 1 opened · 0 booked of 1 — 1 recovered of 1 1", text)


def test_the_agency_page_costs_the_same_queries_for_one_client_or_two(web, after):
    """Sara's agency has one client (cedar), Nate's two (acme and bolt): the page reads no more for two."""
    counts = []
    for who in (after.sara, after.nate):
        browser = web("localhost", who)
        browser.get("/reports/", PERIOD)  # the session and the caches warmed
        with CaptureQueriesContext(connection) as captured:
            assert browser.get("/reports/", PERIOD).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_another_agency_sees_none_of_them(web, after):
    text = _text(web("localhost", after.sara).get("/reports/", PERIOD))
    assert "Cedar Roofing" in text and "After the text-back" not in text and "Booking link:" not in text


def test_the_clients_report_shows_its_own_only(web, after):
    response = web(ACME, after.alice).get("/reports/", PERIOD)
    text = _text(response)
    assert "Booking link: sent in 3 texts · opened from 2 · 1 booked after opening it." in text
    assert "3 callers who had not answered the text-back got one follow-up · 1 recovered" in text
    intents = re.search(r'class="estimate card reply-intents">(.*?)</p>', response.content.decode(), re.S)[1]
    assert re.sub(r"\s+|<[^>]+>", " ", intents).split() == [
        "What",
        "callers'",
        "replies",
        "were",
        "about:",
        "Booking",
        "4",
        "·",
        "Price",
        "question",
        "1",
    ]


def _pdf_text(content: bytes) -> str:
    """The words of a PDF drawn with the core font (fpdf2 deflates each page's drawing)."""
    words = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            drawn = zlib.decompress(stream)
        except zlib.error:
            continue
        drawn_words = re.findall(rb"\((.*?)(?<!\\)\) ?Tj", drawn)
        words += [re.sub(rb"\\([()\\])", rb"\1", w).decode("latin-1") for w in drawn_words]
    return re.sub(r"\s+", " ", " ".join(words))


def test_the_monthly_pdf_says_what_callers_did_after_the_text_back(web, after, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)  # the core font: its text can be read back
    response = web(ACME, after.alice).get("/reports/monthly.pdf?month=2026-11")
    assert response.status_code == 200 and b"/Count 1" in response.content  # still one page
    text = _pdf_text(response.content)
    assert "After the text-back" in text
    # November on acme's clock: the links of 1, 2 and 3 Nov, the forms of 1 and 2 Nov, its three follow-ups.
    assert "Booking link: sent in 3 texts, opened from 2, 1 booked after opening it." in text
    assert "Intake form: sent to 2 callers, opened by 1, 1 sent answers." in text
    assert (
        "Follow-up: 3 callers who had not answered the text-back got one, 1 recovered by the follow-up"
        in text
    )
    assert "Replies were about: Booking 3, Price question 2." in text
    assert "Voicemail" not in text  # acme's was on 31 October


def test_the_funnel_export_has_them_beside_the_period_before(web, after):
    browser = web(ACME, after.alice)
    response = browser.get("/reports/export/funnel.csv", PERIOD)
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows["Booking links sent (texts)"][:2] == ["3", "0"]
    assert rows["Booked after opening the booking link"][:2] == ["1", "0"]
    assert rows["Intake forms answered"][:2] == ["1", "0"]
    assert rows["Recovered by the follow-up (answered it)"][:2] == ["1", "0"]
    assert rows["Callers who left a voicemail"][:2] == ["1", "0"]
    assert rows["Replies about: Booking"][:2] == ["4", "0"]
    sheet = load_workbook(io.BytesIO(browser.get("/reports/export/funnel.xlsx", PERIOD).content)).active
    cells = {row[0]: row[1:3] for row in sheet.iter_rows(values_only=True)}
    assert cells["Follow-ups sent"] == (3, 0) and cells["Replies about: Price question"] == (1, 0)


def test_the_api_report_has_them_for_its_own_client_only(web, after):
    _, secret = apikey_create(client=after.acme, created_by=after.alice, name="Reports", scope="read")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    days = {"start": "2026-10-31", "end": "2026-11-02"}
    body = web(ACME).get("/api/v1/reports/", days, **auth).json()
    assert (body["links_sent"], body["links_opened"], body["booked_after_opening"]) == (3, 2, 1)
    assert (body["intake_forms_sent"], body["intake_forms_opened"], body["intake_forms_answered"]) == (
        2,
        1,
        1,
    )
    assert (body["followups_sent"], body["followups_recovered"], body["voicemails"]) == (3, 1, 1)
    assert body["reply_intents"] == {"booking": 4, "price": 1}
    # Acme's key on bolt's host answers nothing of bolt's (nor of acme's).
    other = web("bolt.localhost").get("/api/v1/reports/", days, **auth)
    assert other.status_code in (401, 404) and "links_sent" not in other.content.decode()


def test_the_monthly_emails_say_it_too(after):
    for client in (after.acme, after.bolt):
        rollup_rebuild_client(client=client)
    monthly_email_send_client(client=after.acme, month=date(2026, 11, 1))
    [owner] = mail.outbox
    # November on acme's clock, as its PDF.
    assert (
        "After the text-back:\nBooking link: sent in 3 texts, opened from 2, 1 booked after opening it."
        in owner.body
    )
    monthly_email_send_agency(agency=after.northwind, month=date(2026, 11, 1))
    summary = mail.outbox[1].body
    assert "After the text-back, across them:\nBooking link: sent in 4 texts, opened from 3" in summary
    assert "Follow-up: 4 callers who had not answered the text-back got one, 2 recovered" in summary
    assert "Cedar" not in summary
