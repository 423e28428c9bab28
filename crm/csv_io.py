"""Contacts in and out of spreadsheets.

Export is streamed (a client can have a lot of callers) and every cell that a spreadsheet would run as a
formula gets a leading apostrophe. Import is all or nothing: every row is checked first, and if any row is bad
the staff get the list of lines and reasons and nothing is written.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.timezone import now

from config.spreadsheet import FORMULA_STARTS, neutralise

from .models import Contact, Suppression
from .phone import e164_or_none
from .services import tags_from_text

EXPORT_HEADER = ["phone", "name", "email", "tags", "opted_out", "blocked", "created"]
IMPORT_COLUMNS = (
    "phone",
    "name",
    "email",
    "tags",
)  # any other column (e.g. an export's opted_out) is ignored
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_REPORTED_ERRORS = 100


class _Echo:
    """csv.writer wants a file; this one hands each line back so the response can stream it."""

    def write(self, value: str) -> str:
        return value


def export_rows(contacts: Iterable[Contact]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_HEADER)
    for contact in contacts:
        row = [
            contact.phone_number,
            contact.name,
            contact.email,
            ", ".join(contact.tags),
            "yes" if contact.opted_out else "no",
            "yes" if contact.is_blocked else "no",
            contact.created_at.isoformat(timespec="seconds"),
        ]
        yield writer.writerow([neutralise(cell) for cell in row])


@dataclass
class ImportRow:
    line: int
    phone_number: str
    name: str | None  # None: the column is absent or the cell empty, so an existing value stays
    email: str | None
    tags: list[str]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(record: dict, column: str) -> str:
    value = (record.get(column) or "").strip()
    # Our own export neutralised formulas with an apostrophe; take it off again so a round trip is lossless.
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        value = value[1:]
    return value


def parse(data: bytes) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """Check every row; returns the good rows and (line, reason) for each bad one. Lines count as a
    spreadsheet shows them: the header is line 1."""
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        return [], [(0, "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”.")]
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        return [], [(1, "The file is empty.")]
    except csv.Error as exc:
        return [], [(1, f"The header row cannot be read: {exc}.")]
    if "phone" not in header:
        return [], [(1, "The header row has no “phone” column (columns: phone, name, email, tags).")]

    rows: list[ImportRow] = []
    errors: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((line, f"cannot be read: {exc}."))
            break
        start, line = line, reader.line_num + 1  # a quoted cell may span lines; report where the row starts
        if not any(value.strip() for value in values):
            continue  # blank lines at the end of a spreadsheet export
        record = dict(zip(header, values, strict=False))
        reasons = []
        raw_phone = _cell(record, "phone")
        number = e164_or_none(raw_phone)
        if not raw_phone:
            reasons.append("the phone number is missing")
        elif number is None:
            reasons.append(f"“{raw_phone[:40]}” is not a valid phone number")
        elif number in first_line:
            reasons.append(f"{number} is already on line {first_line[number]}")
        name, email = _cell(record, "name"), _cell(record, "email")
        if len(name) > 120:
            reasons.append("the name is longer than 120 characters")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                reasons.append(f"“{email[:60]}” is not a valid email address")
        tags = tags_from_text(_cell(record, "tags"))
        if any(len(tag) > 40 for tag in tags):
            reasons.append("a tag is longer than 40 characters")
        if reasons or number is None:  # a missing or invalid number has its reason above
            errors.append((start, "; ".join(reasons).capitalize() + "."))
            continue
        first_line[number] = start
        rows.append(
            ImportRow(line=start, phone_number=number, name=name or None, email=email or None, tags=tags)
        )
    return rows, errors


def import_contacts(*, data: bytes) -> ImportResult:
    """Create the new numbers and update the known ones, in one transaction, or nothing at all.

    An existing contact takes a non-empty name or email from the file and gains its tags; empty cells never
    wipe what staff already typed. Opt-out and block state are never imported: consent comes from the caller."""
    rows, errors = parse(data)
    if errors:
        return ImportResult(errors=errors[:MAX_REPORTED_ERRORS])
    result = ImportResult()
    try:
        with transaction.atomic():
            numbers = [row.phone_number for row in rows]
            existing: dict[str, Contact] = {}
            for start in range(0, len(numbers), 5000):  # PostgreSQL takes at most 65,535 parameters a query
                existing.update(
                    Contact.objects.select_for_update().in_bulk(
                        numbers[start : start + 5000], field_name="phone_number"
                    )
                )
            # A number that opted out before (its contact since merged or deleted) comes back opted out.
            fresh = [number for number in numbers if number not in existing]
            opted_out: set[str] = set()
            for start in range(0, len(fresh), 5000):
                opted_out.update(
                    Suppression.objects.filter(phone_number__in=fresh[start : start + 5000]).values_list(
                        "phone_number", flat=True
                    )
                )
            new, changed = [], []
            for row in rows:
                contact = existing.get(row.phone_number)
                if contact is None:
                    new.append(
                        Contact(
                            phone_number=row.phone_number,
                            name=row.name or "",
                            email=row.email or "",
                            tags=row.tags,
                            opted_out=row.phone_number in opted_out,
                        )
                    )
                    continue
                before = (contact.name, contact.email, list(contact.tags))
                contact.name = row.name or contact.name
                contact.email = row.email or contact.email
                contact.tags = contact.tags + [tag for tag in row.tags if tag not in contact.tags]
                if (contact.name, contact.email, contact.tags) != before:
                    contact.updated_at = now()  # bulk_update does not touch auto_now fields
                    changed.append(contact)
            Contact.objects.bulk_create(new, batch_size=1000)
            Contact.objects.bulk_update(changed, ["name", "email", "tags", "updated_at"], batch_size=1000)
    except IntegrityError:
        # A caller's first call created one of these numbers while we were importing.
        return ImportResult(
            errors=[(0, "A contact was added while importing. Nothing was imported; try again.")]
        )
    result.created, result.updated = len(new), len(changed)
    return result
