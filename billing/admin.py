"""The platform operator's view of billing: plans, each agency's billing settings, client prices, usage and
statements. Usage and statements are read-only here: they come from metering and from closing a month."""

from django.contrib import admin

from .models import (
    AgencyBilling,
    ClientInvoice,
    ClientPrice,
    MonthlyUsage,
    Plan,
    Statement,
    StripeConnection,
    UsageEvent,
    UsageWarning,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "currency",
        "monthly_price",
        "price_per_active_client",
        "included_segments_per_client",
        "overage_per_segment",
    ]
    search_fields = ["name"]


@admin.register(AgencyBilling)
class AgencyBillingAdmin(admin.ModelAdmin):
    list_display = ["agency", "plan", "time_zone", "billing_email"]
    list_select_related = ["agency", "plan"]
    autocomplete_fields = ["agency"]
    search_fields = ["agency__name", "agency__slug"]


@admin.register(ClientPrice)
class ClientPriceAdmin(admin.ModelAdmin):
    list_display = [
        "client",
        "monthly_price",
        "included_segments",
        "price_per_segment",
        "over_limit",
        "owner_sees_statement",
    ]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
    search_fields = ["client__name", "client__slug"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(ReadOnlyAdmin):
    list_display = [
        "client",
        "month",
        "segments_out",
        "segments_in",
        "calls",
        "voice_minutes",
        "lookups",
        "numbers_held",
        "provider_cost",
    ]
    list_filter = ["month"]
    list_select_related = ["client"]
    search_fields = ["client__name", "client__slug"]


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = ["client", "kind", "source", "month", "quantity", "provider_price", "occurred_at"]
    list_filter = ["kind", "month"]
    list_select_related = ["client"]
    search_fields = ["source", "client__slug"]


@admin.register(UsageWarning)
class UsageWarningAdmin(ReadOnlyAdmin):
    list_display = ["client", "month", "threshold", "segments", "included", "created_at", "emailed_at"]
    list_select_related = ["client"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["kind", "agency", "client", "month", "total", "currency", "closed_at", "paid_at"]
    list_filter = ["kind", "month"]
    list_select_related = ["agency", "client"]


@admin.register(StripeConnection)
class StripeConnectionAdmin(admin.ModelAdmin):
    """Agencies' connected Stripe accounts: read here, changed by the agency on its Payments page."""

    list_display = ["agency", "account_id", "account_name", "invoice_clients", "pause_on_failed_payment"]
    list_select_related = ["agency"]
    readonly_fields = ["agency", "account_id", "livemode", "connected_at", "connected_by", "invoicing_since"]
    search_fields = ["agency__name", "account_id"]


@admin.register(ClientInvoice)
class ClientInvoiceAdmin(admin.ModelAdmin):
    list_display = ["statement", "invoice_id", "status", "paused_client", "sent_at", "paid_at"]
    list_filter = ["status"]
    list_select_related = ["statement__client", "statement__agency"]
    search_fields = ["invoice_id", "client__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
