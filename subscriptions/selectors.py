"""Reads for tenants and the catalog."""

from django.db.models import Prefetch, QuerySet

from subscriptions.models import PaymentMethod, Plan, PlanMetric, Tenant


def plan_list(*, include_inactive: bool = False) -> QuerySet[Plan]:
    plans = Plan.objects.prefetch_related(
        Prefetch("plan_metrics", queryset=PlanMetric.objects.select_related("metric"))
    )
    return plans if include_inactive else plans.filter(active=True)


def plan_by_id_or_slug(value) -> Plan | None:
    """`plan_id` may be a UUID or a slug."""
    from uuid import UUID

    try:
        return plan_list(include_inactive=True).filter(pk=UUID(str(value))).first()
    except (TypeError, ValueError, AttributeError):
        return plan_list(include_inactive=True).filter(slug=str(value)).first()


def tenant_list(*, tenant_id=None) -> QuerySet[Tenant]:
    tenants = Tenant.objects.all()
    return tenants.filter(pk=tenant_id) if tenant_id else tenants


def payment_method_list(*, tenant_id=None) -> QuerySet[PaymentMethod]:
    """Payment methods, oldest first; all tenants' when `tenant_id` is None (staff)."""
    methods = PaymentMethod.objects.order_by("created_at", "id")
    return methods.filter(tenant_id=tenant_id) if tenant_id else methods


def payment_method_get(*, payment_method_id, tenant_id=None) -> PaymentMethod | None:
    """One payment method; with `tenant_id` only that tenant's (another's is None, a 404)."""
    methods = PaymentMethod.objects.select_related("tenant").filter(pk=payment_method_id)
    if tenant_id:
        methods = methods.filter(tenant_id=tenant_id)
    return methods.first()
