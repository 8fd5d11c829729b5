"""Alert rules' arithmetic (pure): periods, their buckets, comparisons, rates."""

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

COMPARISONS = {
    "gt": lambda value, threshold: value > threshold,
    "gte": lambda value, threshold: value >= threshold,
    "lt": lambda value, threshold: value < threshold,
    "lte": lambda value, threshold: value <= threshold,
}
COMPARISON_SYMBOLS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

_PERIOD = re.compile(r"^([1-9][0-9]{0,3})([mhd])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
MIN_PERIOD = timedelta(minutes=5)  # beat evaluates every 5 minutes
MAX_PERIOD = timedelta(days=31)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PeriodError(ValueError):
    pass


def parse_period(text: str) -> timedelta:
    """ "15m", "1h", "1d" (minutes, hours, days): between 5 minutes and 31 days, a whole number
    of minutes."""
    match = _PERIOD.match(text or "")
    if match is None:
        raise PeriodError('Use a number and a unit: "15m", "1h", "1d".')
    period = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if not MIN_PERIOD <= period <= MAX_PERIOD:
        raise PeriodError("The period must be between 5m and 31d.")
    return period


def period_bucket(*, now: datetime, period: timedelta) -> tuple[datetime, datetime]:
    """The bucket of `period` holding `now`: [start, start + period), buckets counted from
    1970-01-01 00:00 UTC (so "1h" buckets start on the hour, "1d" at midnight UTC)."""
    seconds = int(period.total_seconds())
    offset = int((now - _EPOCH).total_seconds()) // seconds * seconds
    start = _EPOCH + timedelta(seconds=offset)
    return start, start + period


def breaches(*, value: Decimal | None, comparison: str, threshold: Decimal) -> bool:
    """A value over (under) its threshold; no value (no data in the window) never breaches."""
    if value is None:
        return False
    return COMPARISONS[comparison](value, threshold)


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, 2 decimals half-up; None without a whole (no data)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def seconds_from_ms(ms: int | None) -> Decimal | None:
    if ms is None:
        return None
    return (Decimal(ms) / 1000).quantize(Decimal("0.001"), ROUND_HALF_UP)
