"""Exports of a client's report: the funnel, its calls, and its conversations with their outcomes, as CSV or XLSX.

Every text cell that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) is
written with a leading apostrophe (config.spreadsheet.neutralise), in CSV and XLSX alike: openpyxl itself stores a
string starting with "=" as a formula. Numbers and dates are written as numbers and dates.

Run in the client's schema. Small exports are made in the request; anything over INLINE_LIMIT rows becomes an
ExportJob worked by a task, which reports its progress as it goes."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery
from django.utils.timezone import now

from accounts.models import Client
from config.spreadsheet import neutralise
from crm.models import Outcome
from messaging.models import Conversation, Message, OutboundSend
from messaging.reasons import reason_label
from telephony.models import Call

from .definitions import keyword_sids
from .models import ExportJob
from .presenters import after_textback_rows, duration, funnel_rows
from .selectors import Period, after_textback_for_client, funnel_for_client

INLINE_LIMIT = 5000
CHUNK = 2000
KINDS = {k.value for k in ExportJob.Kind}
FORMATS = {f.value for f in ExportJob.Format}


class ExportError(ValueError):
    """An export that cannot be made as asked; the message is for the person who asked."""


def cell(value):
    if isinstance(value, str):
        return neutralise(value)
    return value


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Spreadsheets have no time zones: the client's wall-clock time, without an offset (named in the header)."""
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


# --- What goes in each export -----------------------------------------------------------------------------


def _funnel_rows(client: Client, period: Period) -> tuple[list[str], Iterator[list]]:
    now_, before = (
        funnel_for_client(client=client, period=period),
        funnel_for_client(client=client, period=period.previous()),
    )
    header = ["Number", period.label(), period.previous().label(), "Change"]
    rows = [[r["label"], r["value"], r["before"], r["change"]] for r in funnel_rows(now_, before)]
    rows.append(["Booked jobs without an outcome yet", now_.booked_pending, before.booked_pending, ""])
    rows.append(
        [
            "Estimate for those (average job value; not in recovered revenue)",
            now_.estimated_revenue if now_.estimated_revenue is not None else "no average job value set",
            before.estimated_revenue if before.estimated_revenue is not None else "",
            "",
        ]
    )
    for reason, n in now_.skipped_reasons.items():
        rows.append([f"Skipped: {reason_label(reason)}", n, before.skipped_reasons.get(reason, 0), ""])
    # What callers did after the text-back: the report's own counts, this period and the one before.
    after = after_textback_for_client(client=client, period=period)
    after_before = after_textback_for_client(client=client, period=period.previous())
    rows += [[label, n, n_before, ""] for label, n, n_before in after_textback_rows(after, after_before)]
    return header, iter(rows)


def _calls(period: Period):
    return Call.objects.filter(started_at__gte=period.start_at, started_at__lt=period.end_at)


def _call_rows(client: Client, period: Period) -> tuple[list[str], Iterator[list]]:
    zone = ZoneInfo(client.timezone)
    header = [
        f"Started ({client.timezone})",
        "Caller",
        "Caller name",
        "Outcome",
        "Why missed",
        "In business hours",
        "Duration (s)",
        "Text-back",
        "Skipped because",
    ]

    def rows():
        calls = _calls(period).order_by("started_at", "id").select_related("contact")
        batch: list[Call] = []
        for call in calls.iterator(chunk_size=CHUNK):
            batch.append(call)
            if len(batch) == CHUNK:
                yield from _call_batch(client, batch, zone)
                batch = []
        yield from _call_batch(client, batch, zone)

    return header, rows()


def _call_batch(client: Client, calls: list[Call], zone: ZoneInfo) -> Iterator[list]:
    sends = {
        s.call_sid: s
        for s in OutboundSend.objects.filter(
            client=client, kind=OutboundSend.Kind.TEXT_BACK, call_sid__in=[c.call_sid for c in calls]
        ).only("call_sid", "state", "reason")
    }
    for call in calls:
        send = sends.get(call.call_sid)
        name = call.contact.name if call.contact else call.caller_name
        yield [
            _local(call.started_at, zone),
            call.from_number,
            name,
            call.get_outcome_display(),
            call.get_missed_reason_display() if call.missed_reason else "",
            {True: "yes", False: "no", None: ""}[call.in_business_hours],
            call.duration_seconds,
            send.get_state_display() if send else "",
            reason_label(send.reason) if send and send.reason else "",
        ]


def _conversations(period: Period):
    in_period = Message.objects.filter(
        conversation=OuterRef("pk"), created_at__gte=period.start_at, created_at__lt=period.end_at
    )
    return Conversation.objects.filter(Exists(in_period))


def _conversation_rows(client: Client, period: Period) -> tuple[list[str], Iterator[list]]:
    zone = ZoneInfo(client.timezone)
    header = [
        "Caller",
        "Name",
        f"First text-back ({client.timezone})",
        "First reply",
        "First staff reply",
        "Time to first staff reply",
        "Texts in the period",
        "Outcome",
        "Value",
        "Lost because",
        "Outcome recorded",
    ]
    latest = Outcome.objects.filter(contact=OuterRef("contact_id")).order_by("-created_at", "-id")
    window = Q(messages__created_at__gte=period.start_at, messages__created_at__lt=period.end_at)
    rows_qs = (
        _conversations(period)
        .select_related("contact")
        .annotate(
            first_textback=Min("messages__sent_at", filter=window & Q(messages__kind=Message.Kind.TEXT_BACK)),
            first_reply=Min(
                "messages__created_at",
                filter=window
                & Q(messages__direction=Message.Direction.INBOUND)
                & ~Q(messages__provider_sid__in=keyword_sids()),
            ),
            texts=Count("messages", filter=window),
            outcome_kind=Subquery(latest.values("kind")[:1]),
            outcome_value=Subquery(latest.values("value")[:1]),
            outcome_reason=Subquery(latest.values("lost_reason")[:1]),
            outcome_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("pk")
    )

    def rows():
        for conversation in rows_qs.iterator(chunk_size=CHUNK):
            first_staff = None
            if conversation.first_reply is not None:
                first_staff = (
                    Message.objects.filter(
                        conversation=conversation,
                        kind=Message.Kind.REPLY,
                        sent_at__isnull=False,
                        created_at__gte=conversation.first_reply,
                    )
                    .order_by("created_at")
                    .values_list("created_at", flat=True)
                    .first()
                )
            wait = (
                None if first_staff is None else int((first_staff - conversation.first_reply).total_seconds())
            )
            yield [
                conversation.contact.phone_number,
                conversation.contact.name,
                _local(conversation.first_textback, zone),
                _local(conversation.first_reply, zone),
                _local(first_staff, zone),
                duration(wait) if wait is not None else "",
                conversation.texts,
                dict(Outcome.Kind.choices).get(conversation.outcome_kind, ""),
                conversation.outcome_value,
                conversation.outcome_reason or "",
                _local(conversation.outcome_at, zone),
            ]

    return header, rows()


BUILDERS = {"funnel": _funnel_rows, "calls": _call_rows, "conversations": _conversation_rows}


def export_row_count(*, kind: str, period: Period) -> int:
    if kind == "calls":
        return _calls(period).count()
    if kind == "conversations":
        return _conversations(period).count()
    return 0


# --- Writing files -----------------------------------------------------------------------------------------


def _write_csv(header: list[str], rows: Iterable[list], progress: Callable[[int], None]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(h) for h in header])
    for n, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else cell(v) for v in row])
        if n % CHUNK == 0:
            progress(n)
    # A byte-order mark so that Excel opens the file as UTF-8 (names with accents).
    return ("\ufeff" + buffer.getvalue()).encode()


def _write_xlsx(
    header: list[str], rows: Iterable[list], progress: Callable[[int], None], title: str
) -> bytes:
    from openpyxl import Workbook  # here: only an XLSX export needs it, and it takes 0.4 s to import

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([cell(h) for h in header])
    for n, row in enumerate(rows, 1):
        sheet.append([float(v) if isinstance(v, Decimal) else cell(v) for v in row])
        if n % CHUNK == 0:
            progress(n)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_filename(*, client: Client, kind: str, fmt: str, period: Period) -> str:
    return f"{client.slug}-{kind}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"


def export_build(
    *, client: Client, kind: str, fmt: str, period: Period, progress: Callable[[int], None] = lambda n: None
) -> bytes:
    if kind not in KINDS or fmt not in FORMATS:
        raise ExportError("Unknown export: choose funnel, calls or conversations, as csv or xlsx.")
    header, rows = BUILDERS[kind](client, period)
    if fmt == "csv":
        return _write_csv(header, rows, progress)
    return _write_xlsx(header, rows, progress, title=kind.capitalize())


def export_job_create(*, client: Client, kind: str, fmt: str, period: Period, user_id: int) -> ExportJob:
    """A job for a big export; its task is queued when the request's transaction commits."""
    from .tasks import run_export  # here, not at the top: the task module imports this one

    job = ExportJob.objects.create(
        kind=kind,
        format=fmt,
        start=period.start,
        end=period.end,
        rows_total=export_row_count(kind=kind, period=period),
        requested_by_id=user_id,
    )
    transaction.on_commit(lambda: run_export.delay(client.pk, job.pk))
    return job


def export_job_run(*, client: Client, job_id: int) -> str:
    """The task's body. Idempotent: a job already done (or being done by another worker) is left alone."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.PENDING).update(
        state=ExportJob.State.RUNNING
    )
    if not claimed:
        return "taken"
    job = ExportJob.objects.get(pk=job_id)
    period = Period(start=job.start, end=job.end, tz=client.timezone)

    def progress(n: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=n)

    try:
        content = export_build(client=client, kind=job.kind, fmt=job.format, period=period, progress=progress)
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportJob.State.FAILED, error=str(exc)[:255], finished_at=now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportJob.State.DONE,
        content=content,
        rows_done=job.rows_total,
        finished_at=now(),
        filename=export_filename(client=client, kind=job.kind, fmt=job.format, period=period),
    )
    return "done"


def export_jobs_expire(*, finished_before: datetime) -> int:
    """Delete the files of this schema's exports that finished (ready or failed) before `finished_before`. The
    rows stay, marked expired, so that an old link says what happened instead of "not found"."""
    return ExportJob.objects.filter(
        state__in=(ExportJob.State.DONE, ExportJob.State.FAILED), finished_at__lt=finished_before
    ).update(state=ExportJob.State.EXPIRED, content=None, expired_at=now())
