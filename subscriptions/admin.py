from django.contrib import admin, messages

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from subscriptions.models import (
    ApiToken,
    Coupon,
    CouponRedemption,
    Metric,
    PaymentMethod,
    Plan,
    PlanMetric,
    Subscription,
    SubscriptionChange,
    Tenant,
)
from subscriptions.services.subscriptions import subscription_cancel, subscription_reactivate
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


class SubscriptionChangeInline(admin.TabularInline):
    model = SubscriptionChange
    extra = 0
    can_delete = False
    fields = (
        "kind",
        "from_plan",
        "to_plan",
        "effective_at",
        "prorate",
        "proration_numerator",
        "proration_denominator",
        "proration_amount",
        "actor",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class TrialingFilter(admin.SimpleListFilter):
    title = "trial / cancelling"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [
            ("trialing", "Trialing"),
            ("cancelling", "Cancelling at period end"),
            ("pending_downgrade", "Pending downgrade"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "trialing":
            return queryset.filter(status="trialing")
        if self.value() == "cancelling":
            return queryset.filter(cancel_at_period_end=True).exclude(status="cancelled")
        if self.value() == "pending_downgrade":
            return queryset.filter(pending_plan__isnull=False)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "tenant",
        "plan",
        "status",
        "current_period_start",
        "current_period_end",
        "trial_end",
        "cancel_at_period_end",
        "pending_plan",
    )
    list_filter = ("status", "plan", TrialingFilter)
    search_fields = ("tenant__name", "tenant__email", "id")
    list_select_related = ("tenant", "plan", "pending_plan")
    readonly_fields = [f.name for f in Subscription._meta.fields]
    inlines = [SubscriptionChangeInline]
    actions = ["cancel_at_period_end", "reactivate"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel at period end")
    def cancel_at_period_end(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda sub, now, actor: subscription_cancel(
                subscription=sub, reason="cancelled by staff", now=now, actor=actor
            ),
        )

    @admin.action(description="Reactivate (undo cancel)")
    def reactivate(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda sub, now, actor: subscription_reactivate(subscription=sub, now=now, actor=actor),
        )

    def _apply(self, request, queryset, action):
        now, done = utcnow(), 0
        for sub in queryset:
            try:
                action(sub, now, f"staff:{request.user.username}")
                done += 1
            except BillingError as exc:
                messages.error(request, f"{sub}: {exc.message}")
        if done:
            messages.success(request, f"Updated {done} subscription(s).")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "percent_off",
        "amount_off",
        "duration",
        "duration_in_months",
        "times_redeemed",
        "max_redemptions",
        "expires_at",
        "active",
    )
    list_filter = ("duration", "active")
    search_fields = ("code", "name")
    readonly_fields = ("times_redeemed", "created_at")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_at = utcnow()
        super().save_model(request, obj, form, change)


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    list_display = ("coupon", "tenant", "subscription", "first_period_index", "redeemed_at")
    search_fields = ("coupon__code", "tenant__name")
    readonly_fields = ("coupon", "tenant", "subscription", "first_period_index", "redeemed_at")
