"""Downloads: CSV and XLSX exports (small ones at once, big ones through a job with a progress page), the
monthly PDF, turning the monthly email off, and choosing the briefing email. The same access rules as the report pages (reports.views)."""

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import ClientMembership

from . import exports
from .briefings import briefing_choose, briefing_frequency, from_choice_token
from .emails import email_preference_set, last_month, user_from_unsubscribe_token
from .forms import PeriodForm
from .models import BriefingPreference, ExportJob
from .pdf import monthly_pdf as build_monthly_pdf
from .selectors import month_period
from .views import agency_view, client_for_agency_staff, client_report_view

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _attachment(content: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@client_report_view
def export_download(request, client, kind, fmt):
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        raise Http404("No such export.")
    form = PeriodForm(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponseBadRequest(" ".join(form.non_field_errors()) or "The period is not valid.")
    period = form.period(client.timezone)
    if exports.export_row_count(kind=kind, period=period) > exports.INLINE_LIMIT:
        job = exports.export_job_create(
            client=client, kind=kind, fmt=fmt, period=period, user_id=request.user.pk
        )
        return redirect("reports:export-status", pk=job.pk)
    content = exports.export_build(client=client, kind=kind, fmt=fmt, period=period)
    return _attachment(
        content, exports.export_filename(client=client, kind=kind, fmt=fmt, period=period), fmt
    )


def _job(request, pk: int) -> ExportJob:
    """A job of this client's schema that this person asked for; anyone else's is a 404."""
    return get_object_or_404(ExportJob.objects.defer("content"), pk=pk, requested_by_id=request.user.pk)


def _expired(request, client, job: ExportJob) -> HttpResponse:
    """Gone for good, and why: the page offers the same export again."""
    context = {
        "client": client,
        "job": job,
        "retention_days": settings.REPORT_EXPORT_RETENTION_DAYS,
        "again": f"{reverse('reports:export', args=[job.kind, job.format])}?"
        + urlencode({"preset": "custom", "start": job.start.isoformat(), "end": job.end.isoformat()}),
    }
    return render(request, "reports/export_expired.html", context, status=410)


@client_report_view
def export_status(request, client, pk):
    job = _job(request, pk)
    if job.state == ExportJob.State.EXPIRED:
        return _expired(request, client, job)
    return render(request, "reports/export_status.html", {"client": client, "job": job})


@client_report_view
def export_file(request, client, pk):
    job = _job(request, pk)
    if job.state == ExportJob.State.EXPIRED:
        return _expired(request, client, job)
    if job.state != ExportJob.State.DONE:
        raise Http404("This export is not ready.")
    content = ExportJob.objects.values_list("content", flat=True).get(pk=job.pk)
    return _attachment(bytes(content), job.filename, job.format)


def _month(request, tz: str) -> date | HttpResponse:
    text = request.GET.get("month", "")
    if not text:
        return last_month(tz=tz)
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        return HttpResponseBadRequest("month must look like 2026-10.")


def _pdf_response(client, request):
    month = _month(request, client.timezone)
    if isinstance(month, HttpResponse):
        return month
    period = month_period(year=month.year, month=month.month, tz=client.timezone)
    return _attachment(
        build_monthly_pdf(client=client, period=period), f"{client.slug}-{month:%Y-%m}.pdf", "pdf"
    )


@client_report_view
def monthly_pdf(request, client):
    return _pdf_response(client, request)


@agency_view
def agency_monthly_pdf(request, slug):
    return _pdf_response(client_for_agency_staff(request, slug), request)


@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token):
    """The link in every monthly email. GET asks (mail scanners follow links); POST turns the email off."""
    user = user_from_unsubscribe_token(token)
    if user is None:
        return render(request, "reports/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        email_preference_set(user=user, monthly_report=request.POST.get("monthly_report") == "on")
        done = True
    return render(
        request,
        "reports/unsubscribe.html",
        {"email": user.email, "done": done, "resubscribed": request.POST.get("monthly_report") == "on"},
    )


def briefing_choice(request, token):
    """The link in every briefing: daily, weekly or never, for that person and that business. GET shows the
    choice (mail scanners follow links); only a POST changes it."""
    found = from_choice_token(token)
    if found is None:
        return render(request, "reports/briefing_choice.html", {"invalid": True}, status=400)
    user, client = found
    return _briefing_choice_page(request, user=user, client=client)


@client_report_view
def briefing_settings(request, client):
    """The same choice for the logged-in person, on the client's host (its own people only: agency staff and
    operators who may enter get no briefing)."""
    if not ClientMembership.objects.filter(user=request.user, client=client).exists():
        raise Http404("Briefings go to the business's own people.")
    return _briefing_choice_page(request, user=request.user, client=client)


def _briefing_choice_page(request, *, user, client):
    done = False
    status = 200
    if request.method == "POST":
        choice = request.POST.get("frequency", "")
        if choice in BriefingPreference.Frequency.values:
            briefing_choose(user=user, client=client, frequency=choice)
            done = True
        else:
            status = 400
    return render(
        request,
        "reports/briefing_choice.html",
        {
            "email": user.email,
            "client": client,
            "choices": BriefingPreference.Frequency.choices,
            "current": briefing_frequency(user=user, client=client),
            "done": done,
            "refused": status == 400,
        },
        status=status,
    )
