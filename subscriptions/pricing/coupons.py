"""Coupon terms: a percent or a fixed amount off plan fees, for a duration in periods."""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from billing_project.shared.money import currency_exponent, round_minor

DURATIONS = ("once", "repeating", "forever")


@dataclass(frozen=True, slots=True)
class CouponTerms:
    percent_off: Decimal | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration: str = "once"
    duration_in_months: int | None = None

    def __post_init__(self) -> None:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("exactly one of percent_off and amount_off is required")
        if self.percent_off is not None:
            if isinstance(self.percent_off, bool) or not isinstance(
                self.percent_off, Decimal | int
            ):
                raise TypeError("percent_off must be a Decimal")
            percent = Decimal(self.percent_off)
            if not (percent.is_finite() and 0 < percent <= 100):
                raise ValueError("percent_off must be in (0, 100]")
            object.__setattr__(self, "percent_off", percent)
        if self.amount_off is not None:
            if isinstance(self.amount_off, bool) or not isinstance(self.amount_off, int):
                raise TypeError("amount_off must be an int of minor units")
            if self.amount_off <= 0:
                raise ValueError("amount_off must be > 0")
        if self.currency is not None:
            currency_exponent(self.currency)
            object.__setattr__(self, "currency", self.currency.lower())
        if self.duration not in DURATIONS:
            raise ValueError(f"duration must be one of {DURATIONS}")
        if self.duration == "repeating":
            if self.duration_in_months is None or self.duration_in_months < 1:
                raise ValueError("a repeating coupon needs duration_in_months >= 1")
        elif self.duration_in_months is not None:
            raise ValueError("duration_in_months is only for repeating coupons")


def coupon_applies(*, terms: CouponTerms, periods_since_redemption: int) -> bool:
    if periods_since_redemption < 0:
        raise ValueError("periods_since_redemption must be >= 0")
    if terms.duration == "once":
        return periods_since_redemption == 0
    if terms.duration == "repeating":
        return periods_since_redemption < (terms.duration_in_months or 0)
    return True


def coupon_discount(*, terms: CouponTerms, fee: int, currency: str) -> int:
    """Discount on `fee` in minor units, within [0, fee].

    An amount-off coupon in another currency than the fee's discounts nothing.
    """
    currency_exponent(currency)
    if fee <= 0:
        return 0
    if terms.percent_off is not None:
        discount = round_minor(fee * Fraction(terms.percent_off) / 100, currency)
    else:
        if terms.currency is not None and terms.currency != currency.lower():
            return 0
        discount = terms.amount_off or 0
    return min(max(discount, 0), fee)
