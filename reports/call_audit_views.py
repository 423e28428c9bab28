"""The missed-call audit's pages: the agency's (start one, see it, share it, turn the prospect into a live client)
on the agency's host, for the people of the agency that serves the client (another agency's client is a 404 like
a missing one); and the read-only page and PDF behind a share link, which need no login and show no caller's
number, name or text."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.context_processors import brand_version

from .call_audit import (
    call_audit_convert,
    call_audit_for,
    call_audit_start,
    client_from_share_token,
    share_token,
)
from .charts import Series, bar_chart
from .pdf import call_audit_pdf
from .views import WEEKDAYS, agency_view, client_for_agency_staff, when_missed_charts


def _context(audit) -> dict:
    funnel = audit.funnel
    return {
        "audit": audit,
        "client": audit.client,
        "funnel": funnel,
        "period": audit.period,
        **when_missed_charts(funnel),
        "rate_weekdays_chart": bar_chart(
            labels=WEEKDAYS,
            series=[
                Series(
                    "Missed-call rate",
                    "s1",
                    [None if v is None else float(v) for v in funnel.missed_rate_by_weekday],
                )
            ],
            title="Missed-call rate by day of the week",
            height=180,
            percent=True,
        ),
    }


@agency_view
def call_audit_page(request, slug):
    client = client_for_agency_staff(request, slug)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            try:
                days = int(request.POST.get("days", ""))
                call_audit_start(client=client, days=days)
            except ValueError:
                messages.error(request, "An audit runs 1 to 90 days: give a whole number of days.")
                return redirect("reports:call-audit", slug=client.slug)
            messages.success(request, f"Audit started for {days} days: calls are recorded, nobody is texted.")
        elif action == "convert":
            try:
                call_audit_convert(client=client)
            except ValueError:
                messages.error(request, "This client is not on an audit.")
                return redirect("reports:call-audit", slug=client.slug)
            messages.success(request, f"{client.name} is live: missed callers are texted back from now on.")
        else:
            return HttpResponse("Unknown action.", status=400, content_type="text/plain")
        return redirect("reports:call-audit", slug=client.slug)
    audit = call_audit_for(client=client)
    context = {"client": client, "agency_view": True}
    if audit is not None:
        context.update(_context(audit))
        token = share_token(client=client)
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        context["share_url"] = base + reverse("reports:call-audit-share", kwargs={"token": token})
    with timezone.override(client.timezone):
        return render(request, "reports/call_audit.html", context)


@agency_view
def call_audit_download(request, slug):
    client = client_for_agency_staff(request, slug)
    audit = call_audit_for(client=client)
    if audit is None:
        raise Http404("No audit for this client.")
    return _pdf(audit)


def call_audit_share(request, token):
    client = client_from_share_token(token)
    if client is None:
        raise Http404("This link does not open an audit.")
    audit = call_audit_for(client=client)
    context = {
        **_context(audit),
        **_agency_brand(client.agency),
        "share": True,
        "pdf_url": reverse("reports:call-audit-share-pdf", kwargs={"token": token}),
    }
    with timezone.override(client.timezone):
        return render(request, "reports/call_audit.html", context)


def call_audit_share_pdf(request, token):
    client = client_from_share_token(token)
    if client is None:
        raise Http404("This link does not open an audit.")
    return _pdf(call_audit_for(client=client))


def _agency_brand(agency) -> dict:
    """The agency's brand on a page nobody is logged in to, on the platform host (which names no agency): the
    context processor's values for that agency, and ?agency= for brand.css and the logo."""
    return {
        "brand_name": agency.display_name,
        "brand_color": agency.brand_color,
        "brand_version": brand_version(agency),
        "brand_has_logo": bool(agency.logo_content_type),
        "brand_query": f"&agency={agency.slug}",
        "brand_support_email": agency.support_email,
        "brand_support_phone": agency.support_phone,
    }


def _pdf(audit) -> HttpResponse:
    response = HttpResponse(call_audit_pdf(audit=audit), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{audit.client.slug}-missed-call-audit.pdf"'
    return response
