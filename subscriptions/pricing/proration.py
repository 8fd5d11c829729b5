"""Proration by whole local days, kept exact as fractions."""

from datetime import datetime
from fractions import Fraction

from billing_project.shared.money import round_minor
from subscriptions.pricing.periods import Period, local_date, period_days


def remaining_days(*, period: Period, at: datetime, tz: str) -> int:
    """Whole local days from the date of `at` to the period's end date, `at` clamped into it."""
    total = period_days(period=period, tz=tz)
    if at <= period.start:
        return total
    if at >= period.end:
        return 0
    days = (local_date(period.end, tz) - local_date(at, tz)).days
    return min(max(days, 0), total)


def remaining_fraction(*, period: Period, at: datetime, tz: str) -> Fraction:
    return Fraction(remaining_days(period=period, at=at, tz=tz), period_days(period=period, tz=tz))


def prorate(*, amount: int, fraction: Fraction, currency: str) -> int:
    return round_minor(amount * Fraction(fraction), currency)
