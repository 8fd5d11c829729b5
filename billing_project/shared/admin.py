"""What every admin of ours is built on: django-unfold's ModelAdmin and inlines (the finance
console's theme, README "Finance console")."""

from django.contrib import admin
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import StackedInline as UnfoldStackedInline
from unfold.admin import TabularInline as UnfoldTabularInline

from billing_project.shared.models import OutboxMessage


class BillingAdmin(UnfoldModelAdmin):
    """The base of every ModelAdmin of ours."""

    list_filter_submit = True
    list_per_page = 50


class BillingTabularInline(UnfoldTabularInline):
    """The base of every tabular inline of ours."""


class BillingStackedInline(UnfoldStackedInline):
    """The base of every stacked inline of ours."""


class ReadOnlyAdmin(BillingAdmin):
    """For rows the admin shows but never adds, changes or deletes (facts, journals, logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(BillingAdmin):
    """Tasks recorded but not yet handed to the broker (read-only: the sweep sends them)."""

    list_display = ("task", "kwargs", "created_at", "due_at", "attempts", "last_error")
    list_filter = ("task",)
    ordering = ("due_at", "id")
    readonly_fields = ("task", "kwargs", "created_at", "due_at", "attempts", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
