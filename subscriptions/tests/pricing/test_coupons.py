from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subscriptions.pricing.coupons import CouponTerms, coupon_applies, coupon_discount


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"percent_off": Decimal(10), "amount_off": 100},
        {"percent_off": Decimal(0)},
        {"percent_off": Decimal("100.01")},
        {"amount_off": 0},
        {"amount_off": 100, "duration": "repeating"},
        {"amount_off": 100, "duration": "repeating", "duration_in_months": 0},
        {"amount_off": 100, "duration": "once", "duration_in_months": 3},
        {"amount_off": 100, "duration": "weekly"},
        {"amount_off": 100, "currency": "xyz"},
    ],
)
def test_invalid_terms_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        CouponTerms(**kwargs)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        CouponTerms(percent_off=12.5)  # type: ignore[arg-type]


def test_duration() -> None:
    once = CouponTerms(percent_off=Decimal(20), duration="once")
    repeating = CouponTerms(percent_off=Decimal(20), duration="repeating", duration_in_months=2)
    forever = CouponTerms(amount_off=500, duration="forever")
    assert [coupon_applies(terms=once, periods_since_redemption=n) for n in range(3)] == [
        True,
        False,
        False,
    ]
    assert [coupon_applies(terms=repeating, periods_since_redemption=n) for n in range(3)] == [
        True,
        True,
        False,
    ]
    assert coupon_applies(terms=forever, periods_since_redemption=1000)


def test_discounts() -> None:
    twenty = CouponTerms(percent_off=Decimal(20))
    assert coupon_discount(terms=twenty, fee=5000, currency="usd") == 1000
    assert (
        coupon_discount(terms=CouponTerms(percent_off=Decimal(10)), fee=1005, currency="usd") == 101
    )
    assert (
        coupon_discount(terms=CouponTerms(percent_off=Decimal(100)), fee=999, currency="usd") == 999
    )
    ten_dollars = CouponTerms(amount_off=1000, currency="USD")
    assert coupon_discount(terms=ten_dollars, fee=5000, currency="usd") == 1000
    assert coupon_discount(terms=ten_dollars, fee=600, currency="usd") == 600
    assert coupon_discount(terms=ten_dollars, fee=5000, currency="eur") == 0
    assert coupon_discount(terms=ten_dollars, fee=0, currency="usd") == 0


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.builds(
            lambda p: CouponTerms(percent_off=p),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
        ),
        st.builds(lambda a: CouponTerms(amount_off=a), st.integers(1, 10**9)),
    ),
    st.integers(-100, 10**9),
)
def test_discount_stays_within_the_fee(terms: CouponTerms, fee: int) -> None:
    assert 0 <= coupon_discount(terms=terms, fee=fee, currency="usd") <= max(fee, 0)
