"""The Django admin on a client's host (/admin/ there): the client's own settings, text-back templates and
canned replies, for the people who may change its settings (owners, the agency's staff, operators).

It is a second AdminSite, separate from the operator's on the platform host: it runs in the client's schema,
shows only this client's row, needs no is_staff flag, and asks client_settings.views.user_may_change_settings
for every permission, so the admin and the settings page always agree on who may do what. Forms are the
settings page's own (hours and closures in their text form, the model's validators), and each template shows
the rendered preview with its segment count."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.models import Client
from accounts.selectors import request_client
from client_settings.forms import ClientSettingsForm
from client_settings.views import (
    AGENCY_ONLY_FIELDS,
    sample_context,
    template_preview,
    user_is_agency_person,
    user_may_change_settings,
)
from config.db import tenant_connection
from inbox.models import CannedReply
from messaging.models import Template
from messaging.segments import segment_info


class ClientAdminSite(admin.AdminSite):
    site_header = "Business settings"
    site_title = "Business settings"
    index_title = "Settings"
    # Without the "Recent actions" box: it lists the person's entries in the admin log from every site.
    index_template = "client_admin/index.html"

    def has_permission(self, request):
        client = request_client(request)
        return (
            client is not None
            and request.user.is_authenticated
            and user_may_change_settings(request.user, client)
        )

    def login(self, request, extra_context=None):
        # One login page for the whole host: the admin sends people to it and back. Someone logged in who may
        # not change settings (the client's staff) is told so rather than sent round in a loop.
        if request.user.is_authenticated:
            raise PermissionDenied("Only the business's owners and its agency change its settings.")
        back = request.GET.get("next") or reverse("client_admin:index")
        return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': back})}")

    def each_context(self, request):
        context = super().each_context(request)
        client = request_client(request)
        if client is not None:
            context["site_header"] = context["site_title"] = f"{client.name}: settings"
        return context


site = ClientAdminSite(name="client_admin")


class _ThisClientsPeople(admin.ModelAdmin):
    """Every permission is the site's: the client's owners, its agency, operators.

    No change history: Django's admin log is one table in the public schema, keyed by content type and object
    id, and ids in a client's schema repeat in every other client's, so one client's history would show
    another's changes (and who made them). Nothing is logged, and the history page is a 404."""

    change_form_template = "client_admin/change_form.html"

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None

    def history_view(self, request, object_id, extra_context=None):
        raise Http404("This admin keeps no history.")

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)


@admin.register(Client, site=site)
class ClientSettingsAdmin(_ThisClientsPeople):
    form = ClientSettingsForm
    fields = list(ClientSettingsForm.Meta.fields)
    list_display = ["name", "timezone", "response_target_minutes"]

    def get_readonly_fields(self, request, obj=None):
        # As on the settings page: the owner sees the messaging registration, only the agency changes it.
        client = request_client(request)
        if client is not None and user_is_agency_person(request.user, client):
            return ()
        return AGENCY_ONLY_FIELDS

    def get_queryset(self, request):
        # This client's row and no other: the admin's URLs carry a pk, and another client's is a 404.
        client = request_client(request)
        rows = super().get_queryset(request)
        return rows.none() if client is None else rows.filter(pk=client.pk)

    def has_add_permission(self, request):
        return False  # clients are created by their agency

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Template, site=site)
class TemplateAdmin(_ThisClientsPeople):
    list_display = ["kind", "is_active", "segments"]
    fields = ["kind", "body", "is_active", "preview"]
    readonly_fields = ["kind", "preview"]

    def has_add_permission(self, request):
        return False  # one template per kind, made with the schema

    def has_delete_permission(self, request, obj=None):
        return False  # turn one off instead

    @admin.display(description="Segments")
    def segments(self, template):
        return segment_info(template.body).segments

    @admin.display(description="Preview")
    def preview(self, template):
        # The admin runs in the client's schema, and the connection's tenant is the client (display methods get no
        # request to ask).
        client = tenant_connection.tenant
        shown = template_preview(template.body, sample_context(client)) if template.pk else None
        if shown is None:
            return "—"
        return format_html(
            "{}<br><small>{} · {} segment(s); a caller's first text adds the opt-out notice: {} segment(s)</small>",
            shown["text"],
            shown["encoding"],
            shown["segments"],
            shown["first_segments"],
        )


@admin.register(CannedReply, site=site)
class CannedReplyAdmin(_ThisClientsPeople):
    list_display = ["title", "body"]
