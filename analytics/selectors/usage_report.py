"""Reads behind `GET analytics/usage` (usage over a window with its trend) and the usage
forecast to the end of each live subscription's billing period. Computed from the usage tables
as of the call (`now`): nothing has to have run first."""

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q

from analytics.calculations import forecast as usage_math
from subscriptions.models import PlanMetric, Subscription
from subscriptions.pricing.periods import period_at
from usage.selectors import usage_totals_many

LIVE = ("trialing", "active", "past_due", "suspended")


def _plan_metrics(plan_ids) -> dict:
    """{plan id: [PlanMetric with its metric]} ordered by metric type."""
    rows = defaultdict(list)
    for pm in (
        PlanMetric.objects.filter(plan_id__in=set(plan_ids))
        .select_related("metric")
        .order_by("metric__metric_type")
    ):
        rows[pm.plan_id].append(pm)
    return rows


# --- usage over a window ---------------------------------------------------------------------


def _reference_subscriptions(*, since: datetime, tenant_id=None) -> list[Subscription]:
    """Per tenant the subscription whose plan prices its usage: the live one, else the latest
    cancelled after `since` (its usage of the window still counts)."""
    subs = Subscription.objects.filter(
        ~Q(status="cancelled") | Q(cancelled_at__gte=since)
    ).select_related("plan", "tenant")
    if tenant_id is not None:
        subs = subs.filter(tenant_id=tenant_id)
    chosen: dict = {}
    for sub in subs.order_by("tenant_id", "created_at"):
        current = chosen.get(sub.tenant_id)
        if current is None or sub.status != "cancelled" or current.status == "cancelled":
            chosen[sub.tenant_id] = sub
    return sorted(chosen.values(), key=lambda s: (s.tenant.name, str(s.tenant_id)))


def usage_report(*, now: datetime, days: int, tenant_id=None) -> dict:
    """Per tenant and plan metric over the last `days` days [now - days, now): the metric's
    aggregation (`total`), the plan's limit for a window that long (`window_limit`), the
    overage and what it is worth at the plan's overage price (`overage_revenue`), and the same
    figures for the window of equal length before it (`trend`)."""
    start = now - timedelta(days=days)
    previous_start = start - timedelta(days=days)
    subs = _reference_subscriptions(since=previous_start, tenant_id=tenant_id)
    metrics_of = _plan_metrics(s.plan_id for s in subs)
    requests = []
    for sub in subs:
        requests += [(sub.tenant_id, start, now), (sub.tenant_id, previous_start, start)]
    totals = usage_totals_many(requests=requests)
    tenants = []
    by_currency: dict[str, dict] = {}
    for index, sub in enumerate(subs):
        current, previous = totals[2 * index], totals[2 * index + 1]
        currency = sub.plan.currency
        metrics = {}
        for pm in metrics_of[sub.plan_id]:
            metric = pm.metric.metric_type
            row = usage_math.window_usage(
                metric=metric,
                aggregation=pm.metric.aggregation,
                total=current.get(metric, Decimal(0)),
                previous_total=previous.get(metric, Decimal(0)),
                included=pm.included_quantity,
                unit_price=pm.overage_unit_price,
                days=days,
                currency=currency,
            )
            metrics[metric] = row
        revenue = sum(m.overage_revenue for m in metrics.values())
        previous_revenue = sum(m.previous_overage_revenue for m in metrics.values())
        tenants.append(
            {
                "tenant": sub.tenant,
                "subscription": sub,
                "currency": currency,
                "metrics": metrics,
                "overage_revenue": revenue,
                "previous_overage_revenue": previous_revenue,
            }
        )
        total = by_currency.setdefault(
            currency, {"overage_revenue": 0, "previous_overage_revenue": 0, "by_metric": {}}
        )
        total["overage_revenue"] += revenue
        total["previous_overage_revenue"] += previous_revenue
        for metric, row in metrics.items():
            item = total["by_metric"].setdefault(
                metric,
                {"aggregation": row.aggregation, "overage": Decimal(0), "overage_revenue": 0},
            )
            if row.aggregation in usage_math.ACCUMULATING:
                item["total"] = item.get("total", Decimal(0)) + row.total
            item["overage"] += row.overage
            item["overage_revenue"] += row.overage_revenue
    tenants.sort(key=lambda t: (-t["overage_revenue"], t["tenant"].name, str(t["tenant"].pk)))
    return {
        "days": days,
        "start": start,
        "end": now,
        "previous_start": previous_start,
        "tenants": tenants,
        "totals": by_currency,
    }


# --- usage forecast to the end of the current billing period ---------------------------------


def _period_now(sub: Subscription, now: datetime):
    """The billing period holding `now`: the stored one, or (when the cycle has not advanced
    the subscription yet) the one the calendar says."""
    if sub.current_period_start <= now < sub.current_period_end:
        return sub.current_period_start, sub.current_period_end
    period = period_at(anchor=sub.started_at, tz=sub.tenant.timezone or "UTC", instant=now)
    return period.start, period.end


def usage_forecast(*, now: datetime, tenant_id=None) -> dict:
    """Per live subscription and plan metric: usage so far in the period holding `now`, the
    figure forecast for the period's end (sums linearly on the period so far; max, latest and
    distinct counts at their current value), and the overage and its cost both imply."""
    subs = (
        Subscription.objects.filter(status__in=LIVE, started_at__lte=now)
        .select_related("plan", "tenant")
        .order_by("tenant__name", "tenant_id")
    )
    if tenant_id is not None:
        subs = subs.filter(tenant_id=tenant_id)
    subs = list(subs)
    metrics_of = _plan_metrics(s.plan_id for s in subs)
    periods = [_period_now(s, now) for s in subs]
    totals = usage_totals_many(
        requests=[(s.tenant_id, start, now) for s, (start, _) in zip(subs, periods, strict=True)]
    )
    tenants = []
    summary: dict[str, dict] = {}
    for sub, (start, end), usage in zip(subs, periods, totals, strict=True):
        elapsed = int((now - start).total_seconds())
        length = int((end - start).total_seconds())
        metrics = {
            pm.metric.metric_type: usage_math.forecast_metric(
                metric=pm.metric.metric_type,
                aggregation=pm.metric.aggregation,
                current=usage.get(pm.metric.metric_type, Decimal(0)),
                included=pm.included_quantity,
                unit_price=pm.overage_unit_price,
                currency=sub.plan.currency,
                elapsed_seconds=elapsed,
                period_seconds=length,
            )
            for pm in metrics_of[sub.plan_id]
        }
        row = {
            "tenant": sub.tenant,
            "subscription": sub,
            "currency": sub.plan.currency,
            "period_start": start,
            "period_end": end,
            "elapsed_pct": round(100 * elapsed / length, 1) if length else 100.0,
            "metrics": metrics,
            "overage_cost_now": sum(m.overage_cost_now for m in metrics.values()),
            "forecast_overage_cost": sum(m.forecast_overage_cost for m in metrics.values()),
            "metrics_over_limit": sorted(m for m, f in metrics.items() if f.forecast_overage > 0),
        }
        tenants.append(row)
        total = summary.setdefault(
            sub.plan.currency,
            {
                "tenants": 0,
                "tenants_forecast_over_limit": 0,
                "overage_cost_now": 0,
                "forecast_overage_cost": 0,
                "by_metric": {},
            },
        )
        total["tenants"] += 1
        total["tenants_forecast_over_limit"] += bool(row["metrics_over_limit"])
        total["overage_cost_now"] += row["overage_cost_now"]
        total["forecast_overage_cost"] += row["forecast_overage_cost"]
        for metric, f in metrics.items():
            item = total["by_metric"].setdefault(
                metric,
                {"tenants_over_limit": 0, "overage_cost_now": 0, "forecast_overage_cost": 0},
            )
            item["tenants_over_limit"] += f.forecast_overage > 0
            item["overage_cost_now"] += f.overage_cost_now
            item["forecast_overage_cost"] += f.forecast_overage_cost
    tenants.sort(key=lambda t: (-t["forecast_overage_cost"], t["tenant"].name, str(t["tenant"].pk)))
    return {"as_of": now, "tenants": tenants, "summary": summary}
