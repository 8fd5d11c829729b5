"""A built history shared by the insights tests, and direct computations of their figures
from the rows (events, plan metrics, subscriptions), independent of the selectors."""

from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from invoicing.tests.conftest import at, start
from subscriptions.models import PlanMetric, Subscription
from usage.catalog import CATALOG
from usage.models import UsageEvent
from usage.services import usage_batch_record

NOW = at("2026-03-20T12:00:00Z")

# (tenant, metric, quantity, when)
EVENTS = [
    ("alpha", "api_calls", 6000, "2026-02-10T09:00:00Z"),  # the previous 30 days
    ("alpha", "storage_gb", 4, "2026-02-05T09:00:00Z"),
    ("alpha", "api_calls", 9000, "2026-03-05T09:00:00Z"),  # the last 30 days
    ("alpha", "api_calls", 7000, "2026-03-15T09:00:00Z"),
    ("alpha", "storage_gb", 12, "2026-03-02T09:00:00Z"),
    ("alpha", "storage_gb", 7, "2026-03-12T09:00:00Z"),
    ("alpha", "ai_requests", 600, "2026-03-19T09:00:00Z"),
    ("beta", "api_calls", 50000, "2026-03-10T09:00:00Z"),
]


def _record(tenant, rows):
    records = [
        {"metric_type": metric, "quantity": str(quantity), "timestamp": when}
        for metric, quantity, when in rows
    ]
    usage_batch_record(tenant_id=tenant.pk, records=records, catalog=CATALOG, now=NOW)


@pytest.fixture
def history(make_tenant):
    """Alpha on Developer since Jan 1 (the cycle never ran: its stored period is January's),
    Beta on Team since Mar 1, Gamma on a 14-day Developer trial since Mar 10."""
    tenants = {
        "alpha": make_tenant(name="Alpha"),
        "beta": make_tenant(name="Beta"),
        "gamma": make_tenant(name="Gamma"),
    }
    start(tenants["alpha"], "developer", "2026-01-01T00:00:00Z")
    start(tenants["beta"], "team", "2026-03-01T00:00:00Z")
    start(tenants["gamma"], "developer", "2026-03-10T00:00:00Z", trial_period_days=14)
    by_tenant = defaultdict(list)
    for name, metric, quantity, when in EVENTS:
        by_tenant[name].append((metric, quantity, when))
    for name, rows in by_tenant.items():
        _record(tenants[name], rows)
    return tenants


def _half_up(value) -> int:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _aggregate(tenant, metric, aggregation, start_at, end_at) -> Decimal:
    """The metric's figure over [start_at, end_at) straight from the raw events."""
    quantities = [
        e.quantity
        for e in UsageEvent.objects.filter(
            tenant=tenant,
            metric__metric_type=metric,
            timestamp__gte=start_at,
            timestamp__lt=end_at,
        )
    ]
    if not quantities:
        return Decimal(0)
    return sum(quantities) if aggregation == "sum" else max(quantities)


def _plan_metrics(tenant):
    sub = Subscription.objects.live().get(tenant=tenant)
    return sub, PlanMetric.objects.filter(plan=sub.plan).select_related("metric")


def _direct_usage(tenant, days: int) -> dict:
    sub, metrics = _plan_metrics(tenant)
    end_at = NOW
    start_at = NOW - timedelta(days=days)
    previous_at = start_at - timedelta(days=days)
    expected = {}
    for pm in metrics:
        aggregation = pm.metric.aggregation
        total = _aggregate(tenant, pm.metric.metric_type, aggregation, start_at, end_at)
        previous = _aggregate(tenant, pm.metric.metric_type, aggregation, previous_at, start_at)
        limit = Fraction(pm.included_quantity)
        if aggregation in ("sum", "unique_count"):
            limit = limit * days / 30
        overage = max(Fraction(0), Fraction(total) - limit)
        prev_overage = max(Fraction(0), Fraction(previous) - limit)
        expected[pm.metric.metric_type] = {
            "total": total,
            "overage": overage,
            "overage_revenue": _half_up(
                Decimal(overage.numerator) / overage.denominator * pm.overage_unit_price
            ),
            "previous_total": previous,
            "previous_overage_revenue": _half_up(
                Decimal(prev_overage.numerator) / prev_overage.denominator * pm.overage_unit_price
            ),
        }
    return expected


def _new_customers_direct(now):
    """{(YYYY-MM, currency): n} from the subscriptions: a tenant's first subscription, at its
    start, or at its trial's end once that has passed without a cancellation."""
    firsts = {}
    for sub in Subscription.objects.select_related("plan").order_by("started_at"):
        firsts.setdefault(sub.tenant_id, sub)
    counts = defaultdict(int)
    for sub in firsts.values():
        when = sub.started_at
        if sub.trial_end and sub.trial_end > sub.started_at:
            if sub.trial_end > now:
                continue
            when = sub.trial_end
        counts[(when.strftime("%Y-%m"), sub.plan.currency)] += 1
    return counts
