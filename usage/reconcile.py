"""Recompute the hourly, daily and edge rollups from raw events and list every difference
(usage_reconcile)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection

from usage import sql

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
    """Every (tenant, metric, hour) whose hourly rollups, every (tenant, metric, day) whose
    daily rollup and every registered boundary whose edge rollups differ from the raw events
    (`hour` holds the day's midnight for kind 'daily', the boundary for kind 'edge'). With a
    period, the whole UTC hours, resp. days, touching [start, end) are compared."""
    hours = (
        _floor_hour(start) if start is not None else None,
        _ceil_hour(end) if end is not None else None,
    )
    days = (
        _floor_day(start) if start is not None else None,
        _ceil_day(end) if end is not None else None,
    )
    params = {"tenant": tenant_id, "h0": hours[0], "h1": hours[1], "d0": days[0], "d1": days[1]}

    def where(column: str, low: str, high: str, tenant: str = "tenant_id"):
        """Conditions on the tenant and on `column` within [low, high) (bounds when given)."""
        parts = [f"{tenant} = %(tenant)s"] if tenant_id is not None else []
        parts += [f"{column} >= %({low})s"] * (params[low] is not None)
        parts += [f"{column} < %({high})s"] * (params[high] is not None)
        return sql.conditions(*parts)

    events_in_hours = where("timestamp", "h0", "h1")
    checks = (
        sql.rollup_diff(
            bucket="hour", kind="hourly", rollups="hourly",
            event_filter=events_in_hours, rollup_filter=where("hour", "h0", "h1"),
        ),
        sql.rollup_diff(
            bucket="day", kind="daily", rollups="daily",
            event_filter=where("timestamp", "d0", "d1"), rollup_filter=where("day", "d0", "d1"),
        ),
        sql.unique_diff(event_filter=events_in_hours, rollup_filter=where("hour", "h0", "h1")),
        sql.edge_diff(boundary_filter=where("b.boundary", "h0", "h1", tenant="b.tenant_id")),
    )  # fmt: skip
    differences = []
    with connection.cursor() as cursor:
        for statement in checks:
            cursor.execute(statement, params)
            differences.extend(Difference(*row) for row in cursor.fetchall())
    return differences
