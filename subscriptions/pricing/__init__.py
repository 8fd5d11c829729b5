"""Pure pricing: no Django, no clock. Amounts are integer minor units."""

from subscriptions.pricing.coupons import CouponTerms, coupon_applies, coupon_discount
from subscriptions.pricing.engine import (
    MetricTerms,
    PlanTerms,
    overage_charge,
    price_discount,
    price_overages,
    price_period,
    price_plan_fee,
    price_upgrade,
    upgrade_proration_line,
)
from subscriptions.pricing.lines import PricedLine, PricedPeriod
from subscriptions.pricing.periods import (
    Period,
    add_months,
    billing_period,
    period_at,
    period_days,
    period_index_at,
)
from subscriptions.pricing.proration import prorate, remaining_days, remaining_fraction

__all__ = [
    "CouponTerms",
    "MetricTerms",
    "Period",
    "PlanTerms",
    "PricedLine",
    "PricedPeriod",
    "add_months",
    "billing_period",
    "coupon_applies",
    "coupon_discount",
    "overage_charge",
    "period_at",
    "period_days",
    "period_index_at",
    "price_discount",
    "price_overages",
    "price_period",
    "price_plan_fee",
    "price_upgrade",
    "prorate",
    "remaining_days",
    "remaining_fraction",
    "upgrade_proration_line",
]
