"""The agency's pages on its host (the platform host or its own domain): the dashboard, acting on a client (pause,
resume, offboard, open its app), the team, the brand and the audit log.

Every client is found through selectors.client_for_agency_user and every agency through
selectors.agency_for_user: someone from another agency gets the same 404 as for a row that does not exist.
Agency staff may pause, resume and open clients; admins also offboard, manage the team and the brand, and
read the audit log."""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.domains import domain_record_name, domain_record_value
from accounts.forms import form_add_service_errors
from accounts.models import AgencyMembership, AuditEntry, Invitation
from accounts.selectors import agencies_on_host, agency_for_user, agency_role, client_for_agency_user
from accounts.services import (
    ClientStateError,
    agency_member_remove,
    audit_record,
    client_pause,
    client_resume,
    client_url,
    invitation_create,
)
from accounts.tasks import verify_custom_domain
from accounts.views import handoff_page
from billing.selectors import unpaid_invoices
from deliverability.selectors import deliverability_total
from reports.charts import sparkline

from .dashboard import (
    SORT_DESCENDING_BY_DEFAULT,
    SORTS,
    Stage,
    dashboard_clients,
    dashboard_rows,
    dashboard_totals,
    late_sends_notice,
)
from .forms import AgencyInviteForm, BrandForm, OffboardForm
from .services import LEFT_AT_TWILIO, agency_brand_update, client_offboard

AUDIT_PAGE = 200
PAGE_SIZE = 50
log = logging.getLogger(__name__)


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@login_required
def home(request):
    """The agency dashboard: the landing page after login on the platform host and agencies' own domains."""
    agencies = agencies_on_host(request)
    stage = request.GET.get("status", "")
    search = request.GET.get("q", "")[:100]
    sort = request.GET.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    direction = request.GET.get("dir", "")
    descending = {"asc": False, "desc": True}.get(direction)
    rows = dashboard_rows(
        clients=dashboard_clients(agencies=agencies, stage=stage, search=search),
        sort=sort,
        descending=descending,
    )
    totals = dashboard_totals(rows=rows)  # before the "needs attention" filter: it is one of the totals
    if request.GET.get("health") == "warnings":
        rows = [row for row in rows if row.warnings]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    agency_list = list(agencies)
    admin_of = {a.pk for a in agency_list if agency_role(request.user, a) == AgencyMembership.Role.ADMIN}
    return render(
        request,
        "agency/home.html",
        {
            "agencies": [(agency, agency.pk in admin_of) for agency in agency_list],
            "show_agency": len(agency_list) > 1,
            "page": page,
            # Each row: the client's numbers, its URL, and whether this person may offboard it (admins only).
            "rows": [
                (row, client_url(row.client), row.client.agency_id in admin_of) for row in page.object_list
            ],
            "total": len(rows),
            "stage": stage,
            "search": search,
            "sort": sort,
            "descending": page and _descending(sort, descending),
            "stages": list(Stage.LABELS.items()),
            "sort_links": _sort_links(request, sort, descending),
            "health": request.GET.get("health", ""),
            "late_sends": late_sends_notice(request.user),
            # Clients whose card payment of an invoice on the agency's Stripe failed (billing.connect).
            "unpaid_invoices": unpaid_invoices(agencies=agency_list),
            "totals": totals,
            # The agency's own rates over 7 days: the sum of its clients' (carriers judge each number, we warn early).
            "texting": deliverability_total(row.texting for row in rows),
            "sparks": {
                "recovered": sparkline(totals.recovered_by_day, title="Recovered revenue, last 30 days"),
                "missed": sparkline(totals.missed_by_day, title="Missed calls, last 30 days"),
                "waiting": sparkline(
                    totals.waiting_by_day, title="Replies without a staff answer, last 30 days"
                ),
            },
        },
    )


def _descending(sort: str, descending: bool | None) -> bool:
    return sort in SORT_DESCENDING_BY_DEFAULT if descending is None else descending


def _sort_links(request, current: str, descending: bool | None) -> dict[str, str]:
    """For each column, the query string that sorts by it (again: the other way round)."""
    links = {}
    for name in SORTS:
        query = request.GET.copy()
        query.pop("page", None)
        query["sort"] = name
        if name == current:
            query["dir"] = "asc" if _descending(current, descending) else "desc"
        else:
            query.pop("dir", None)
        links[name] = "?" + query.urlencode()
    return links


@login_required
@require_http_methods(["GET", "POST"])
def client_pause_view(request, pk: int):
    """GET asks first (what pausing stops, and that it can be undone); POST pauses."""
    client = client_for_agency_user(request, pk)
    if request.method == "GET":
        return render(request, "agency/client_pause.html", {"client": client})
    try:
        client_pause(client=client, actor=request.user, ip_address=_ip(request))
    except ClientStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{client.name} is paused: no text-backs go out until you resume it.")
    return redirect("home")


@login_required
@require_POST
def client_resume_view(request, pk: int):
    client = client_for_agency_user(request, pk)
    try:
        client_resume(client=client, actor=request.user, ip_address=_ip(request))
    except ClientStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{client.name} is live again.")
    return redirect("home")


@login_required
@require_http_methods(["GET", "POST"])
def client_offboard_view(request, pk: int):
    client = client_for_agency_user(request, pk, admin=True)
    form = OffboardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            client_offboard(
                client=client,
                actor=request.user,
                confirmation=form.cleaned_data["confirmation"],
                ip_address=_ip(request),
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        except ClientStateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{client.name} is offboarded. Its data is kept; its number no longer routes here."
            )
            detail = (
                AuditEntry.objects.filter(client=client, action=AuditEntry.Action.OFFBOARD)
                .order_by("-pk")
                .values_list("detail", flat=True)
                .first()
            )
            for left in (detail or "").split("; "):
                if LEFT_AT_TWILIO in left:
                    messages.warning(request, f"Left for you to finish at Twilio: {left}.")
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "agency/client_offboard.html", {"client": client, "form": form}, status=status)


@login_required
@require_POST
def client_open_view(request, pk: int):
    """Agency people enter a client's app; the audit log keeps who, when and which client."""
    client = client_for_agency_user(request, pk)
    if client.status not in (client.Status.LIVE, client.Status.PAUSED):
        messages.error(
            request, f"{client.name} has no app to open: it is {client.get_status_display().lower()}."
        )
        return redirect("home")
    audit_record(
        agency=client.agency,
        actor=request.user,
        action=AuditEntry.Action.OPEN_CLIENT,
        client=client,
        ip_address=_ip(request),
    )
    return handoff_page(request, user=request.user, client=client)


@login_required
@require_http_methods(["GET", "POST"])
def team(request, slug: str):
    agency = agency_for_user(request, slug, admin=True)
    form = AgencyInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _ = invitation_create(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                agency=agency,
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("agency:team", slug=agency.slug)
    members = AgencyMembership.objects.filter(agency=agency).select_related("user").order_by("user__email")
    pending = Invitation.objects.filter(agency=agency, accepted_at__isnull=True).order_by("-created_at")
    return render(
        request,
        "agency/team.html",
        {
            "agency": agency,
            "members": members,
            "pending": pending,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def team_remove(request, slug: str, pk: int):
    agency = agency_for_user(request, slug, admin=True)
    membership = get_object_or_404(
        AgencyMembership.objects.select_related("user", "agency"), pk=pk, agency=agency
    )
    try:
        agency_member_remove(membership=membership, actor=request.user)
    except ClientStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.email} is no longer on the team.")
    return redirect("agency:team", slug=agency.slug)


@login_required
@require_POST
def invitation_revoke(request, slug: str, pk: int):
    agency = agency_for_user(request, slug, admin=True)
    get_object_or_404(Invitation, pk=pk, agency=agency, accepted_at__isnull=True).delete()
    messages.success(request, "Invitation withdrawn.")
    return redirect("agency:team", slug=agency.slug)


@login_required
def audit_log(request, slug: str):
    agency = agency_for_user(request, slug, admin=True)
    entries = AuditEntry.objects.filter(agency=agency).select_related("actor", "client")[:AUDIT_PAGE]
    return render(request, "agency/audit.html", {"agency": agency, "entries": entries})


@login_required
@require_http_methods(["GET", "POST"])
def brand(request, slug: str):
    agency = agency_for_user(request, slug, admin=True)
    initial = {
        "brand_name": agency.brand_name,
        "brand_color": agency.brand_color,
        "support_email": agency.support_email,
        "support_phone": agency.support_phone,
        "custom_domain": agency.custom_domain or "",
        "logo_url": agency.logo_url,
    }
    form = BrandForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.get("logo")
        try:
            saved = agency_brand_update(
                agency=agency,
                actor=request.user,
                brand_name=data["brand_name"],
                brand_color=data["brand_color"],
                support_email=data["support_email"],
                support_phone=data["support_phone"] or "",
                custom_domain=data["custom_domain"],
                logo=upload.read() if upload else None,
                remove_logo=data["remove_logo"],
                logo_url=data["logo_url"],
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, "Brand saved. Your clients' pages and emails carry it from now on.")
            if saved.custom_domain and not saved.custom_domain_verified_at:
                transaction.on_commit(lambda: _check_domain_soon(saved.pk))
            return redirect("agency:brand", slug=agency.slug)
    return render(
        request,
        "agency/brand.html",
        {
            "agency": agency,
            "form": form,
            "domain_record_name": domain_record_name(agency) if agency.custom_domain else "",
            "domain_record_value": domain_record_value(agency) if agency.custom_domain else "",
            "platform_host": urlsplit(settings.PUBLIC_BASE_URL).hostname,
        },
        status=400 if form.errors else 200,
    )


def _check_domain_soon(agency_pk: int) -> None:
    try:
        verify_custom_domain.delay(agency_pk)
    except (
        Exception
    ):  # the broker is down: the periodic check (verify_pending_domains) finds the record later
        log.warning("could not queue the domain check of agency %s", agency_pk)


@login_required
@require_POST
def brand_domain_check(request, slug: str):
    """Check the pending domain's TXT record now rather than at the next periodic check."""
    agency = agency_for_user(request, slug, admin=True)
    if agency.custom_domain and not agency.custom_domain_verified_at:
        transaction.on_commit(lambda: _check_domain_soon(agency.pk))
        messages.info(
            request, f"Checking {agency.custom_domain}: reload this page in a minute to see the result."
        )
    return redirect("agency:brand", slug=agency.slug)
