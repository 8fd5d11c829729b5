"""Reads: aggregated usage over a period, current usage of a tenant, event lists.

Aggregations over a half-open period [start, end): `sum`, `max`, `latest` (the value of the
newest event by timestamp; when several share it, the largest of their values) and
`unique_count` (distinct `unique_key`). Periods are not hour-aligned (a subscription may be
anchored at 16:23:45), so the whole UTC hours inside [start, end) come from the hourly rollups
and only the two partial edge hours from raw events (an index range scan per metric on
(tenant, metric, timestamp)). The result is exact for all four aggregations and costs one query.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from billing_project.shared.errors import Conflict
from billing_project.shared.money import round_minor
from subscriptions.models import Metric, PlanMetric, Subscription
from usage import portable
from usage.models import UsageEvent, UsageHourly, UsageHourlyUnique

_HOUR = timedelta(hours=1)
_METRICS = Metric._meta.db_table
_EVENTS = UsageEvent._meta.db_table
_HOURLY = UsageHourly._meta.db_table
_HOURLY_UNIQUE = UsageHourlyUnique._meta.db_table

# Parts: whole hours from rollups (+ distinct keys), edge ranges from raw events.
_TOTALS_SQL = f"""
WITH parts AS (
  SELECT metric_id, sum_value AS s, max_value AS mx, latest_at AS la, latest_value AS lv,
         NULL::text AS k
    FROM {_HOURLY}
   WHERE tenant_id = %(tenant)s AND hour >= %(h0)s AND hour < %(h1)s
  UNION ALL
  SELECT metric_id, NULL, NULL, NULL, NULL, unique_key
    FROM {_HOURLY_UNIQUE}
   WHERE tenant_id = %(tenant)s AND hour >= %(h0)s AND hour < %(h1)s
  UNION ALL
  SELECT m.id, e.quantity, e.quantity, e.timestamp, e.quantity,
         CASE WHEN m.aggregation = 'unique_count' THEN e.unique_key END
    FROM {_METRICS} m
    CROSS JOIN LATERAL (
      SELECT quantity, timestamp, unique_key FROM {_EVENTS}
       WHERE tenant_id = %(tenant)s AND metric_id = m.id
         AND timestamp >= %(a1)s AND timestamp < %(b1)s
      UNION ALL
      SELECT quantity, timestamp, unique_key FROM {_EVENTS}
       WHERE tenant_id = %(tenant)s AND metric_id = m.id
         AND timestamp >= %(a2)s AND timestamp < %(b2)s
    ) e
)
SELECT m.metric_type, m.aggregation, sum(p.s), max(p.mx),
       (array_agg(p.lv ORDER BY p.la DESC NULLS LAST, p.lv DESC NULLS LAST))[1],
       count(DISTINCT p.k)
  FROM parts p JOIN {_METRICS} m ON m.id = p.metric_id
 GROUP BY m.metric_type, m.aggregation
"""  # noqa: S608


def _floor_hour(instant: datetime) -> datetime:
    instant = instant.astimezone(UTC)
    return instant.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(instant: datetime) -> datetime:
    floor = _floor_hour(instant)
    return floor if floor == instant else floor + _HOUR


def totals_plan(start: datetime, end: datetime) -> dict:
    """The query's ranges: rollup hours [h0, h1) and raw edges [a1, b1), [a2, b2)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    h0, h1 = _ceil_hour(start), _floor_hour(end)
    if h0 < h1:
        return {"h0": h0, "h1": h1, "a1": start, "b1": h0, "a2": h1, "b2": end}
    return {"h0": start, "h1": start, "a1": start, "b1": end, "a2": end, "b2": end}


def usage_totals(*, tenant_id, start: datetime, end: datetime) -> dict[str, Decimal]:
    """metric_type -> its aggregation over [start, end), for every metric with events there.

    One query, reading rollups for whole hours and raw events only in the partial edge hours.
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


# The same parts for many (tenant, period) requests at once: `i` is the request's position.
_TOTALS_MANY_SQL = f"""
WITH req AS MATERIALIZED (
  SELECT * FROM unnest(%(i)s::int[], %(tenant)s::uuid[], %(h0)s::timestamptz[],
                       %(h1)s::timestamptz[], %(a1)s::timestamptz[], %(b1)s::timestamptz[],
                       %(a2)s::timestamptz[], %(b2)s::timestamptz[])
         AS r(i, tenant, h0, h1, a1, b1, a2, b2)
),
parts AS (
  SELECT r.i, h.metric_id, h.sum_value AS s, h.max_value AS mx, h.latest_at AS la,
         h.latest_value AS lv, NULL::text AS k
    FROM req r JOIN {_HOURLY} h
      ON h.tenant_id = r.tenant AND h.hour >= r.h0 AND h.hour < r.h1
  UNION ALL
  SELECT r.i, u.metric_id, NULL, NULL, NULL, NULL, u.unique_key
    FROM req r JOIN {_HOURLY_UNIQUE} u
      ON u.tenant_id = r.tenant AND u.hour >= r.h0 AND u.hour < r.h1
  UNION ALL
  SELECT r.i, m.id, e.quantity, e.quantity, e.timestamp, e.quantity,
         CASE WHEN m.aggregation = 'unique_count' THEN e.unique_key END
    FROM req r
    CROSS JOIN {_METRICS} m
    CROSS JOIN LATERAL (
      SELECT quantity, timestamp, unique_key FROM {_EVENTS}
       WHERE r.a1 < r.b1 AND tenant_id = r.tenant AND metric_id = m.id
         AND timestamp >= r.a1 AND timestamp < r.b1
      UNION ALL
      SELECT quantity, timestamp, unique_key FROM {_EVENTS}
       WHERE r.a2 < r.b2 AND tenant_id = r.tenant AND metric_id = m.id
         AND timestamp >= r.a2 AND timestamp < r.b2
    ) e
)
SELECT p.i, m.metric_type, m.aggregation, sum(p.s), max(p.mx),
       (array_agg(p.lv ORDER BY p.la DESC NULLS LAST, p.lv DESC NULLS LAST))[1],
       count(DISTINCT p.k)
  FROM parts p JOIN {_METRICS} m ON m.id = p.metric_id
 GROUP BY p.i, m.metric_type, m.aggregation
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
    columns: dict[str, list] = {k: [] for k in ("i", "tenant", "h0", "h1", "a1", "b1", "a2", "b2")}
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
