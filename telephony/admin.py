from django.contrib import admin

from .models import NumberHolder


@admin.register(NumberHolder)
class NumberHolderAdmin(admin.ModelAdmin):
    """Where an operator records the platform's own numbers (no agency) or gives a number to another agency."""

    list_display = ["phone_number", "agency", "client", "updated_at"]
    list_filter = ["agency"]
    search_fields = ["phone_number"]
    autocomplete_fields = ["agency", "client"]
    readonly_fields = ["previous_client", "created_at", "updated_at"]
