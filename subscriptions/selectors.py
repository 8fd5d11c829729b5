"""Reads for tenants and the catalog."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from subscriptions.models import (
    Contract,
    ContractVersion,
    Coupon,
    PaymentMethod,
    Plan,
    PlanMetric,
    Subscription,
    Tenant,
)
from subscriptions.pricing import (
    ContractTerms,
    ContractYear,
    MetricTerms,
    Period,
    PlanTerms,
    contract_covers_arrears,
    contract_covers_fee,
    contract_terms_parse,
    contract_years_ending,
)


def plan_list(*, include_inactive: bool = False) -> QuerySet[Plan]:
    plans = Plan.objects.prefetch_related(
        Prefetch("plan_metrics", queryset=PlanMetric.objects.select_related("metric"))
    )
    return plans if include_inactive else plans.filter(active=True)


def plan_by_id_or_slug(value) -> Plan | None:
    """`plan_id` may be a UUID or a slug."""
    try:
        return plan_list(include_inactive=True).filter(pk=UUID(str(value))).first()
    except (TypeError, ValueError, AttributeError):
        return plan_list(include_inactive=True).filter(slug=str(value)).first()


def coupon_list() -> QuerySet[Coupon]:
    return Coupon.objects.order_by("-created_at", "id")


def tenant_list(*, tenant_id=None) -> QuerySet[Tenant]:
    tenants = Tenant.objects.all()
    return tenants.filter(pk=tenant_id) if tenant_id else tenants


def subscription_live_for_tenant(*, tenant_id) -> Subscription | None:
    """The tenant's one live (not cancelled) subscription, with its plan and plan metrics."""

    return (
        Subscription.objects.live()
        .select_related("plan", "tenant", "pending_plan")
        .prefetch_related(
            Prefetch("plan__plan_metrics", queryset=PlanMetric.objects.select_related("metric"))
        )
        .filter(tenant_id=tenant_id)
        .first()
    )


def plan_terms(plan: Plan):
    """The pure pricing view of a plan (metrics from a prefetch when present)."""
    return PlanTerms(
        plan_name=plan.name,
        amount=plan.amount,
        currency=plan.currency,
        metrics=tuple(
            MetricTerms(
                metric=pm.metric.metric_type,
                included=pm.included_quantity,
                unit_price=pm.overage_unit_price,
            )
            for pm in plan.plan_metrics.all()
        ),
    )


def subscription_list(*, tenant_id=None, status: str | None = None) -> QuerySet[Subscription]:
    subs = Subscription.objects.select_related(
        "plan", "tenant", "coupon_redemption__coupon"
    ).order_by("-created_at", "id")
    if tenant_id:
        subs = subs.filter(tenant_id=tenant_id)
    if status:
        subs = subs.filter(status=status)
    return subs


def subscription_get(*, subscription_id, tenant_id=None) -> Subscription | None:
    """A tenant-scoped lookup: another tenant's id is simply not found."""
    return subscription_list(tenant_id=tenant_id).filter(pk=subscription_id).first()


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


# --- contracts ----------------------------------------------------------------------------------


def contract_list(*, tenant_id=None) -> QuerySet[Contract]:
    contracts = Contract.objects.select_related("tenant").prefetch_related("versions")
    return contracts.filter(tenant_id=tenant_id) if tenant_id else contracts


def contract_get(*, contract_id) -> Contract | None:
    return contract_list().filter(pk=contract_id).first()


@dataclass(frozen=True)
class ContractInForce:
    """A contract's current version as pricing reads it, with its term for the pure checks."""

    contract: Contract
    version: ContractVersion
    terms: ContractTerms
    tz: str

    @property
    def term(self) -> dict:
        return {
            "starts_at": self.contract.starts_at,
            "ends_at": self.contract.ends_at,
            "auto_renewal": self.terms.auto_renewal,
            "tz": self.tz,
        }

    def covers_fee(self, period: Period) -> bool:
        return contract_covers_fee(period=period, **self.term)

    def covers_arrears(self, period: Period) -> bool:
        return contract_covers_arrears(period=period, **self.term)

    def years_ending(self, within: Period) -> tuple[ContractYear, ...]:
        return contract_years_ending(within=within, **self.term)


def contracts_for_tenant(*, tenant_id, tz: str) -> list[ContractInForce]:
    """Every contract of the tenant with the version now in force (a tenant has few)."""
    contracts = list(Contract.objects.filter(tenant_id=tenant_id).order_by("starts_at", "id"))
    if not contracts:
        return []
    versions = {
        (v.contract_id, v.version): v
        for v in ContractVersion.objects.filter(contract__tenant_id=tenant_id)
    }
    result = []
    for contract in contracts:
        version = versions[(contract.pk, contract.version)]
        terms = contract_terms_parse(version.terms, version=version.version)
        result.append(ContractInForce(contract=contract, version=version, terms=terms, tz=tz))
    return result


def contracted_tenant_ids(*, tenant_ids) -> set:
    """Those of `tenant_ids` that have a contract (billed one by one, not by the plain path)."""
    return set(
        Contract.objects.filter(tenant_id__in=list(tenant_ids))
        .values_list("tenant_id", flat=True)
        .distinct()
    )
