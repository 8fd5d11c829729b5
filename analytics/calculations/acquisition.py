"""Unit economics (pure): CAC, LTV/CAC, gross margin. Money in integer minor units."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def _half_up(value: Fraction) -> int:
    magnitude = int(abs(value) + Fraction(1, 2))
    return -magnitude if value < 0 else magnitude


def cac(*, spend: int, new_customers: int) -> int | None:
    """Acquisition spend / new customers, rounded half-up to the minor unit; None without any
    new customer (spend with nobody acquired has no per-customer cost)."""
    if new_customers <= 0:
        return None
    return _half_up(Fraction(spend, new_customers))


def ratio(*, numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator to 2 decimals (LTV/CAC); None when either is missing or 0."""
    if numerator is None or not denominator:
        return None
    exact = Fraction(numerator, denominator)
    value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def gross_margin(*, revenue: int, cost: int) -> tuple[int, float | None]:
    """(revenue - cost, its percent of revenue to 1 decimal; None when revenue is 0)."""
    margin = revenue - cost
    if not revenue:
        return margin, None
    value = Decimal(margin * 100) / Decimal(revenue)
    return margin, float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
