"""The one-page monthly PDF an agency sends its client, in the agency's brand (its brand name, colour and logo;
never ours). Drawn with fpdf2: headline numbers, the funnel against the month before, and missed calls per day."""

import io
import logging
from pathlib import Path

from fpdf import FPDF
from PIL import Image

from accounts.models import Client
from messaging.reasons import SkipReason

from .presenters import after_textback_lines, duration, funnel_rows, money, skipped_rows
from .selectors import Period, after_textback_for_client, funnel_for_client, rollup_trend

log = logging.getLogger(__name__)

# A Unicode font when the machine has one (names with accents, "–", "≈"); the PDF core font otherwise, with
# anything outside Latin-1 replaced.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    hex_colour = hex_colour.lstrip("#")
    return tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))


class _Page(FPDF):
    def __init__(self):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.unicode = (FONT_DIR / "DejaVuSans.ttf").exists() and (FONT_DIR / "DejaVuSans-Bold.ttf").exists()
        if self.unicode:
            self.add_font("Body", "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("Body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(False)
        self.set_margins(15, 15, 15)

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font("Body" if self.unicode else "Helvetica", "B" if bold else "", size)

    def text_safe(self, text: str) -> str:
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")


def _logo(pdf: _Page, agency) -> None:
    """The agency's logo at the right of the header band, on white so that any logo reads on any colour, at
    most 40 × 16 mm. A logo that cannot be drawn is left out rather than costing the report."""
    if not agency.logo:
        return
    try:
        with Image.open(io.BytesIO(bytes(agency.logo))) as image:
            image.load()
            logo = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image.copy()
        height = 16.0
        width = min(40.0, height * logo.width / logo.height)
        height = width * logo.height / logo.width
        pdf.set_fill_color(255, 255, 255)
        pdf.rect(195 - width - 2, 14 - height / 2 - 1, width + 4, height + 2, style="F")
        pdf.image(logo, x=195 - width, y=14 - height / 2, w=width, h=height)
    except Exception:
        log.warning("The logo of agency %s could not be drawn in its PDF report", agency.pk, exc_info=True)


def _header(pdf, agency, brand: tuple[int, int, int], title: str) -> None:
    """The band across the top in the agency's colour: its name, the document's title, and its logo."""
    pdf.set_fill_color(*brand)
    pdf.rect(0, 0, 210, 28, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(15, 7)
    pdf.font(16, bold=True)
    pdf.cell(0, 8, pdf.text_safe(agency.display_name))
    pdf.set_xy(15, 16)
    pdf.font(10)
    pdf.cell(0, 6, pdf.text_safe(title))
    pdf.set_text_color(17, 24, 39)
    _logo(pdf, agency)


def _tiles(pdf, tiles: list[tuple[str, str]], *, highlight: str, color: tuple[int, int, int]) -> None:
    """Four headline numbers in a row of boxes under the heading; the `highlight` one's number in `color`."""
    x, y, w = 15, 34, 45.5
    for label, value in tiles:
        pdf.set_draw_color(229, 231, 235)
        pdf.rect(x, y, w - 2, 20)
        pdf.set_xy(x + 2, y + 2)
        pdf.font(8)
        pdf.set_text_color(107, 114, 128)
        pdf.cell(w - 6, 5, pdf.text_safe(label))
        pdf.set_xy(x + 2, y + 8)
        pdf.font(14, bold=True)
        pdf.set_text_color(*(color if label == highlight else (17, 24, 39)))
        pdf.cell(w - 6, 9, pdf.text_safe(value))
        x += w
    pdf.set_text_color(17, 24, 39)


def monthly_pdf(*, client: Client, period: Period) -> bytes:
    agency = client.agency
    brand = _rgb(agency.brand_color or "#2563eb")
    funnel = funnel_for_client(client=client, period=period)
    before = funnel_for_client(client=client, period=period.previous())
    pdf = _Page()
    pdf.add_page()
    t = pdf.text_safe

    # Header band in the agency's colour.
    _header(pdf, agency, brand, f"Missed-call report for {client.name} · {period.start:%B %Y}")

    # Four headline numbers.
    tiles = [
        ("Missed calls", f"{funnel.missed_calls:,}"),
        ("Text-backs sent", f"{funnel.textbacks_sent:,}"),
        ("Reply rate", "—" if funnel.reply_rate is None else f"{funnel.reply_rate}%"),
        ("Recovered revenue", money(funnel.recovered_revenue)),
    ]
    _tiles(pdf, tiles, highlight="Recovered revenue", color=(22, 101, 52))

    # The estimate, labelled as one.
    pdf.set_xy(15, 57)
    pdf.font(8.5)
    if funnel.estimated_revenue is None:
        note = (
            f"{funnel.booked_pending} booked job(s) have no outcome yet; with an average job value set, "
            "the report estimates what they are worth."
        )
    else:
        note = (
            f"Estimate: {funnel.booked_pending} booked job(s) without an outcome yet, at an average job value "
            f"of {money(funnel.average_job_value)}, would be about {money(funnel.estimated_revenue)}. "
            "Not included in recovered revenue."
        )
    pdf.multi_cell(180, 4.5, t(note))

    # The funnel against the month before.
    pdf.set_xy(15, 68)
    pdf.font(11, bold=True)
    pdf.cell(0, 6, t(f"The month against {period.previous().start:%B %Y}"))
    rows = funnel_rows(funnel, before)
    y = 76
    pdf.font(8, bold=True)
    pdf.set_fill_color(243, 244, 246)
    for text, x, width, align in (
        ("", 15, 90, "L"),
        ("This month", 105, 30, "R"),
        ("Before", 135, 30, "R"),
        ("Change", 165, 30, "R"),
    ):
        pdf.set_xy(x, y)
        pdf.cell(width, 6, t(text), align=align, fill=True)
    y += 6
    for row in rows:
        pdf.set_xy(15, y)
        pdf.font(8.5)
        pdf.cell(90, 5.6, t(row["label"]))
        pdf.cell(30, 5.6, t(str(row["value"])), align="R")
        pdf.set_text_color(107, 114, 128)
        pdf.cell(30, 5.6, t(str(row["before"])), align="R")
        colour = {"better": (22, 101, 52), "worse": (185, 28, 28)}.get(row["direction"], (107, 114, 128))
        pdf.set_text_color(*colour)
        pdf.cell(30, 5.6, t(row["change"]), align="R")
        pdf.set_text_color(17, 24, 39)
        pdf.set_draw_color(229, 231, 235)
        pdf.line(15, y + 5.6, 195, y + 5.6)
        y += 5.6

    # Missed calls and text-backs per day.
    y += 6
    pdf.set_xy(15, y)
    pdf.font(11, bold=True)
    pdf.cell(0, 6, t("Missed calls (grey) and text-backs sent (colour), day by day"))
    y += 8
    trend = rollup_trend(client_ids=[client.pk], period=period, bucket="day")
    chart_h, chart_w = 45, 180
    peak = max([1] + [max(p.numbers.missed_calls, p.numbers.textbacks_sent) for p in trend])
    slot = chart_w / max(1, len(trend))
    pdf.set_draw_color(229, 231, 235)
    pdf.line(15, y + chart_h, 195, y + chart_h)
    pdf.font(6)
    pdf.set_text_color(107, 114, 128)
    pdf.set_xy(15, y - 3)
    pdf.cell(20, 3, t(f"max {peak}"))
    for i, point in enumerate(trend):
        bx = 15 + i * slot + slot * 0.1
        bw = slot * 0.4
        for j, (value, colour) in enumerate(
            ((point.numbers.missed_calls, (156, 163, 175)), (point.numbers.textbacks_sent, brand))
        ):
            h = chart_h * value / peak
            if h:
                pdf.set_fill_color(*colour)
                pdf.rect(bx + j * bw, y + chart_h - h, bw, h, style="F")
        if i % 5 == 0:
            pdf.set_xy(15 + i * slot, y + chart_h + 1)
            pdf.cell(slot * 3, 3, t(point.start.strftime("%-d")))
    y += chart_h + 8

    # Why text-backs were skipped, and the reply times.
    pdf.set_text_color(17, 24, 39)
    pdf.set_xy(15, y)
    pdf.font(8.5)
    skipped = ", ".join(f"{label}: {n}" for label, n in skipped_rows(funnel.skipped_reasons)) or "none"
    pdf.multi_cell(
        180,
        4.5,
        t(
            f"Text-backs skipped: {skipped}. Time to first staff reply: median "
            f"{duration(funnel.first_reply_median_seconds)}, 90th percentile {duration(funnel.first_reply_p90_seconds)}."
        ),
    )

    # What callers did after the text-back (read from the client's own tables and the link tables).
    lines = after_textback_lines(after_textback_for_client(client=client, period=period))
    if lines:
        pdf.set_xy(15, pdf.get_y() + 3)
        pdf.font(11, bold=True)
        pdf.cell(0, 6, t("After the text-back"))
        pdf.set_xy(15, pdf.get_y() + 6)
        pdf.font(8.5)
        pdf.multi_cell(180, 4.5, t(" ".join(lines)))

    pdf.set_xy(15, 285)
    pdf.font(7)
    pdf.set_text_color(107, 114, 128)
    contact = f" · {agency.support_email}" if agency.support_email else ""
    pdf.cell(0, 4, t(f"Prepared by {agency.display_name}{contact} · days in {client.timezone}"))
    return bytes(pdf.output())


def call_audit_pdf(*, audit) -> bytes:
    """The one-page missed-call audit (reports.call_audit.CallAudit) in the agency's brand: what the prospect's
    calls were, when they were missed, what that is worth, and what text-back would have sent."""
    client, funnel, period = audit.client, audit.funnel, audit.period
    agency = client.agency
    brand = _rgb(agency.brand_color or "#2563eb")
    pdf = _Page()
    pdf.add_page()
    t = pdf.text_safe

    _header(pdf, agency, brand, f"Missed-call audit for {client.name} · {period.label()}")

    rate = "—" if funnel.missed_rate is None else f"{funnel.missed_rate}%"
    tiles = [
        ("Calls", f"{funnel.calls:,}"),
        ("Missed calls", f"{funnel.missed_calls:,}"),
        ("Missed-call rate", rate),
        ("Would have been texted", f"{audit.would_have_texted:,}"),
    ]
    _tiles(pdf, tiles, highlight="Missed calls", color=(185, 28, 28))

    # The money, labelled as an estimate.
    pdf.set_xy(15, 58)
    pdf.font(11, bold=True)
    pdf.cell(0, 6, t("The money walking away"))
    pdf.set_xy(15, 65)
    pdf.font(9)
    if audit.walking_away is None:
        money_note = (
            f"{funnel.missed_calls} missed calls in {period.days} days. With an average job value and a reply "
            "conversion rate set, this page estimates what they are worth."
        )
    else:
        money_note = (
            f"Estimate: {audit.would_have_texted} callers text-back would have reached × "
            f"{client.reply_conversion_rate.normalize():f}% who reply and book × {money(client.average_job_value)} average job "
            f"= about {money(audit.walking_away)} in {period.days} days. Every missed call at the average job "
            f"value: {money(audit.missed_value)}."
        )
    pdf.multi_cell(180, 5, t(money_note))

    # When calls are missed: by hour of day, and the rate by weekday.
    y = 84
    pdf.set_xy(15, y)
    pdf.font(11, bold=True)
    pdf.cell(0, 6, t("When calls are missed (hour of day, the business's clock)"))
    y += 9
    chart_h, chart_w = 38, 180
    peak = max([1, *funnel.missed_by_hour])
    slot = chart_w / 24
    pdf.set_draw_color(229, 231, 235)
    pdf.line(15, y + chart_h, 195, y + chart_h)
    pdf.font(6)
    pdf.set_text_color(107, 114, 128)
    pdf.set_xy(15, y - 3)
    pdf.cell(20, 3, t(f"max {peak}"))
    for hour, missed in enumerate(funnel.missed_by_hour):
        h = chart_h * missed / peak
        if h:
            pdf.set_fill_color(*brand)
            pdf.rect(15 + hour * slot + slot * 0.15, y + chart_h - h, slot * 0.7, h, style="F")
        if hour % 3 == 0:
            pdf.set_xy(15 + hour * slot, y + chart_h + 1)
            pdf.cell(slot * 2, 3, t(f"{hour:02d}:00"))
    y += chart_h + 8
    pdf.set_text_color(17, 24, 39)
    pdf.set_xy(15, y)
    pdf.font(9)
    split = f"{funnel.missed_in_hours} in business hours, {funnel.missed_after_hours} after hours."
    days = ", ".join(
        f"{name} {'—' if value is None else f'{value}%'}"
        for name, value in zip(
            ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), funnel.missed_rate_by_weekday, strict=True
        )
    )
    pdf.multi_cell(180, 5, t(f"{split} Missed-call rate by day: {days}."))

    # What text-back would have sent.
    y = pdf.get_y() + 6
    pdf.set_xy(15, y)
    pdf.font(11, bold=True)
    pdf.cell(0, 6, t("What text-back would have sent, within seconds of each missed call"))
    y += 8
    for label, text in audit.would_text.items():
        pdf.set_xy(15, y)
        pdf.font(8, bold=True)
        pdf.set_text_color(107, 114, 128)
        pdf.cell(0, 4, t(label))
        pdf.set_text_color(17, 24, 39)
        pdf.set_xy(15, y + 5)
        pdf.font(9)
        pdf.set_fill_color(243, 244, 246)
        pdf.multi_cell(180, 5, t(text), fill=True)
        y = pdf.get_y() + 4
    skipped = skipped_rows({k: n for k, n in funnel.skipped_reasons.items() if k != SkipReason.CALL_AUDIT})
    if skipped:
        pdf.set_xy(15, y)
        pdf.font(8.5)
        not_texted = ", ".join(f"{label}: {n}" for label, n in skipped)
        pdf.multi_cell(180, 4.5, t(f"Missed callers it would not have texted: {not_texted}."))

    pdf.set_xy(15, 285)
    pdf.font(7)
    pdf.set_text_color(107, 114, 128)
    contact = f" · {agency.support_email}" if agency.support_email else ""
    pdf.cell(
        0,
        4,
        t(f"Prepared by {agency.display_name}{contact} · calls recorded, nobody texted · {client.timezone}"),
    )
    return bytes(pdf.output())
