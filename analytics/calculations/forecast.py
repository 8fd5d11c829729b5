"""Usage figures (pure): a window's usage against the plan's limit with its trend, and the
forecast of a billing period's usage to its end.

Quantities are `Decimal` (as measured), money integer minor units rounded half-up once per
metric (the invoices' rule, `subscriptions.pricing.overage_charge`).
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from subscriptions.pricing import overage_charge

# Aggregations whose figure accumulates over the period (sum of events; distinct keys seen so
# far): a longer window holds more of them, and their period figure grows with time.
ACCUMULATING = frozenset({"sum", "unique_count"})
# Linear extrapolation only for sums: distinct keys do not grow linearly (a user seen on day
# 1 is not new on day 2), and `max`/`latest` are levels. Those forecast as their current value.
EXTRAPOLATED = frozenset({"sum"})

PERIOD_PATTERN = re.compile(r"^([1-9]\d{0,2})d$")
MAX_PERIOD_DAYS = 366
DAYS_PER_PERIOD = 30  # a month, to compare a window of N days with a monthly limit
QUANTUM = Decimal("0.000001")  # the usage tables' precision


class PeriodInvalid(ValueError):
    pass


def period_days_parse(text: str | None, *, default: int = 30) -> int:
    """`30d` -> 30. Days from 1 to `MAX_PERIOD_DAYS`; anything else raises `PeriodInvalid`."""
    if text is None or text == "":
        return default
    match = PERIOD_PATTERN.match(text.strip())
    if not match or int(match.group(1)) > MAX_PERIOD_DAYS:
        raise PeriodInvalid(f"Use a number of days followed by d, from 1d to {MAX_PERIOD_DAYS}d.")
    return int(match.group(1))


def _quantize(value: Decimal | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(QUANTUM, rounding=ROUND_HALF_UP).normalize() + Decimal(0)


def change_pct(*, previous: Decimal | int, current: Decimal | int) -> float | None:
    """(current - previous) / previous in percent, one decimal; None when previous is 0."""
    if not previous:
        return None
    exact = (Fraction(current) - Fraction(previous)) * 100 / Fraction(previous)
    return float(_quantize(exact).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def window_limit(*, included: Decimal, aggregation: str, days: int) -> Decimal:
    """A monthly limit as it applies to a window of `days`: accumulating aggregations scale by
    days / 30 (30 days: the limit itself); levels (max, latest) do not scale."""
    if aggregation in ACCUMULATING:
        return _quantize(Fraction(included) * days / DAYS_PER_PERIOD)
    return included


@dataclass(frozen=True, slots=True)
class WindowUsage:
    metric: str
    aggregation: str
    total: Decimal
    limit: Decimal
    overage: Decimal
    unit_price_cents: Decimal
    overage_revenue: int
    previous_total: Decimal
    previous_overage_revenue: int
    change: Decimal
    change_pct: float | None


def window_usage(
    *,
    metric: str,
    aggregation: str,
    total: Decimal,
    previous_total: Decimal,
    included: Decimal,
    unit_price: Decimal,
    days: int,
    currency: str,
) -> WindowUsage:
    """One metric over a window of `days` and over the window of the same length before it."""
    limit = window_limit(included=included, aggregation=aggregation, days=days)
    overage, revenue = overage_charge(
        measured=total, included=limit, unit_price=unit_price, currency=currency
    )
    _, previous_revenue = overage_charge(
        measured=previous_total, included=limit, unit_price=unit_price, currency=currency
    )
    return WindowUsage(
        metric=metric,
        aggregation=aggregation,
        total=total,
        limit=limit,
        overage=overage,
        unit_price_cents=unit_price,
        overage_revenue=revenue,
        previous_total=previous_total,
        previous_overage_revenue=previous_revenue,
        change=total - previous_total,
        change_pct=change_pct(previous=previous_total, current=total),
    )


@dataclass(frozen=True, slots=True)
class MetricForecast:
    metric: str
    aggregation: str
    current: Decimal
    limit: Decimal
    unit_price_cents: Decimal
    overage_now: Decimal
    overage_cost_now: int
    forecast: Decimal
    forecast_overage: Decimal
    forecast_overage_cost: int


def forecast_metric(
    *,
    metric: str,
    aggregation: str,
    current: Decimal,
    included: Decimal,
    unit_price: Decimal,
    currency: str,
    elapsed_seconds: int,
    period_seconds: int,
) -> MetricForecast:
    """The period's figure at its end: a sum grows at the pace so far (current x period /
    elapsed, to 6 decimals); max, latest and distinct counts stay at their current value."""
    forecast = current
    if aggregation in EXTRAPOLATED and 0 < elapsed_seconds < period_seconds:
        forecast = _quantize(Fraction(current) * period_seconds / elapsed_seconds)
    overage_now, cost_now = overage_charge(
        measured=current, included=included, unit_price=unit_price, currency=currency
    )
    overage, cost = overage_charge(
        measured=forecast, included=included, unit_price=unit_price, currency=currency
    )
    return MetricForecast(
        metric=metric,
        aggregation=aggregation,
        current=current,
        limit=included,
        unit_price_cents=unit_price,
        overage_now=overage_now,
        overage_cost_now=cost_now,
        forecast=forecast,
        forecast_overage=overage,
        forecast_overage_cost=cost,
    )
