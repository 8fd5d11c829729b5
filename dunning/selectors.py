"""Reads for dunning: policies as pure terms, cases, summaries and recovery figures."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum

from dunning import policy as pure
from dunning.models import (
    CaseStatus,
    DeclineCode,
    DeclineKind,
    DunningCase,
    DunningEvent,
    DunningPolicy,
    EventKind,
    TenantDunningPolicy,
)

ACTIVE = (CaseStatus.OPEN, CaseStatus.PAUSED)


def policy_default() -> DunningPolicy:
    return DunningPolicy.objects.get(is_default=True)


def policy_for_tenant(*, tenant_id) -> DunningPolicy:
    assigned = TenantDunningPolicy.objects.filter(tenant_id=tenant_id).select_related("policy")
    row = assigned.first()
    return row.policy if row is not None else policy_default()


def policy_terms(policy: DunningPolicy) -> pure.Policy:
    return pure.Policy(
        grace_period_days=policy.grace_period_days,
        max_attempts=policy.max_attempts,
        steps=tuple(
            pure.Step(
                day=s.day,
                retry=s.retry,
                notice=s.notice,
                suspend=s.suspend,
                cancel=s.cancel,
                mark_uncollectible=s.mark_uncollectible,
            )
            for s in policy.steps.all()
        ),
    )


class PolicyCache:
    """Pure terms per policy id for one pass (a constant number of queries per chunk)."""

    def __init__(self):
        self._terms: dict = {}

    def get(self, policy_id) -> pure.Policy:
        if policy_id not in self._terms:
            policy = DunningPolicy.objects.prefetch_related("steps").get(pk=policy_id)
            self._terms[policy_id] = policy_terms(policy)
        return self._terms[policy_id]


def hard_decline_codes() -> frozenset[str]:
    codes = DeclineCode.objects.filter(kind=DeclineKind.HARD).values_list("code", flat=True)
    return frozenset(code.lower() for code in codes)


def case_state(case: DunningCase, *, done_days=None, tz: str | None = None) -> pure.CaseState:
    if done_days is None:
        done_days = DunningEvent.objects.filter(
            case=case, kind=EventKind.STEP, day__isnull=False
        ).values_list("day", flat=True)
    return pure.CaseState(
        opened_at=case.opened_at,
        tz=tz or case.tenant.timezone,
        done_days=frozenset(done_days),
        suspended=case.suspended_at is not None,
        cancelled=case.cancelled_at is not None,
        paused=case.status == CaseStatus.PAUSED,
        shift_days=case.shift_days,
    )


def case_list(*, status: str | None = None, tenant_id=None) -> QuerySet[DunningCase]:
    cases = DunningCase.objects.select_related("invoice", "tenant", "policy")
    if status:
        cases = cases.filter(status=status)
    if tenant_id is not None:
        cases = cases.filter(tenant_id=tenant_id)
    return cases.prefetch_related("events", "policy__steps").order_by("-opened_at", "id")


def case_get(*, case_id) -> DunningCase | None:
    return case_list().filter(pk=case_id).first()


def tenant_service_level(tenant) -> str:
    """`full`, `degraded` (suspended) or `none` (cancelled for non-payment): what the product
    being billed may gate features on."""
    return tenant.service_level


def tenant_dunning_summary(*, tenant_id) -> dict:
    """The open-dunning summary `GET tenants/{id}` carries."""
    cases = list(
        DunningCase.objects.filter(tenant_id=tenant_id, status__in=ACTIVE)
        .select_related("invoice")
        .order_by("opened_at")
    )
    amounts: dict[str, int] = {}
    for case in cases:
        amounts[case.invoice.currency] = amounts.get(case.invoice.currency, 0) + (
            case.invoice.amount_due
        )
    next_times = [c.next_action_at for c in cases if c.next_action_at is not None]
    return {
        "open_cases": len(cases),
        "amount_due": amounts,
        "stage": pure.worst_stage(c.stage for c in cases),
        "oldest_opened_at": cases[0].opened_at if cases else None,
        "next_action_at": min(next_times) if next_times else None,
        "case_ids": [str(c.pk) for c in cases],
    }


def recovery_figures(*, now: datetime) -> dict:
    """The admin's recovery view: open cases, amount at risk, recovered this month, rate."""
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    at_risk = (
        DunningCase.objects.filter(status__in=ACTIVE)
        .values("invoice__currency")
        .annotate(cases=Count("id"), amount=Sum("invoice__amount_due"))
        .order_by("invoice__currency")
    )
    closed = DunningCase.objects.filter(closed_at__gte=month_start, closed_at__lte=now)
    recovered = closed.filter(status=CaseStatus.RECOVERED)
    recovered_amounts = (
        recovered.values("invoice__currency")
        .annotate(cases=Count("id"), amount=Sum("invoice__total"))
        .order_by("invoice__currency")
    )
    ended = DunningCase.objects.filter(~Q(status__in=ACTIVE), closed_at__isnull=False).aggregate(
        all=Count("id"),
        recovered=Count("id", filter=Q(status=CaseStatus.RECOVERED)),
    )
    rate = round(100 * ended["recovered"] / ended["all"], 1) if ended["all"] else None
    return {
        "open_cases": DunningCase.objects.filter(status=CaseStatus.OPEN).count(),
        "paused_cases": DunningCase.objects.filter(status=CaseStatus.PAUSED).count(),
        "at_risk": list(at_risk),
        "recovered_this_month": list(recovered_amounts),
        "closed_this_month": closed.count(),
        "recovery_rate": rate,
    }


def open_case_count() -> int:
    """Dunning cases open now (paused ones excluded): monitoring's `dunning cases open`."""
    return DunningCase.objects.filter(status=CaseStatus.OPEN).count()
