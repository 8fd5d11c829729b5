"""Reads: aggregated usage over a period, current usage of a tenant, event lists.

Aggregations over a half-open period [start, end): `sum`, `max`, `latest` (the value of the
newest event by timestamp; when several share it, the largest of their values) and
`unique_count` (distinct `unique_key`). Periods are not hour-aligned (a subscription may be
anchored at 16:23:45), so the whole UTC days inside [start, end) come from the daily rollups,
the whole hours of the two partial days from the hourly rollups, and the two partial edge hours
from the edge rollups of their boundary (`UsageBoundary`), or from raw events while the boundary
is not registered; distinct keys come from the hourly and edge key tables (they cannot be
summed). A read that had to take `EDGE_RAW_LIMIT` or more raw events registers its boundaries,
so the next reads of that period cost the same whatever the number of events in its edge hours.
Each part is an index range scan per metric on (tenant, metric, time), bounded by the period:
the cost grows neither with the tenant's history nor with its volume (~30 daily + <48 hourly
rows and two edge rows per metric for a month). Exact for all four aggregations; one query.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from billing_project.shared.errors import Conflict
from billing_project.shared.money import round_minor
from subscriptions.models import PlanMetric, Subscription
from usage import sql
from usage.models import UsageEvent
from usage.services import usage_boundaries_register

EDGE_RAW_LIMIT = 100
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


def _floor_hour(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    return instant.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(instant: datetime) -> datetime:
    floor = _floor_hour(instant)
    return floor if floor == instant else floor + _HOUR


def _floor_day(instant: datetime) -> datetime:
    return _floor_hour(instant).replace(hour=0)


def _ceil_day(instant: datetime) -> datetime:
    floor = _floor_day(instant)
    return floor if floor == instant.astimezone(UTC) else floor + _DAY


def totals_plan(start: datetime, end: datetime) -> dict:
    """The query's ranges inside [start, end): daily rollups [d0, d1), hourly rollups [h0, d0)
    and [d1, h1), distinct keys [h0, h1), partial edges [a1, b1) and [a2, b2) (empty ranges
    have equal bounds). `e1`: [a1, b1) is the after-side of the boundary a1, `e2`: [a2, b2) the
    before-side of b2 (their edge rollups may stand for the raw events)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    h0, h1 = _ceil_hour(start), _floor_hour(end)
    if h0 >= h1:  # no whole hour: raw events only
        plan = {
            "d0": start, "d1": start, "h0": start, "h1": start,
            "a1": start, "b1": end, "a2": end, "b2": end,
        }  # fmt: skip
    else:
        d0, d1 = _ceil_day(start), _floor_day(end)
        if d0 >= d1:  # no whole day: hourly rollups only
            d0 = d1 = h1
        plan = {"d0": d0, "d1": d1, "h0": h0, "h1": h1, "a1": start, "b1": h0, "a2": h1, "b2": end}
    plan["e1"] = plan["a1"] < plan["b1"] and plan["b1"] == _ceil_hour(plan["a1"])
    plan["e2"] = plan["a2"] < plan["b2"] and plan["a2"] == _floor_hour(plan["b2"])
    return plan


def _value(aggregation, total, maximum, latest, distinct):
    if aggregation == "sum":
        return total
    if aggregation == "max":
        return maximum
    if aggregation == "latest":
        return latest
    return Decimal(distinct)


def _totals(requests: list[tuple]) -> tuple[list[dict[str, Decimal]], list[int]]:
    """Totals per request and the number of raw events each read in its edge hours."""
    results: list[dict[str, Decimal]] = [{} for _ in requests]
    raw_rows = [0] * len(requests)
    columns: dict[str, list] = {k: [] for k in ("i", "tenant", *sql.PLAN_TIMES, *sql.PLAN_EDGES)}
    for index, (tenant_id, start, end) in enumerate(requests):
        if end <= start:
            continue
        columns["i"].append(index)
        columns["tenant"].append(tenant_id)
        for key, value in totals_plan(start, end).items():
            columns[key].append(value)
    if not columns["i"]:
        return results, raw_rows
    with connection.cursor() as cursor:
        if connection.in_atomic_block and len(columns["i"]) > 1:
            # The planner's generic estimate of the per-request ranges (~90,000 rows for 100
            # requests) crosses jit_optimize_above_cost: ~300 ms of JIT compilation for a query
            # that runs in ~7 ms. Off for the rest of the (invoicing) transaction only.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql.TOTALS, columns)
        rows = cursor.fetchall()
    for index, metric_type, aggregation, total, maximum, latest, distinct, raw in rows:
        raw_rows[index] += raw
        value = _value(aggregation, total, maximum, latest, distinct)
        if value is not None:
            results[index][metric_type] = value
    return results, raw_rows


def usage_totals(*, tenant_id, start: datetime, end: datetime) -> dict[str, Decimal]:
    """metric_type -> its aggregation over [start, end), for every metric with events there.

    One query, reading daily rollups for whole days, hourly rollups for the whole hours of the
    partial days and edge rollups (or, while few, raw events) for the partial edge hours.
    """
    (totals,), (raw,) = _totals([(tenant_id, start, end)])
    if raw >= EDGE_RAW_LIMIT:
        plan = totals_plan(start, end)
        edges = [plan["a1"]] * plan["e1"] + [plan["b2"]] * plan["e2"]
        usage_boundaries_register(tenant_id=tenant_id, boundaries=edges)
    return totals


def usage_totals_many(*, requests: list[tuple]) -> list[dict[str, Decimal]]:
    """`usage_totals` for many `(tenant_id, start, end)` at once, in one query (the billing
    cycle reads a whole chunk of subscriptions this way); results in the order of `requests`."""
    return _totals(requests)[0]


@dataclass(frozen=True, slots=True)
class MetricUsage:
    metric_type: str
    current: Decimal
    limit: Decimal
    overages: Decimal
    unit_price_cents: Decimal
    overage_cost: int


@dataclass(frozen=True, slots=True)
class CurrentUsage:
    tenant_id: object
    currency: str
    period_start: datetime
    period_end: datetime
    metrics: tuple[MetricUsage, ...]
    projected_overage_cost: int


def usage_current(*, tenant_id) -> CurrentUsage:
    """The live subscription's current period: per plan metric its usage, limit and overage.
    409 `no_live_subscription` when the tenant has none. Three lean queries."""
    subscription = (
        Subscription.objects.live()
        .filter(tenant_id=tenant_id)
        .values("current_period_start", "current_period_end", "plan_id", "plan__currency")
        .first()
    )
    if subscription is None:
        raise Conflict("The tenant has no live subscription.", code="no_live_subscription")
    start, end = subscription["current_period_start"], subscription["current_period_end"]
    currency = subscription["plan__currency"]
    terms = PlanMetric.objects.filter(plan_id=subscription["plan_id"]).values_list(
        "metric__metric_type", "included_quantity", "overage_unit_price"
    )
    totals = usage_totals(tenant_id=tenant_id, start=start, end=end)
    metrics = []
    for metric_type, limit, price in sorted(terms):
        current = totals.get(metric_type, Decimal(0))
        overages = max(Decimal(0), current - limit)
        cost = round_minor(overages * price, currency)
        metrics.append(MetricUsage(metric_type, current, limit, overages, price, cost))
    return CurrentUsage(
        tenant_id=tenant_id,
        currency=currency,
        period_start=start,
        period_end=end,
        metrics=tuple(metrics),
        projected_overage_cost=sum(m.overage_cost for m in metrics),
    )


def usage_event_list(
    *, tenant_id=None, metric_type: str | None = None, start=None, end=None
) -> QuerySet[UsageEvent]:
    """Events, newest first; `tenant_id=None` means every tenant (staff)."""
    events = UsageEvent.objects.select_related("metric").order_by(
        "-timestamp", "-received_at", "id"
    )
    if tenant_id is not None:
        events = events.filter(tenant_id=tenant_id)
    if metric_type:
        events = events.filter(metric__metric_type=metric_type)
    if start is not None:
        events = events.filter(timestamp__gte=start)
    if end is not None:
        events = events.filter(timestamp__lt=end)
    return events
