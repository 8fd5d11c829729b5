"""Recompute the hourly and daily rollups from raw events and list every difference
(usage_reconcile)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from usage import portable
from usage.models import UsageDaily, UsageEvent, UsageHourly, UsageHourlyUnique
from usage.selectors import _ceil_day, _ceil_hour, _floor_day, _floor_hour

_EVENTS = UsageEvent._meta.db_table
_HOURLY = UsageHourly._meta.db_table
_HOURLY_UNIQUE = UsageHourlyUnique._meta.db_table
_DAILY = UsageDaily._meta.db_table

# `{bucket}`: 'hour' (usage_hourly) or 'day' (usage_daily); the kind reported is `{kind}`.
_ROLLUP_DIFF_SQL = """
WITH r AS (
  SELECT tenant_id, metric_id, date_trunc('{bucket}', timestamp, 'UTC') AS {bucket},
         sum(quantity) AS sum_value, max(quantity) AS max_value, count(*) AS event_count,
         max(timestamp) AS latest_at,
         (array_agg(quantity ORDER BY timestamp DESC, quantity DESC))[1] AS latest_value
    FROM {events} WHERE {event_filter}
   GROUP BY 1, 2, 3
), h AS (SELECT * FROM {rollups} WHERE {rollup_filter})
SELECT '{kind}', tenant_id, metric_id, {bucket},
       concat_ws(' ', r.sum_value, r.max_value, r.event_count, r.latest_at, r.latest_value),
       concat_ws(' ', h.sum_value, h.max_value, h.event_count, h.latest_at, h.latest_value)
  FROM r FULL OUTER JOIN h USING (tenant_id, metric_id, {bucket})
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
), u AS (SELECT *, true AS present FROM {hourly_unique} WHERE {rollup_filter})
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
    """Every (tenant, metric, hour) whose hourly rollups and every (tenant, metric, day) whose
    daily rollup differ from its raw events (`hour` holds the day's midnight for kind 'daily').
    With a period, the whole UTC hours, resp. days, touching [start, end) are compared."""
    if portable.portable_path():
        rows = portable.reconcile(tenant_id=tenant_id, start=start, end=end)
        return [Difference(*row) for row in rows]
    hours = (
        _floor_hour(start) if start is not None else None,
        _ceil_hour(end) if end is not None else None,
    )
    days = (
        _floor_day(start) if start is not None else None,
        _ceil_day(end) if end is not None else None,
    )
    checks = (
        (_ROLLUP_DIFF_SQL, {"bucket": "hour", "kind": "hourly", "rollups": _HOURLY}, hours),
        (_ROLLUP_DIFF_SQL, {"bucket": "day", "kind": "daily", "rollups": _DAILY}, days),
        (_UNIQUE_DIFF_SQL, {"hourly_unique": _HOURLY_UNIQUE}, hours),
    )
    differences = []
    with connection.cursor() as cursor:
        for template, names, (low, high) in checks:
            column = names.get("bucket", "hour")
            event_filter, rollup_filter, params = ["true"], ["true"], {}
            if tenant_id is not None:
                event_filter.append("tenant_id = %(tenant)s")
                rollup_filter.append("tenant_id = %(tenant)s")
                params["tenant"] = tenant_id
            if low is not None:
                event_filter.append("timestamp >= %(start)s")
                rollup_filter.append(f"{column} >= %(start)s")
                params["start"] = low
            if high is not None:
                event_filter.append("timestamp < %(end)s")
                rollup_filter.append(f"{column} < %(end)s")
                params["end"] = high
            sql = template.format(
                event_filter=" AND ".join(event_filter),
                rollup_filter=" AND ".join(rollup_filter),
                events=_EVENTS,
                **names,
            )
            cursor.execute(sql, params)
            differences.extend(Difference(*row) for row in cursor.fetchall())
    return differences
