from django.contrib import admin

from billing_project.shared.admin import BillingAdmin, BillingTabularInline, ReadOnlyAdmin
from ledger.models import Account, JournalEntry, JournalLine


@admin.register(Account)
class AccountAdmin(BillingAdmin):
    list_display = ("code", "name", "kind", "role")
    readonly_fields = ("role",)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class JournalLineInline(BillingTabularInline):
    model = JournalLine
    fields = ("account", "tenant_id", "debit", "credit", "currency", "jurisdiction")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    """Read-only: entries by document (search the document id)."""

    list_display = ("posted_at", "event", "document_type", "document_id", "currency")
    list_filter = ("event", "document_type", "currency")
    search_fields = ("document_id",)
    inlines = [JournalLineInline]
    readonly_fields = ("posted_at", "event", "document_type", "document_id", "currency")
    exclude = ("created_at",)
