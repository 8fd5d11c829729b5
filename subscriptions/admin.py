from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_project.shared.admin import BillingAdmin, BillingTabularInline
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import BillingError
from subscriptions import admin_contracts  # noqa: F401  (registers the contract admin)
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
from subscriptions.services import catalog, coupons, hierarchies, tenants
from subscriptions.services.subscriptions import subscription_cancel, subscription_reactivate
from subscriptions.services.tokens import api_token_create, api_token_revoke


class ServiceAdmin(BillingAdmin):
    """Saves go through the same services as the API. A refusal (BillingError) rolls the whole
    save back (the admin's own transaction) and comes back as an error message on the form."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BillingError as exc:
            detail = "; ".join(
                f"{field}: {' '.join(map(str, problems))}"
                for field, problems in (exc.errors or {}).items()
            )
            self.message_user(request, f"{exc.message} {detail}".strip(), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def changed(form, names) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in names}


TENANT_CREATE_FIELDS = (
    "name",
    "email",
    "country",
    "state",
    "postal_code",
    "address_line1",
    "city",
    "vat_id",
    "timezone",
    "currency",
    "payment_terms",
    "tax_exempt",
    "tax_exempt_reason",
)


def _tree_html(node: dict, *, current):
    url = reverse("admin:subscriptions_tenant_change", args=[node["tenant_id"]])
    label = format_html("<a href='{}'>{}</a>", url, node["name"])
    if node["tenant_id"] == current:
        label = format_html("<strong>{}</strong>", label)
    share = f" ({node['cost_allocation']} %)" if node["cost_allocation"] is not None else ""
    flag = " — consolidated billing" if node["billing_consolidation"] else ""
    children = format_html_join(
        "", "{}", ((_tree_html(c, current=current),) for c in node["children"])
    )
    return format_html("<ul><li>{}{}{}{}</li></ul>", label, share, flag, children)


class HierarchyFilter(admin.SimpleListFilter):
    title = "hierarchy"
    parameter_name = "hierarchy"

    def lookups(self, request, model_admin):
        return [
            ("member", "In a hierarchy"),
            ("parent", "Parents"),
            ("child", "Children"),
            ("none", "Standalone"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        has_children = Q(children__isnull=False)
        if value == "member":
            return queryset.filter(has_children | Q(parent__isnull=False)).distinct()
        if value == "parent":
            return queryset.filter(has_children).distinct()
        if value == "child":
            return queryset.filter(parent__isnull=False)
        if value == "none":
            return queryset.filter(parent__isnull=True, children__isnull=True)
        return queryset


@admin.register(Tenant)
class TenantAdmin(ServiceAdmin):
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
    list_filter = (
        "status",
        "service_level",
        HierarchyFilter,
        "country",
        "payment_terms",
        "tax_exempt",
    )
    search_fields = ("name", "email", "vat_id", "stripe_customer_id", "id")
    # The hierarchy flags and shares are set by `POST hierarchies` (its checks in one place).
    readonly_fields = (
        "id",
        "stripe_customer_id",
        "billing_consolidation",
        "payment_responsibility",
        "cost_allocation",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and tenants.tenant_currency_locked(tenant=obj):
            fields += ("currency",)
        if obj is not None:
            fields += ("hierarchy",)
        return fields

    @admin.display(description="Hierarchy (from its root)")
    def hierarchy(self, obj):
        """The whole tree the tenant belongs to, from its root, the tenant in bold."""
        ancestors = hierarchies.tenant_ancestor_ids(tenant_id=obj.pk)
        root = Tenant.objects.get(pk=ancestors[-1]) if ancestors else obj
        tree = hierarchies.hierarchy_tree(tenant=root)["root"]
        if not tree["children"] and root.pk == obj.pk:
            return "No parent, no children."
        return _tree_html(tree, current=obj.pk)

    def save_model(self, request, obj, form, change):
        now = utcnow()
        data = {
            name: form.cleaned_data[name]
            for name in tenants.STAFF_FIELDS | {"parent"}
            if name in form.cleaned_data
        }
        if "parent" in data:
            parent = data.pop("parent")
            data["parent_id"] = parent.pk if parent else None
        if change:
            changed = {n for n in form.changed_data if n in form.cleaned_data}
            changed = {"parent_id" if n == "parent" else n for n in changed}
            fields = {n: v for n, v in data.items() if n in changed}
            tenant = tenants.tenant_update(
                tenant=obj, fields=fields, allowed=tenants.STAFF_FIELDS, now=now
            )
        else:
            created = {n: data[n] for n in TENANT_CREATE_FIELDS if n in data}
            tenant = tenants.tenant_create(**created, parent_id=data.get("parent_id"), now=now)
            rest = {n: data[n] for n in ("status", "service_level") if n in data}
            tenant = tenants.tenant_update(
                tenant=tenant, fields=rest, allowed=tenants.STAFF_FIELDS, now=now
            )
        obj.pk, obj._state.adding = tenant.pk, False


@admin.register(ApiToken)
class ApiTokenAdmin(BillingAdmin):
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
    export_exclude = ("token_hash",)
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


METRIC_FIELDS = ("metric_type", "name", "unit", "aggregation")


@admin.register(Metric)
class MetricAdmin(ServiceAdmin):
    list_display = ("metric_type", "name", "unit", "aggregation")
    search_fields = ("metric_type", "name")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and catalog.metric_in_use(metric=obj):
            return ("metric_type", "aggregation")
        return ()

    def save_model(self, request, obj, form, change):
        if change:
            metric = catalog.metric_update(metric=obj, fields=self.changed(form, METRIC_FIELDS))
        else:
            metric = catalog.metric_create(
                **{n: form.cleaned_data[n] for n in METRIC_FIELDS if n in form.cleaned_data}
            )
        obj.pk, obj._state.adding = metric.pk, False


class PlanMetricInline(BillingTabularInline):
    """Read-only once the plan is in use; otherwise saved with the plan through `plan_update`."""

    model = PlanMetric
    extra = 0
    unit_price_fields = {"overage_unit_price": "plan__currency"}

    def _editable(self, obj) -> bool:
        return obj is None or not catalog.plan_in_use(plan=obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


PLAN_FIELDS = catalog.PLAN_PRICED_FIELDS + catalog.PLAN_EDITABLE_FIELDS


@admin.register(Plan)
class PlanAdmin(ServiceAdmin):
    list_display = ("slug", "name", "amount", "currency", "interval", "trial_period_days", "active")
    list_filter = ("active", "currency")
    money_fields = {"amount": "currency"}
    search_fields = ("slug", "name")
    inlines = [PlanMetricInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if catalog.plan_in_use(plan=obj):
            return ("slug", *catalog.PLAN_PRICED_FIELDS)
        return ("slug",)

    def save_model(self, request, obj, form, change):
        """Saved with its metrics in `save_related`, through one service call."""

    def save_related(self, request, form, formsets, change):
        metrics = None
        for formset in formsets:
            # What the admin's change message reads; the service saved the rows.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is PlanMetric and (formset.has_changed() or not change):
                metrics = [
                    {
                        "metric_type": f.cleaned_data["metric"].metric_type,
                        "limit": f.cleaned_data["included_quantity"],
                        "unit_price_cents": f.cleaned_data["overage_unit_price"],
                    }
                    for f in formset.forms
                    if f.cleaned_data.get("metric") and not f.cleaned_data.get("DELETE")
                ]
        obj = form.instance
        if change:
            catalog.plan_update(plan=obj, fields=self.changed(form, PLAN_FIELDS), metrics=metrics)
        else:
            data = {n: form.cleaned_data[n] for n in PLAN_FIELDS if n in form.cleaned_data}
            active = data.pop("active", True)
            plan = catalog.plan_create(
                slug=form.cleaned_data["slug"], **data, metrics=metrics or []
            )
            if not active:
                catalog.plan_update(plan=plan, fields={"active": False})
            obj.pk, obj._state.adding = plan.pk, False


@admin.register(PaymentMethod)
class PaymentMethodAdmin(BillingAdmin):
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


class SubscriptionChangeInline(BillingTabularInline):
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
            return queryset.live().filter(cancel_at_period_end=True)
        if self.value() == "pending_downgrade":
            return queryset.filter(pending_plan__isnull=False)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(BillingAdmin):
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


COUPON_FIELDS = coupons.COUPON_TERM_FIELDS + coupons.COUPON_EDITABLE_FIELDS


@admin.register(Coupon)
class CouponAdmin(ServiceAdmin):
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
    money_fields = {"amount_off": "currency"}
    search_fields = ("code", "name")
    readonly_fields = ("times_redeemed", "created_at")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and coupons.coupon_redeemed(coupon=obj):
            fields += coupons.COUPON_TERM_FIELDS
        return fields

    def save_model(self, request, obj, form, change):
        now = utcnow()
        if change:
            coupon = coupons.coupon_update(
                coupon=obj, fields=self.changed(form, COUPON_FIELDS), now=now
            )
        else:
            data = {n: form.cleaned_data[n] for n in COUPON_FIELDS if n in form.cleaned_data}
            active = data.pop("active", True)
            coupon = coupons.coupon_create(**data, now=now)
            if not active:
                coupon = coupons.coupon_update(coupon=coupon, fields={"active": False}, now=now)
        obj.pk, obj._state.adding = coupon.pk, False


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(BillingAdmin):
    list_display = ("coupon", "tenant", "subscription", "first_period_index", "redeemed_at")
    search_fields = ("coupon__code", "tenant__name")
    readonly_fields = ("coupon", "tenant", "subscription", "first_period_index", "redeemed_at")
