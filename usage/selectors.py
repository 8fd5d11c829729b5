"""Reads: aggregated usage over a period, current usage of a tenant, event lists.

Aggregations over a half-open period [start, end): `sum`, `max`, `latest` (the value of the
newest event by timestamp; when several share it, the largest of their values) and
`unique_count` (distinct `unique_key`). Periods are not hour-aligned (a subscription may be
anchored at 16:23:45), so the whole UTC days inside [start, end) come from the daily rollups,
the whole hours of the two partial days from the hourly rollups, and only the two partial edge
hours from raw events; distinct keys come from the hourly key table (they cannot be summed).
Each part is an index range scan per metric on (tenant, metric, time), bounded by the period,
so the cost does not grow with the tenant's history nor, for a month, with its volume (~30 daily
+ <48 hourly rows per metric). The result is exact for all four aggregations and costs one query.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from billing_project.shared.errors import Conflict
from subscriptions.models import Metric, PlanMetric, Subscription
from subscriptions.pricing import overage_charge
from usage import portable
from usage.models import UsageDaily, UsageEvent, UsageHourly, UsageHourlyUnique

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_METRICS = Metric._meta.db_table
_EVENTS = UsageEvent._meta.db_table
_HOURLY = UsageHourly._meta.db_table
_HOURLY_UNIQUE = UsageHourlyUnique._meta.db_table
_DAILY = UsageDaily._meta.db_table


def _parts_sql(p: str) -> str:
    """Per metric `m`, the rows that make up its total: whole days [d0, d1) from the daily
    rollups, the whole hours of the partial days [h0, d0) and [d1, h1) from the hourly ones, the
    distinct keys of [h0, h1) (unique_count only), the edges [a1, b1) and [a2, b2) from raw
    events. Every part is one index range on (tenant, metric, time): its cost does not depend on
    the tenant's history outside the period (no skip scan in PostgreSQL 15, hence the metric in
    every condition). `p` prefixes the parameters: `%(name)s` or a request row `r.`."""
    rollup = "sum_value, max_value, latest_at, latest_value"
    own = f"tenant_id = {p.format('tenant')} AND metric_id = m.id"

    def between(column, lo, hi):
        return f"{own} AND {column} >= {p.format(lo)} AND {column} < {p.format(hi)}"

    return f"""
      SELECT {rollup}, NULL::text FROM {_DAILY} WHERE {between("day", "d0", "d1")}
      UNION ALL
      SELECT {rollup}, NULL FROM {_HOURLY} WHERE {between("hour", "h0", "d0")}
      UNION ALL
      SELECT {rollup}, NULL FROM {_HOURLY} WHERE {between("hour", "d1", "h1")}
      UNION ALL
      SELECT NULL, NULL, NULL, NULL, unique_key FROM {_HOURLY_UNIQUE}
       WHERE m.aggregation = 'unique_count' AND {between("hour", "h0", "h1")}
      UNION ALL
      SELECT quantity, quantity, timestamp, quantity,
             CASE WHEN m.aggregation = 'unique_count' THEN unique_key END
        FROM {_EVENTS} WHERE {between("timestamp", "a1", "b1")}
      UNION ALL
      SELECT quantity, quantity, timestamp, quantity,
             CASE WHEN m.aggregation = 'unique_count' THEN unique_key END
        FROM {_EVENTS} WHERE {between("timestamp", "a2", "b2")}
    """  # noqa: S608


_AGGREGATES = """sum(p.s), max(p.mx),
       (array_agg(p.lv ORDER BY p.la DESC NULLS LAST, p.lv DESC NULLS LAST))[1],
       count(DISTINCT p.k)"""

_TOTALS_SQL = f"""
SELECT m.metric_type, m.aggregation, {_AGGREGATES}
  FROM {_METRICS} m
  CROSS JOIN LATERAL ({_parts_sql("%({})s")}) AS p(s, mx, la, lv, k)
 GROUP BY m.metric_type, m.aggregation
"""  # noqa: S608


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
    and [d1, h1), distinct keys [h0, h1), raw edges [a1, b1) and [a2, b2). Empty ranges have
    equal bounds."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    h0, h1 = _ceil_hour(start), _floor_hour(end)
    if h0 >= h1:  # no whole hour: raw events only
        return {
            "d0": start, "d1": start, "h0": start, "h1": start,
            "a1": start, "b1": end, "a2": end, "b2": end,
        }  # fmt: skip
    d0, d1 = _ceil_day(start), _floor_day(end)
    if d0 >= d1:  # no whole day: hourly rollups only
        d0 = d1 = h1
    return {"d0": d0, "d1": d1, "h0": h0, "h1": h1, "a1": start, "b1": h0, "a2": h1, "b2": end}


def usage_totals(*, tenant_id, start: datetime, end: datetime) -> dict[str, Decimal]:
    """metric_type -> its aggregation over [start, end), for every metric with events there.

    One query, reading daily rollups for whole days, hourly rollups for the whole hours of the
    partial days and raw events only in the partial edge hours.
    """
    if end <= start:
        return {}
    if portable.portable_path():
        return portable.totals(tenant_id=tenant_id, plan=totals_plan(start, end))
    params = {"tenant": tenant_id, **totals_plan(start, end)}
    with connection.cursor() as cursor:
        cursor.execute(_TOTALS_SQL, params)
        rows = cursor.fetchall()
    totals = {}
    for metric_type, aggregation, total, maximum, latest, distinct in rows:
        value = _value(aggregation, total, maximum, latest, distinct)
        if value is not None:
            totals[metric_type] = value
    return totals


_PLAN_KEYS = ("d0", "d1", "h0", "h1", "a1", "b1", "a2", "b2")

# The same parts for many (tenant, period) requests at once: `i` is the request's position.
_TOTALS_MANY_SQL = f"""
WITH req AS MATERIALIZED (
  SELECT * FROM unnest(%(i)s::int[], %(tenant)s::uuid[], {
    ", ".join(f"%({k})s::timestamptz[]" for k in _PLAN_KEYS)
})
         AS r(i, tenant, {", ".join(_PLAN_KEYS)})
)
SELECT r.i, m.metric_type, m.aggregation, {_AGGREGATES}
  FROM req r
  CROSS JOIN {_METRICS} m
  CROSS JOIN LATERAL ({_parts_sql("r.{}")}) AS p(s, mx, la, lv, k)
 GROUP BY r.i, m.metric_type, m.aggregation
"""  # noqa: S608


def _value(aggregation, total, maximum, latest, distinct):
    if aggregation == "sum":
        return total
    if aggregation == "max":
        return maximum
    if aggregation == "latest":
        return latest
    return Decimal(distinct)


def usage_totals_many(*, requests: list[tuple]) -> list[dict[str, Decimal]]:
    """`usage_totals` for many `(tenant_id, start, end)` at once, in one query (the billing
    cycle reads a whole chunk of subscriptions this way); results in the order of `requests`."""
    results: list[dict[str, Decimal]] = [{} for _ in requests]
    columns: dict[str, list] = {k: [] for k in ("i", "tenant", *_PLAN_KEYS)}
    for index, (tenant_id, start, end) in enumerate(requests):
        if end <= start:
            continue
        columns["i"].append(index)
        columns["tenant"].append(tenant_id)
        for key, value in totals_plan(start, end).items():
            columns[key].append(value)
    if not columns["i"]:
        return results
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # The planner's generic estimate of the per-request ranges (~90,000 rows for 100
            # requests) crosses jit_optimize_above_cost: ~300 ms of JIT compilation for a query
            # that runs in ~7 ms. Off for the rest of the (invoicing) transaction only.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(_TOTALS_MANY_SQL, columns)
        rows = cursor.fetchall()
    for index, metric_type, aggregation, total, maximum, latest, distinct in rows:
        value = _value(aggregation, total, maximum, latest, distinct)
        if value is not None:
            results[index][metric_type] = value
    return results


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
        Subscription.objects.filter(tenant_id=tenant_id)
        .exclude(status="cancelled")
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
        overages, cost = overage_charge(
            measured=current, included=limit, unit_price=price, currency=currency
        )
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
