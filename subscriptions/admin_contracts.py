"""Contracts in the admin: read-only, with their versions (changes go through the API, which
versions them: POST/PATCH contracts). Registered from subscriptions/admin.py."""

from django.contrib import admin

from billing_project.shared.admin import BillingAdmin, BillingTabularInline
from subscriptions.models import Contract, ContractVersion


class ContractVersionInline(BillingTabularInline):
    model = ContractVersion
    extra = 0
    can_delete = False
    fields = ("version", "terms", "end_date", "note", "created_by", "created_at")
    readonly_fields = fields
    ordering = ("-version",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contract)
class ContractAdmin(BillingAdmin):
    list_display = ("id", "tenant", "start_date", "end_date", "version", "created_at")
    list_select_related = ("tenant",)
    search_fields = ("tenant__name", "tenant__email", "=id")
    date_hierarchy = "starts_at"
    readonly_fields = [f.name for f in Contract._meta.fields]
    inlines = [ContractVersionInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
