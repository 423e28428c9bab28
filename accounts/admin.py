from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Agency, AgencyMembership, Client, ClientMembership, Domain, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class AgencyMembershipInline(admin.TabularInline):
    model = AgencyMembership
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "carrier", "custom_domain", "custom_domain_verified_at", "created_at"]
    # Verification is the DNS record's to give (accounts.domains), not a checkbox's.
    readonly_fields = [
        "custom_domain_token",
        "custom_domain_verified_at",
        "custom_domain_checked_at",
        "custom_domain_check_error",
    ]
    search_fields = ["name", "slug"]
    inlines = [AgencyMembershipInline]


class ClientMembershipInline(admin.TabularInline):
    model = ClientMembership
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "agency", "status", "phone_number", "call_mode", "timezone"]
    list_filter = ["status", "call_mode", "agency"]
    search_fields = ["name", "slug", "phone_number"]
    readonly_fields = ["schema_name", "status", "provisioning_error", "created_at"]
    inlines = [ClientMembershipInline]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain"]
