"""Monthly billing periods anchored on a subscription's start, in the tenant's timezone."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

DateT = TypeVar("DateT", date, datetime)


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True, slots=True)
class Period:
    """Half-open interval [start, end) of UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
        if self.start >= self.end:
            raise ValueError("period start must be before its end")

    def contains(self, instant: datetime) -> bool:
        _require_aware("instant", instant)
        return self.start <= instant < self.end


def add_months(anchor_local: DateT, months: int) -> DateT:
    """Move by calendar months keeping the anchor's day, clamped to the month's length."""
    total = anchor_local.year * 12 + anchor_local.month - 1 + months
    year, month = divmod(total, 12)
    day = min(anchor_local.day, calendar.monthrange(year, month + 1)[1])
    return anchor_local.replace(year=year, month=month + 1, day=day)


def _boundary(*, anchor: datetime, zone: ZoneInfo, index: int) -> datetime:
    """UTC instant where period `index` starts.

    Period 0 starts at the anchor itself. Later boundaries are the anchor's local wall-clock time
    on the shifted day, read with fold=0: a wall time inside a DST gap moves forward by the gap,
    an ambiguous one takes its first occurrence. Each boundary is computed once from its index,
    so period n's end is exactly period n+1's start.
    """
    if index == 0:
        return anchor.astimezone(UTC)
    wall = anchor.astimezone(zone).replace(tzinfo=None, fold=0)
    return add_months(wall, index).replace(tzinfo=zone).astimezone(UTC)


def billing_period(*, anchor: datetime, tz: str, index: int) -> Period:
    _require_aware("anchor", anchor)
    if index < 0:
        raise ValueError("period index must be >= 0")
    zone = ZoneInfo(tz)
    return Period(
        start=_boundary(anchor=anchor, zone=zone, index=index),
        end=_boundary(anchor=anchor, zone=zone, index=index + 1),
    )


def period_index_at(*, anchor: datetime, tz: str, instant: datetime) -> int:
    _require_aware("anchor", anchor)
    _require_aware("instant", instant)
    if instant < anchor:
        raise ValueError("instant is before the subscription's anchor")
    zone = ZoneInfo(tz)
    start_local, at_local = anchor.astimezone(zone), instant.astimezone(zone)
    index = max(0, (at_local.year - start_local.year) * 12 + at_local.month - start_local.month)
    while index > 0 and _boundary(anchor=anchor, zone=zone, index=index) > instant:
        index -= 1
    while _boundary(anchor=anchor, zone=zone, index=index + 1) <= instant:
        index += 1
    return index


def period_at(*, anchor: datetime, tz: str, instant: datetime) -> Period:
    index = period_index_at(anchor=anchor, tz=tz, instant=instant)
    return billing_period(anchor=anchor, tz=tz, index=index)


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def period_days(*, period: Period, tz: str) -> int:
    return (local_date(period.end, tz) - local_date(period.start, tz)).days
