"""The contacts pages on a client's host (/contacts/). Views stay thin: reads in selectors, writes in services.

They live in the inbox, with the staff's other pages, rather than in crm: a contact's page shows its calls and
texts and records consent, so it builds on telephony and messaging, which build on crm.

Who gets in: login is required, and accounts.middleware.HostMembershipMiddleware has already turned anyone who
does not belong on this client's host into an anonymous visitor, so they are sent to log in."""

from datetime import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.timezone import localdate
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import request_client
from crm import csv_io
from crm.forms import ContactForm, ContactSearchForm, ImportForm, OptInForm
from crm.selectors import contact_get, contact_list, merge_candidates, tags_in_use, with_phone_display
from crm.services import contact_merge, contact_set_blocked, contact_update
from messaging.models import ConsentEvent
from messaging.services import contact_opt_in, contact_opt_out

from .contact_selectors import contact_timeline, with_last_call

PAGE_SIZE = 25


def client_page(view):
    """Login required, and only on a client's host (the URLconf is only mounted there; this makes it certain)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request_client(request) is None:
            raise Http404("Not a client's host")
        return view(request, *args, **kwargs)

    return wrapper


def _to_detail(contact) -> HttpResponseRedirect:
    return redirect("crm:detail", contact_id=contact.pk)


@client_page
def contact_index(request):
    form = ContactSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    contacts = with_last_call(
        contact_list(query=filters.get("q", ""), status=filters.get("status", ""), tag=filters.get("tag", ""))
    )
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = with_phone_display(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "crm/contact_list.html",
        {
            "form": form,
            "page": page,
            "tags": tags_in_use(),
            "filters": filters,
            "filtering": any(filters.values()),
            "query_string": query.urlencode(),
        },
    )


@client_page
def contact_detail(request, contact_id: int):
    contact = contact_get(contact_id=contact_id)
    return _render_detail(request, contact)


def _render_detail(request, contact, *, form=None, opt_in_form=None, status=200):
    try:
        before = parse_datetime(request.GET.get("before", ""))
    except ValueError:  # well-formed but impossible, e.g. month 13
        before = None
    events, older = contact_timeline(contact=contact, before=before)
    # The number's history, including what was recorded under a contact row since merged away or deleted.
    consent = list(
        ConsentEvent.objects.filter(Q(contact=contact) | Q(phone_number=contact.phone_number)).order_by(
            "-created_at", "-id"
        )
    )
    return render(
        request,
        "crm/contact_detail.html",
        {
            "contact": contact,
            "form": form or ContactForm(instance=contact),
            "opt_in_form": opt_in_form or OptInForm(),
            "events": events,
            "before": before,
            "older": older.isoformat() if isinstance(older, datetime) else None,
            "consent": consent,
            # Someone who never called or texted may be texted first only once staff record that they asked (the
            # history's latest page tells; an older call only makes the offer unnecessary, never wrong).
            "offer_consent": not (consent and consent[0].kind == ConsentEvent.Kind.OPT_IN)
            and not any(event.kind in ("call", "text_in") for event in events),
        },
        status=status,
    )


@client_page
@require_POST
def contact_edit(request, contact_id: int):
    contact = contact_get(contact_id=contact_id)
    form = ContactForm(request.POST, instance=contact)
    if not form.is_valid():
        contact.refresh_from_db()  # the form wrote its cleaned values onto the instance
        return _render_detail(request, contact, form=form, status=400)
    data = form.cleaned_data
    contact_update(
        contact=contact, name=data["name"], email=data["email"], tags=data["tags"], notes=data["notes"]
    )
    messages.success(request, "Saved.")
    return _to_detail(contact)


@client_page
@require_POST
def contact_block(request, contact_id: int):
    contact = contact_get(contact_id=contact_id)
    blocked = request.POST.get("blocked") == "1"
    contact_set_blocked(contact=contact, blocked=blocked)
    messages.success(
        request,
        "Blocked: no text-backs will go to this number."
        if blocked
        else "Unblocked: missed calls from this number get a text-back again.",
    )
    return _to_detail(contact)


@client_page
@require_POST
def contact_consent(request, contact_id: int):
    contact = contact_get(contact_id=contact_id)
    action = request.POST.get("action")
    if action == "opt_out" and not contact.opted_out:
        contact_opt_out(client=request.tenant, contact=contact, source=ConsentEvent.Source.STAFF)
        messages.success(request, "Opted out: this number gets no more texts.")
    elif action == "opt_in":
        # Opting a number back in, or recording the consent of someone who never called or texted (the only
        # way staff and the API may text them first); either way the caller asked, and staff say so.
        opt_in_form = OptInForm(request.POST)
        if not opt_in_form.is_valid():
            return _render_detail(request, contact, opt_in_form=opt_in_form, status=400)
        was_opted_out = contact.opted_out
        contact_opt_in(client=request.tenant, contact=contact, source=ConsentEvent.Source.STAFF)
        messages.success(
            request,
            "Opted in again: this number can be texted."
            if was_opted_out
            else "Consent recorded: you may text this number.",
        )
    return _to_detail(contact)


@client_page
def contact_merge_pick(request, contact_id: int):
    contact = contact_get(contact_id=contact_id)
    query = request.GET.get("q", "")[:100]
    return render(
        request,
        "crm/contact_merge_pick.html",
        {
            "contact": contact,
            "q": query,
            "candidates": merge_candidates(contact=contact, query=query),
        },
    )


@client_page
@require_http_methods(["GET", "POST"])
def contact_merge_confirm(request, contact_id: int, other_id: int):
    contact = contact_get(contact_id=contact_id)
    other = contact_get(contact_id=other_id)
    if other.pk == contact.pk:
        raise Http404("A contact cannot be merged into itself")
    if request.method == "POST":
        number = other.phone_number
        contact = contact_merge(client=request.tenant, into=contact, other=other)
        messages.success(request, f"Merged {number} into this contact.")
        return _to_detail(contact)
    return render(
        request,
        "crm/contact_merge_confirm.html",
        {
            "contact": contact,
            "other": other,
            "moves": [
                _count(other.calls.count(), "call"),
                _count(other.conversation.messages.count() if hasattr(other, "conversation") else 0, "text"),
                _count(other.outcomes.count(), "outcome"),
                _count(other.consent_events.count(), "opt-out or opt-in record"),
            ],
        },
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@client_page
def contact_export(request):
    contacts = contact_list().order_by("created_at", "id").iterator(chunk_size=2000)
    response = StreamingHttpResponse(csv_io.export_rows(contacts), content_type="text/csv; charset=utf-8")
    filename = f"contacts-{request_client(request).slug}-{localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@client_page
@require_http_methods(["GET", "POST"])
def contact_import(request):
    result = None
    if request.method == "POST":
        # Refuse an oversized upload by its declared length, before reading it. (CSRF checking may already have
        # spooled it to a temporary file; a hard cap on request bodies belongs to the proxy in front.)
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > csv_io.MAX_UPLOAD_BYTES + 64 * 1024:
            error = (
                f"The file is too large; the limit is {filesizeformat(csv_io.MAX_UPLOAD_BYTES)}. "
                "Split it into smaller files."
            )
            return render(
                request, "crm/contact_import.html", {"form": ImportForm(), "error": error}, status=400
            )
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            result = csv_io.import_contacts(data=form.cleaned_data["file"].read())
            if result.ok:
                messages.success(request, f"Imported: {result.created} new, {result.updated} updated.")
                return redirect(reverse("crm:index"))
        return render(request, "crm/contact_import.html", {"form": form, "result": result}, status=400)
    return render(request, "crm/contact_import.html", {"form": ImportForm()})
