"""The report pages in a real browser against the running stack, on a phone and a desktop: they fit the
screen, break no Content-Security-Policy rule (no inline style or script), and show the known history."""

import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.utils.timezone import now
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from accounts.models import Agency, Client
from billing.models import ClientPrice
from messaging.models import IntakeLink, TrackedLink
from reports.models import DailyRollup, FirstStaffReply, MonthlyRollup
from reports.rollups import rollup_rebuild_client
from tests.browser.conftest import CHROMIUM_ARGS, DESKTOP, PHONE, SCREENSHOTS, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.reports.history import build_acme, build_after_textback, build_bolt, build_cedar

PERIOD = "?preset=custom&start=2026-10-26&end=2026-11-08&bucket=day"


def _logo() -> bytes:
    """A small two-colour mark, so the screenshots show where the agency's logo goes."""
    image = Image.new("RGB", (240, 96), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((8, 8, 88, 88), radius=18, fill="#0f766e")
    draw.rectangle((104, 30, 232, 66), fill="#134e4a")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def committed_history(live, personas):
    Client.objects.filter(pk=personas.acme.pk).update(
        average_job_value="300.00", reply_conversion_rate="25.00"
    )
    ClientPrice.objects.create(client=personas.acme, monthly_price=Decimal("60.00"))
    Agency.objects.filter(pk=personas.northwind.pk).update(
        logo=_logo(), logo_content_type="image/png", logo_updated_at=now()
    )
    build_acme(personas.acme)
    build_bolt(personas.bolt)
    build_cedar(personas.cedar)
    build_after_textback(personas.acme, personas.bolt)
    for client in (personas.acme, personas.bolt, personas.cedar):
        rollup_rebuild_client(client=Client.objects.get(pk=client.pk))
    yield personas
    for model in (TrackedLink, IntakeLink):  # public, unlike the callers' rows
        model.objects.filter(client__in=[personas.acme, personas.bolt]).delete()
    Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None, reply_conversion_rate=None)
    ClientPrice.objects.filter(client=personas.acme).delete()
    Agency.objects.filter(pk=personas.northwind.pk).update(
        logo=None, logo_content_type="", logo_updated_at=None
    )
    for model in (DailyRollup, MonthlyRollup, FirstStaffReply):
        model.objects.filter(client__in=[personas.acme, personas.bolt, personas.cedar]).delete()
    # The callers' rows in the client schemas are wiped by the live fixture.


def in_a_browser(live, host: str, device: dict, drive):
    """Run `drive(page, base)` in a fresh Chromium, in a thread of its own: a sync Playwright cannot start in a
    thread where another one (tests/browser's, kept for the session) is running."""
    base = f"http://{host}:{live.base_url.rsplit(':', 1)[1]}"

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(**device, accept_downloads=True)
                context.set_default_timeout(10_000)
                return drive(context.new_page(), base)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def _watch_console(page) -> list[str]:
    """Console errors (a CSP violation is one) and failed requests; the site has no favicon yet, not ours."""
    problems = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{msg.text} {msg.location.get('url')}")
            if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_client_report_in_a_browser(live, committed_history, device):
    def drive(page, base):
        problems = _watch_console(page)
        log_in(page, base, committed_history.alice.email)
        expect(page.locator(".account summary")).to_be_visible()  # logged in
        page.goto(f"{base}/reports/{PERIOD}")
        expect(page.get_by_role("heading", name="Recovered revenue · Acme Plumbing")).to_be_visible()
        expect(page.locator(".stat.revenue")).to_contain_text("$1,650.50")
        expect(page.locator(".roi-estimate")).to_contain_text("this is an estimate")
        # $1,650.50 won against $60 a month for 6 of October's 31 days and 8 of November's 30: $27.61.
        expect(page.locator(".roi-headline")).to_contain_text("Returned 59.8× its cost")
        page.locator(".roi").screenshot(path=str(SCREENSHOTS / f"reports-roi-{device}.png"))
        assert page.locator("svg.chart").count() == 6
        # Money and charts first; the funnel's table is folded away until asked for.
        headline, chart = (
            page.locator(".headline").bounding_box(),
            page.locator("svg.chart").first.bounding_box(),
        )
        fold = page.locator("details.fold")
        assert headline["y"] < chart["y"] < fold.bounding_box()["y"]
        expect(page.locator(".headline .stat").first).to_contain_text("Recovered revenue")
        expect(page.locator("table.funnel")).to_be_hidden()
        assert fits_the_screen(page)
        screenshot(page, f"reports-client-{device}")
        fold.locator("summary").click()
        expect(page.locator("table.funnel")).to_be_visible()
        assert problems == []
        with page.expect_download() as download:
            page.evaluate(
                "url => { const a = document.createElement('a'); a.href = url; a.click(); }",
                f"{base}/reports/monthly.pdf?month=2026-11",
            )
        assert download.value.suggested_filename == "acme-2026-11.pdf"
        download.value.save_as(SCREENSHOTS / "reports-monthly.pdf")  # for docs/: rendered to PNG by hand

    in_a_browser(live, "acme.localhost", PHONE if device == "phone" else DESKTOP, drive)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_agency_rollup_in_a_browser(live, committed_history, device):
    def drive(page, base):
        problems = _watch_console(page)
        log_in(page, base, committed_history.nate.email)
        expect(page.locator(".account summary")).to_be_visible()  # logged in
        page.goto(f"{base}/reports/{PERIOD}")
        expect(page.locator(".ranking tbody tr").first).to_contain_text("Acme Plumbing")
        assert page.locator("svg.chart").count() == 6
        assert fits_the_screen(page)
        screenshot(page, f"reports-agency-{device}")
        # What callers did after the text-back, together and by client (26 Oct – 8 Nov: acme's link of 3 Nov too).
        after = page.locator("section.after-textback")
        expect(after.locator(".caller-steps").first).to_contain_text("Booking link: sent in 5 texts")
        expect(after.locator("tbody tr").first).to_contain_text("3 opened · 2 booked of 4")
        assert fits_the_screen(page)  # the full page's screenshot above shows it
        page.locator(".ranking").get_by_role("link", name="Acme Plumbing").click()
        expect(page.get_by_role("heading", name="Recovered revenue · Acme Plumbing")).to_be_visible()
        assert problems == []

    in_a_browser(live, "localhost", PHONE if device == "phone" else DESKTOP, drive)


@pytest.fixture
def committed_audit(live, personas):
    """A week's missed-call audit of Acme, committed for the browser: calls every day, most lunchtimes and
    evenings missed, a few callers who hid their number."""
    from datetime import datetime

    from django_tenants.utils import schema_context

    from reports.call_audit import call_audit_start
    from telephony.models import Call
    from tests.reports.history import CHICAGO, Writer

    acme = Client.objects.get(pk=personas.acme.pk)
    Client.objects.filter(pk=acme.pk).update(average_job_value="385.00", reply_conversion_rate="25.00")
    acme.refresh_from_db()
    call_audit_start(client=acme, days=7, at=datetime(2026, 11, 9, 8, 0, tzinfo=CHICAGO))
    with schema_context(acme.schema_name):
        w = Writer(acme)
        for day in range(7):
            for n, hour in enumerate((8, 9, 10, 12, 12, 13, 16, 17, 18, 19, 21)):
                missed = hour in (12, 17, 18, 19, 21) or day >= 5 or (day + n) % 4 == 0
                at = datetime(2026, 11, 9 + day, hour, (n * 7) % 60, tzinfo=CHICAGO)
                anonymous = missed and (day * 11 + n) % 9 == 0
                contact = None if anonymous else w.caller()[0]
                outcome = Call.Outcome.MISSED if missed else Call.Outcome.ANSWERED
                in_hours = day < 5 and 8 <= hour < 17
                call = w.call(at, outcome, in_hours=in_hours, contact=contact, anonymous=anonymous)
                if missed:
                    w.skipped(call, "anonymous_caller" if anonymous else "call_audit")
    rollup_rebuild_client(client=acme)
    yield personas
    Client.objects.filter(pk=acme.pk).update(
        average_job_value=None, reply_conversion_rate=None, call_audit_started_at=None, call_audit_days=14
    )
    for model in (DailyRollup, MonthlyRollup, FirstStaffReply):
        model.objects.filter(client=acme).delete()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_missed_call_audit_in_a_browser(live, committed_audit, device):
    from reports.call_audit import share_token

    token = share_token(client=Client.objects.get(pk=committed_audit.acme.pk))

    def drive(page, base):
        problems = _watch_console(page)
        log_in(page, base, committed_audit.nate.email)
        expect(page.locator(".account summary")).to_be_visible()
        page.goto(f"{base}/reports/clients/acme/call-audit/")
        expect(page.get_by_role("heading", name="Missed-call audit · Acme Plumbing")).to_be_visible()
        expect(page.locator(".share-link")).to_contain_text("/reports/call-audit/")
        assert fits_the_screen(page)
        screenshot(page, f"call-audit-agency-{device}")
        # The link the agency shares: no login, nothing to change.
        page.context.clear_cookies()
        page.goto(f"{base}/reports/call-audit/{token}/")
        expect(page.locator(".brand-name")).to_have_text(
            "Northwind Marketing"
        )  # the agency's brand, not ours
        expect(page.locator(".roi-headline")).to_contain_text("About $")
        expect(page.get_by_role("button", name="Go live")).to_have_count(0)
        assert page.locator("svg.chart").count() == 3
        assert fits_the_screen(page)
        screenshot(page, f"call-audit-shared-{device}")
        if device == "desktop":
            with page.expect_download() as download:
                page.get_by_role("link", name="Download the one-page PDF").click()
            download.value.save_as(SCREENSHOTS / "call-audit.pdf")  # for docs/: rendered to PNG by hand
        assert problems == []

    in_a_browser(live, "localhost", PHONE if device == "phone" else DESKTOP, drive)
