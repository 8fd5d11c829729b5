from django.contrib import admin, messages

from billing_project.shared.clock import utcnow
from subscriptions.models import ApiToken, Metric, PaymentMethod, Plan, PlanMetric, Tenant
from subscriptions.services.tokens import api_token_create, api_token_revoke


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "email",
        "country",
        "state",
        "status",
        "service_level",
        "currency",
        "payment_terms",
        "created_at",
    )
    list_filter = ("status", "service_level", "country", "payment_terms", "tax_exempt")
    search_fields = ("name", "email", "vat_id", "stripe_customer_id", "id")
    readonly_fields = ("id", "stripe_customer_id", "created_at", "updated_at")
    date_hierarchy = "created_at"

    def save_model(self, request, obj, form, change):
        now = utcnow()
        obj.updated_at = now
        if not change:
            obj.created_at = now
        super().save_model(request, obj, form, change)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "name",
        "role",
        "tenant",
        "user",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "tenant__name", "user__username")
    fields = (
        "name",
        "role",
        "tenant",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, raw = api_token_create(
            role=obj.role, tenant=obj.tenant, user=obj.user, name=obj.name, now=utcnow()
        )
        obj.pk = token.pk
        obj.prefix = token.prefix
        messages.warning(request, f"New token (shown once, copy it now): {raw}")

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        now = utcnow()
        for token in queryset:
            api_token_revoke(token=token, now=now)
        messages.success(request, f"Revoked {queryset.count()} token(s).")


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ("metric_type", "name", "unit", "aggregation")
    search_fields = ("metric_type", "name")


class PlanMetricInline(admin.TabularInline):
    model = PlanMetric
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "amount", "currency", "interval", "trial_period_days", "active")
    list_filter = ("active", "currency")
    search_fields = ("slug", "name")
    inlines = [PlanMetricInline]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "is_default",
        "stripe_payment_method_id",
    )
    list_filter = ("is_default", "brand")
    search_fields = ("tenant__name", "stripe_payment_method_id")
    readonly_fields = [f.name for f in PaymentMethod._meta.fields]
