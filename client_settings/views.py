"""The settings page on a client's host: business hours, time zone, call and text timing, what happens after
the first text (booking link, follow-up, keywords that act), and the text-back templates, with a preview of
each text as a caller would get it.

Who may come in is settled as for the inbox (HostMembershipMiddleware logs out anyone who does not belong on
this host; login_required sends them to log in). Everyone let in may look; only the client's owners, the
staff of its agency and platform operators may change anything. A save is all or nothing: the client's row
(public schema) and its templates (its own schema) are written in one transaction, after every form passed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import AgencyMembership, Client, ClientMembership
from accounts.selectors import request_client
from deliverability.hosting import latest_order, next_action
from inbox.suggestions import rules_draft
from messaging.intents import Intent
from messaging.models import Template
from messaging.placeholders import PLACEHOLDERS
from messaging.placeholders import render as render_template
from messaging.receptionist import receptionist_preview
from messaging.segments import segment_info
from messaging.services import OPT_OUT_NOTICE, placeholder_context

from .forms import CallerStepsForm, ClientSettingsForm, FactsForm, TemplateForm

SAMPLE_CALLER = "Maria"


def user_may_change_settings(user, client: Client) -> bool:
    """The client's owners, its agency's people and platform operators; not the client's other staff."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return (
        ClientMembership.objects.filter(user=user, client=client, role=ClientMembership.Role.OWNER).exists()
        or AgencyMembership.objects.filter(user=user, agency_id=client.agency_id).exists()
    )


# Fields only the agency's people (and operators) change: the owner sees them.
AGENCY_ONLY_FIELDS = ("messaging_registration",)


def user_is_agency_person(user, client: Client) -> bool:
    return (
        user.is_superuser or AgencyMembership.objects.filter(user=user, agency_id=client.agency_id).exists()
    )


def sample_context(client: Client) -> dict[str, str]:
    """What a real text-back renders with, for a caller "Maria"."""
    return placeholder_context(client=client, caller_name=SAMPLE_CALLER)


def template_preview(body: str, context: dict[str, str]) -> dict | None:
    """The text a caller would get, and what it costs; None when the body cannot be rendered."""
    try:
        text = render_template(body, context=context)
    except ValueError:
        return None
    if not text:
        return None
    info = segment_info(text)
    # A caller's first text from the business carries the opt-out notice, as messaging.services adds it.
    first = text if "STOP" in text.upper() else f"{text} {OPT_OUT_NOTICE}"
    first_info = segment_info(first)
    return {
        "text": text,
        "encoding": info.encoding,
        "segments": info.segments,
        "first_segments": first_info.segments,
        "first_encoding": first_info.encoding,
        "adds_notice": first != text,
    }


def _template_forms(data=None) -> list[TemplateForm]:
    existing = {template.kind: template for template in Template.objects.all()}
    return [
        TemplateForm(data, instance=existing.get(kind) or Template(kind=kind), prefix=kind)
        for kind in Template.Kind.values
    ]


def _template_rows(forms: list[TemplateForm], context: dict[str, str]) -> list[dict]:
    rows = []
    for form in forms:
        if form.is_bound:
            body = form.cleaned_data.get("body") if "body" not in form.errors else None
            body_b = form.cleaned_data.get("body_b") if "body_b" not in form.errors else None
        else:
            body, body_b = form.instance.body, form.instance.body_b
        rows.append(
            {
                "form": form,
                "kind": form.instance.kind,
                "label": Template.Kind(form.instance.kind).label,
                "preview": template_preview(body, context) if body else None,
                "preview_b": template_preview(body_b, context) if body_b else None,
            }
        )
    return rows


@login_required
def client_settings(request):
    client = request_client(request)
    if client is None:
        raise Http404("Settings live on a client's host.")
    may_change = user_may_change_settings(request.user, client)
    if request.method == "POST" and not may_change:
        raise PermissionDenied("Only the business's owners and its agency change its settings.")

    # A fresh copy of the row: a refused form must not leave half-applied values on request.tenant.
    editable = Client.objects.select_related("agency").get(pk=client.pk)
    agency_only = () if user_is_agency_person(request.user, client) else AGENCY_ONLY_FIELDS
    if request.method == "POST":
        settings_form = ClientSettingsForm(request.POST, instance=editable)
        for name in agency_only:
            settings_form.fields[name].disabled = True  # what was posted for it is ignored
        steps_form = CallerStepsForm(request.POST, instance=editable, client=client)
        facts_form = FactsForm(request.POST, instance=editable)
        template_forms = _template_forms(request.POST)
        valid = [
            settings_form.is_valid(),
            steps_form.is_valid(),
            facts_form.is_valid(),
            *(form.is_valid() for form in template_forms),
        ]
        if all(valid):
            with transaction.atomic():
                settings_form.save(commit=False)
                steps_form.save(commit=False)
                facts_form.save(commit=False).save(
                    update_fields=[
                        *ClientSettingsForm.Meta.fields,
                        *CallerStepsForm.Meta.fields,
                        *FactsForm.Meta.fields,
                    ]
                )
                for form in template_forms:
                    form.save()
            messages.success(request, "Settings saved.")
            return redirect("client-settings")
        status = 400
    else:
        settings_form = ClientSettingsForm(instance=editable)
        for name in agency_only:
            settings_form.fields[name].disabled = True
        steps_form = CallerStepsForm(instance=editable, client=client)
        facts_form = FactsForm(instance=editable)
        template_forms = _template_forms()
        status = 200

    if not may_change:
        for page_form in [settings_form, steps_form, facts_form, *template_forms]:
            for field in page_form.fields.values():
                field.disabled = True
    context = {
        "client": client,
        "settings_form": settings_form,
        "steps_form": steps_form,
        "facts_form": facts_form,
        "templates": _template_rows(template_forms, sample_context(client)),
        "may_change": may_change,
        "sample_caller": SAMPLE_CALLER,
        "placeholders": PLACEHOLDERS.items(),
        "has_errors": status != 200,
        "hosting_order": (
            order := latest_order(client) if client.call_mode == Client.CallMode.CARRIER else None
        ),
        "hosting_next": next_action(order) if order is not None else None,
    }
    return render(request, "client_settings/settings.html", context, status=status)


@login_required
@require_POST
def facts_preview(request):
    """The test conversation: what a caller's text would get from the AI receptionist and from a suggested
    reply, with the facts as saved. Nothing is saved or sent."""
    client = request_client(request)
    if client is None:
        raise Http404("Settings live on a client's host.")
    body = request.POST.get("preview_text", "").strip()[:500]
    if not body:
        return render(
            request,
            "client_settings/facts_preview.html",
            {"client": client, "error": "Type what a caller might text."},
            status=400,
        )
    preview = receptionist_preview(client=client, body=body)
    context = {
        "client": client,
        "body": body,
        "preview": preview,
        "intent_label": Intent(preview.intent).label,
        "suggestion": rules_draft(client=client, intent=preview.intent),
    }
    return render(request, "client_settings/facts_preview.html", context)
