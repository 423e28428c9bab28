"""A statement as CSV or PDF: the same lines and total as the page, nothing recomputed."""

import csv
import io

from fpdf import FPDF

from config.spreadsheet import neutralise

from .selectors import StatementData


def statement_title(data: StatementData) -> str:
    if data.client is not None:
        return f"{data.agency.display_name} statement for {data.client.name}, {data.month:%B %Y}"
    return f"Textback statement for {data.agency.name}, {data.month:%B %Y}"


def statement_filename(data: StatementData, extension: str) -> str:
    who = data.client.slug if data.client is not None else data.agency.slug
    return f"statement-{who}-{data.month:%Y-%m}.{extension}"


def statement_csv(data: StatementData) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["description", "quantity", "unit_price", "amount", "currency"])
    for line in data.lines:
        # Descriptions are ours, but plan names and client names come from operators and agencies.
        writer.writerow(
            [neutralise(line.description), line.quantity, line.unit_price, line.amount, data.currency]
        )
    writer.writerow(["Total", "", "", data.total, data.currency])
    writer.writerow([])
    writer.writerow(
        ["Each amount is quantity x unit price rounded to the cent (half up); the total is their sum."]
    )
    writer.writerow(
        ["Closed" if data.closed else "Open: figures so far, may change until the month is closed"]
    )
    return out.getvalue()


def _latin1(text: str) -> str:
    # The core PDF fonts are Latin-1; a name with other characters is shown with replacements, not an error.
    return text.encode("latin-1", "replace").decode("latin-1")


def statement_pdf(data: StatementData) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(statement_title(data)))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(statement_title(data)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    status = (
        f"Closed {data.closed_at:%Y-%m-%d}"
        if data.closed and data.closed_at
        else "Open: figures so far, may change until the month is closed"
    )
    pdf.cell(0, 6, _latin1(status), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (95, 22, 33, 30)
    pdf.set_font("Helvetica", "B", 10)
    for width, heading, align in zip(
        widths, ("Description", "Quantity", "Unit price", "Amount"), "LRRR", strict=True
    ):
        pdf.cell(width, 7, heading, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in data.lines:
        pdf.cell(widths[0], 7, _latin1(line.description)[:60])
        pdf.cell(widths[1], 7, str(line.quantity), align="R")
        pdf.cell(widths[2], 7, f"{line.unit_price}", align="R")
        pdf.cell(widths[3], 7, f"{line.amount}", align="R")
        pdf.ln()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths[:3]), 8, f"Total ({data.currency})", border="T")
    pdf.cell(widths[3], 8, f"{data.total}", border="T", align="R")
    pdf.ln(12)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0,
        5,
        "Each amount is quantity x unit price rounded to the cent (half up); the total is the "
        "sum of the amounts.",
    )
    return bytes(pdf.output())
