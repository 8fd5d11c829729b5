from django.contrib import admin

from billing_project.shared.models import OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows the admin shows but never adds, changes or deletes (facts, journals, logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Tasks recorded but not yet handed to the broker (read-only: the sweep sends them)."""

    list_display = ("task", "kwargs", "created_at", "due_at", "attempts", "last_error")
    list_filter = ("task",)
    ordering = ("due_at", "id")
    readonly_fields = ("task", "kwargs", "created_at", "due_at", "attempts", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
