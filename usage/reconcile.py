"""Recompute the hourly rollups from raw events and list every difference (usage_reconcile)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from usage import portable
from usage.models import UsageEvent, UsageHourly, UsageHourlyUnique
from usage.selectors import _ceil_hour, _floor_hour

_EVENTS = UsageEvent._meta.db_table
_HOURLY = UsageHourly._meta.db_table
_HOURLY_UNIQUE = UsageHourlyUnique._meta.db_table

_HOURLY_DIFF_SQL = """
WITH r AS (
  SELECT tenant_id, metric_id, date_trunc('hour', timestamp, 'UTC') AS hour,
         sum(quantity) AS sum_value, max(quantity) AS max_value, count(*) AS event_count,
         max(timestamp) AS latest_at,
         (array_agg(quantity ORDER BY timestamp DESC, quantity DESC))[1] AS latest_value
    FROM {events} WHERE {event_filter}
   GROUP BY 1, 2, 3
), h AS (SELECT * FROM {hourly} WHERE {hourly_filter})
SELECT 'hourly', tenant_id, metric_id, hour,
       concat_ws(' ', r.sum_value, r.max_value, r.event_count, r.latest_at, r.latest_value),
       concat_ws(' ', h.sum_value, h.max_value, h.event_count, h.latest_at, h.latest_value)
  FROM r FULL OUTER JOIN h USING (tenant_id, metric_id, hour)
 WHERE r.sum_value IS DISTINCT FROM h.sum_value OR r.max_value IS DISTINCT FROM h.max_value
    OR r.event_count IS DISTINCT FROM h.event_count OR r.latest_at IS DISTINCT FROM h.latest_at
    OR r.latest_value IS DISTINCT FROM h.latest_value
"""

_UNIQUE_DIFF_SQL = """
WITH r AS (
  SELECT DISTINCT e.tenant_id, e.metric_id, date_trunc('hour', e.timestamp, 'UTC') AS hour,
         e.unique_key, true AS present
    FROM {events} e JOIN subscriptions_metric m ON m.id = e.metric_id
   WHERE m.aggregation = 'unique_count' AND e.unique_key IS NOT NULL AND {event_filter}
), u AS (SELECT *, true AS present FROM {hourly_unique} WHERE {hourly_filter})
SELECT 'unique', tenant_id, metric_id, hour,
       CASE WHEN r.present THEN unique_key END, CASE WHEN u.present THEN unique_key END
  FROM r FULL OUTER JOIN u USING (tenant_id, metric_id, hour, unique_key)
 WHERE r.present IS NULL OR u.present IS NULL
"""


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    tenant_id: object
    metric_id: object
    hour: datetime
    from_events: str | None
    from_rollups: str | None


def usage_reconcile(
    *, tenant_id=None, start: datetime | None = None, end: datetime | None = None
) -> list[Difference]:
    """Every (tenant, metric, hour) whose rollups differ from its raw events. With a period,
    the whole UTC hours touching [start, end) are compared."""
    if portable.portable_path():
        rows = portable.reconcile(
            tenant_id=tenant_id,
            start=_floor_hour(start) if start is not None else None,
            end=_ceil_hour(end) if end is not None else None,
        )
        return [Difference(*row) for row in rows]
    event_filter, hourly_filter, params = ["true"], ["true"], {}
    if tenant_id is not None:
        event_filter.append("tenant_id = %(tenant)s")
        hourly_filter.append("tenant_id = %(tenant)s")
        params["tenant"] = tenant_id
    if start is not None:
        event_filter.append("timestamp >= %(start)s")
        hourly_filter.append("hour >= %(start)s")
        params["start"] = _floor_hour(start)
    if end is not None:
        event_filter.append("timestamp < %(end)s")
        hourly_filter.append("hour < %(end)s")
        params["end"] = _ceil_hour(end)
    names = {"events": _EVENTS, "hourly": _HOURLY, "hourly_unique": _HOURLY_UNIQUE}
    differences = []
    with connection.cursor() as cursor:
        for template in (_HOURLY_DIFF_SQL, _UNIQUE_DIFF_SQL):
            sql = template.format(
                event_filter=" AND ".join(event_filter),
                hourly_filter=" AND ".join(hourly_filter),
                **names,
            )
            cursor.execute(sql, params)
            differences.extend(Difference(*row) for row in cursor.fetchall())
    return differences
