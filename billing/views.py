"""Billing pages. Agency host: this month's usage per client, statements (the platform's to the agency and the
agency's to each client), and each client's price. Client host: the client's own statement, when its agency
allows it. Every lookup goes through the access helpers in billing.selectors: another agency's or client's
page is the same 404 as a missing one."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import ClientMembership
from accounts.selectors import agencies_of_user, client_role, request_client

from . import render as statement_render
from . import selectors
from .forms import ClientPriceForm
from .models import ClientInvoice, ClientPrice, Statement
from .months import current_month, month_parse


def _agency_host(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request_client(request) is not None:
            raise Http404("Agency billing lives on the agency's host.")
        return view(request, *args, **kwargs)

    return wrapper


def _month(text: str):
    month = month_parse(text)
    if month is None:
        raise Http404("Not a month (use YYYY-MM).")
    return month


def _statement_file(data, fmt: str) -> HttpResponse:
    if fmt == "csv":
        response = HttpResponse(statement_render.statement_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(statement_render.statement_pdf(data), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{statement_render.statement_filename(data, fmt)}"'
    )
    return response


def _invoice(data) -> ClientInvoice | None:
    """The Stripe invoice a closed client statement was sent as (billing.connect), if any."""
    return ClientInvoice.objects.filter(statement=data.stored).first() if data.stored is not None else None


# --- Agency host -------------------------------------------------------------------------------------------


@_agency_host
def overview(request):
    agencies = agencies_of_user(request.user)
    if request.agency is not None:
        agencies = agencies.filter(pk=request.agency.pk)
    sections = []
    for agency in agencies.order_by("name"):
        month = current_month(selectors.agency_time_zone(agency=agency))
        sections.append(
            {
                "agency": agency,
                "month": month,
                "rows": selectors.agency_usage(agency=agency, month=month),
                "months": selectors.agency_months(agency=agency),
                "is_admin": selectors.agency_user_is_admin(user=request.user, agency=agency),
                "plan": selectors.agency_plan(agency=agency),
            }
        )
    return render(request, "billing/overview.html", {"sections": sections})


@_agency_host
def agency_statement(request, agency: str, month: str, fmt: str = "html"):
    agency_obj = selectors.agency_for_user(request=request, slug=agency)
    month_date = _month(month)
    data = selectors.statement_get(
        kind=Statement.Kind.PLATFORM, agency=agency_obj, client=None, month=month_date
    )
    invoices = {
        invoice.client_id: invoice
        for invoice in ClientInvoice.objects.filter(agency=agency_obj, statement__month=month_date)
    }
    clients = [
        (
            row.client,
            reverse("billing:client-statement", args=[agency_obj.slug, row.client.slug, month]),
            invoices.get(row.client.pk),
        )
        for row in selectors.agency_usage(agency=agency_obj, month=month_date)
    ]
    if fmt == "html":
        return render(
            request,
            "billing/statement.html",
            {
                "data": data,
                "title": statement_render.statement_title(data),
                "back_url": reverse("billing:overview"),
                "csv_url": reverse("billing:agency-statement-file", args=[agency, month, "csv"]),
                "pdf_url": reverse("billing:agency-statement-file", args=[agency, month, "pdf"]),
                "clients": clients,
            },
        )
    return _statement_file(data, fmt)


@_agency_host
def client_statement(request, agency: str, client: str, month: str, fmt: str = "html"):
    agency_obj = selectors.agency_for_user(request=request, slug=agency)
    client_obj = selectors.client_of_agency(agency=agency_obj, slug=client)
    data = selectors.statement_get(
        kind=Statement.Kind.CLIENT, agency=agency_obj, client=client_obj, month=_month(month)
    )
    if fmt == "html":
        return render(
            request,
            "billing/statement.html",
            {
                "data": data,
                "title": statement_render.statement_title(data),
                "back_url": reverse("billing:agency-statement", args=[agency, month]),
                "csv_url": reverse("billing:client-statement-file", args=[agency, client, month, "csv"]),
                "pdf_url": reverse("billing:client-statement-file", args=[agency, client, month, "pdf"]),
                "invoice": _invoice(data),
                "show_error": True,
            },
        )
    return _statement_file(data, fmt)


@_agency_host
@require_http_methods(["GET", "POST"])
def client_price(request, agency: str, client: str):
    """An agency admin sets what a client pays and what happens above its included segments."""
    agency_obj = selectors.agency_for_user(request=request, slug=agency)
    client_obj = selectors.client_of_agency(agency=agency_obj, slug=client)
    if not selectors.agency_user_is_admin(user=request.user, agency=agency_obj):
        raise Http404("Only the agency's admins set prices.")
    instance = ClientPrice.objects.filter(client=client_obj).first() or ClientPrice(client=client_obj)
    form = ClientPriceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved the price for {client_obj.name}.")
        return redirect("billing:overview")
    plan = selectors.agency_plan(agency=agency_obj)
    return render(
        request,
        "billing/client_price.html",
        {
            "form": form,
            "client": client_obj,
            "agency": agency_obj,
            "plan": plan,
            # The agency bills its clients in its plan's currency; each amount field wears it.
            "money_fields": ("monthly_price", "price_per_segment", "price_per_voice_minute"),
            "currency": plan.currency if plan else "USD",
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Client host -------------------------------------------------------------------------------------------


def _client_host(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            client = selectors.client_statement_access(request=request)
        except Http404:
            client = request_client(request)
            if client is None or kwargs.get("fmt", "html") != "html":
                raise
            # Only the client's own people are logged in on its host (HostMembershipMiddleware): tell them why
            # there is no statement and whom to ask, instead of a bare 404 for a page the app links to.
            is_owner = client_role(request.user, client) == ClientMembership.Role.OWNER
            return render(request, "billing/not_shared.html", {"client": client, "is_owner": is_owner})
        return view(request, client, *args, **kwargs)

    return wrapper


@_client_host
def own_statement(request, client, month: str | None = None, fmt: str = "html"):
    month_date = _month(month) if month else current_month(selectors.agency_time_zone(agency=client.agency))
    data = selectors.statement_get(
        kind=Statement.Kind.CLIENT, agency=client.agency, client=client, month=month_date
    )
    if fmt != "html":
        return _statement_file(data, fmt)
    label = f"{month_date:%Y-%m}"
    closed = Statement.objects.filter(kind=Statement.Kind.CLIENT, client=client).values_list(
        "month", flat=True
    )
    return render(
        request,
        "billing/statement.html",
        {
            "data": data,
            "title": statement_render.statement_title(data),
            "back_url": reverse("home"),
            "csv_url": reverse("billing:own-statement-file", args=[label, "csv"]),
            "pdf_url": reverse("billing:own-statement-file", args=[label, "pdf"]),
            "invoice": _invoice(data),
            "is_payer": True,
            "other_months": [(m, reverse("billing:own-statement", args=[f"{m:%Y-%m}"])) for m in closed],
        },
    )
