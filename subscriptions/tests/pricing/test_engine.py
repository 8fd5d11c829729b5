import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from subscriptions.pricing import (
    CouponTerms,
    MetricTerms,
    Period,
    PlanTerms,
    PricedLine,
    PricedPeriod,
    billing_period,
    price_overages,
    price_period,
    price_plan_fee,
)

DEVELOPER = PlanTerms(
    plan_name="Developer",
    amount=5000,
    currency="usd",
    metrics=(
        MetricTerms(metric="api_calls", included=Decimal(10000), unit_price=Decimal(1)),
        MetricTerms(metric="storage_gb", included=Decimal(10), unit_price=Decimal(500)),
    ),
)
ANCHOR = datetime(2026, 1, 31, tzinfo=UTC)
USAGE = {"storage_gb": Decimal(12), "api_calls": Decimal(15000)}


def period(index: int):
    return billing_period(anchor=ANCHOR, tz="UTC", index=index)


def test_period_invoice_has_fee_in_advance_and_overages_in_arrears() -> None:
    priced = price_period(plan=DEVELOPER, fee_period=period(1), usage_period=period(0), usage=USAGE)
    assert [(line.kind, line.metric, line.amount) for line in priced.lines] == [
        ("plan_fee", None, 5000),
        ("overage", "api_calls", 5000),
        ("overage", "storage_gb", 1000),
    ]
    assert [line.period for line in priced.lines] == [period(1), period(0), period(0)]
    assert (priced.subtotal, priced.discount, priced.total) == (11000, 0, 11000)
    assert priced.currency == "usd"


def test_overage_explanation() -> None:
    (storage,) = price_overages(
        plan=DEVELOPER, usage={"storage_gb": Decimal(12), "api_calls": Decimal(3)}, period=period(0)
    )
    assert storage.explanation() == {
        "kind": "overage",
        "period_start": "2026-01-31T00:00:00Z",
        "period_end": "2026-02-28T00:00:00Z",
        "metric": "storage_gb",
        "quantity": "2",
        "unit_price": "500",
        "included": "10",
        "measured": "12",
    }
    json.dumps(storage.explanation())


def test_fractional_unit_prices_round_once_per_line_half_up() -> None:
    plan = PlanTerms(
        plan_name="Half",
        amount=0,
        currency="usd",
        metrics=(
            MetricTerms(metric="ai_requests", included=Decimal(0), unit_price=Decimal("0.5")),
        ),
    )
    (line,) = price_overages(plan=plan, usage={"ai_requests": Decimal(3)}, period=period(0))
    assert (line.quantity, line.unit_price, line.amount) == (Decimal(3), Decimal("0.5"), 2)


def test_no_overage_lines_at_or_under_the_included_quantity() -> None:
    usage = {"api_calls": Decimal(10000), "storage_gb": Decimal(0), "unknown": Decimal(99)}
    assert price_overages(plan=DEVELOPER, usage=usage, period=period(0)) == ()
    assert price_overages(plan=DEVELOPER, usage={}, period=period(0)) == ()


def test_a_repeating_coupon_discounts_the_fee_for_its_months_only() -> None:
    coupon = CouponTerms(percent_off=Decimal(20), duration="repeating", duration_in_months=2)
    totals = []
    for index in range(3):
        priced = price_period(
            plan=DEVELOPER,
            fee_period=period(index + 1),
            usage_period=period(index),
            usage=USAGE,
            coupon=coupon,
            coupon_period_index=index,
        )
        totals.append((priced.subtotal, priced.discount, priced.total))
    assert totals == [(11000, 1000, 10000), (11000, 1000, 10000), (11000, 0, 11000)]
    first = price_period(
        plan=DEVELOPER, fee_period=period(1), usage_period=None, usage=USAGE, coupon=coupon
    )
    assert [(line.kind, line.amount) for line in first.lines] == [
        ("plan_fee", 5000),
        ("discount", -1000),
    ]


def test_final_invoice_has_overages_only() -> None:
    priced = price_period(plan=DEVELOPER, fee_period=None, usage_period=period(0), usage=USAGE)
    assert {line.kind for line in priced.lines} == {"overage"}
    assert priced.total == 6000


def test_plan_fee_whole_or_prorated() -> None:
    whole = price_plan_fee(plan=DEVELOPER, period=period(0))
    assert (whole.kind, whole.amount, whole.numerator) == ("plan_fee", 5000, None)
    full = price_plan_fee(plan=DEVELOPER, period=period(0), remaining_days=28, period_days=28)
    assert full.kind == "plan_fee"
    part = price_plan_fee(plan=DEVELOPER, period=period(0), remaining_days=7, period_days=28)
    assert (part.kind, part.amount, part.quantity * part.unit_price) == ("proration", 1250, 1250)
    assert part.explanation()["fraction"] == "7/28"
    with pytest.raises(ValueError):
        price_plan_fee(plan=DEVELOPER, period=period(0), remaining_days=7)
    with pytest.raises(ValueError):
        price_plan_fee(plan=DEVELOPER, period=period(0), remaining_days=29, period_days=28)


def test_priced_period_totals() -> None:
    lines = (
        PricedLine(
            kind="plan_fee",
            description="fee",
            quantity=Decimal(1),
            unit_price=Decimal(100),
            amount=100,
        ),
        PricedLine(
            kind="discount",
            description="off",
            quantity=Decimal(1),
            unit_price=Decimal(-30),
            amount=-30,
        ),
    )
    priced = PricedPeriod(lines=lines, currency="usd")
    assert (priced.subtotal, priced.discount, priced.total) == (100, 30, 70)
    assert lines[0].explanation() == {"kind": "plan_fee"}


def test_float_usage_is_refused() -> None:
    with pytest.raises(TypeError):
        price_overages(plan=DEVELOPER, usage={"api_calls": 1.5}, period=period(0))  # type: ignore[dict-item]


def test_overage_descriptions_group_thousands():
    from subscriptions.pricing.lines import grouped

    assert [grouped(Decimal(v)) for v in ("30000", "2.50", "0", "1234567.125")] == [
        "30,000",
        "2.5",
        "0",
        "1,234,567.125",
    ]


def test_overage_charge_is_the_one_overage_rule():
    from subscriptions.pricing import overage_charge

    assert overage_charge(
        measured=Decimal("1500.5"),
        included=Decimal(1000),
        unit_price=Decimal("0.3"),
        currency="usd",
    ) == (Decimal("500.5"), 150)  # 150.15 rounds half-up once, to 150
    assert overage_charge(
        measured=Decimal(10), included=Decimal(20), unit_price=Decimal(5), currency="usd"
    ) == (Decimal(0), 0)


def test_upgrade_proration_line_matches_price_upgrade():
    from subscriptions.pricing import upgrade_proration_line

    line = upgrade_proration_line(
        from_plan="Developer",
        to_plan="Team",
        amount=4839,
        remaining=10,
        total=31,
        period=Period(
            start=datetime(2026, 1, 22, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC)
        ),
    )
    assert line.description == "Upgrade Developer to Team, 10 of 31 days"
    assert (line.kind, line.amount, line.explanation()["fraction"]) == ("proration", 4839, "10/31")
