"""The pure insights calculations: usage window, forecast, payment health, CAC (no database)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.calculations import acquisition, forecast, health

DAY = 86400


@pytest.mark.parametrize("text", ["1d", "30d", "366d", " 90d "])
def test_period_accepts_days(text):
    assert forecast.period_days_parse(text) == int(text.strip()[:-1])


@pytest.mark.parametrize("text", ["0d", "367d", "30", "d", "-5d", "30h", "1.5d", "1000d", "030d"])
def test_period_refuses_anything_else(text):
    with pytest.raises(forecast.PeriodInvalid):
        forecast.period_days_parse(text)


def test_period_defaults_to_30_days():
    assert forecast.period_days_parse(None) == forecast.period_days_parse("") == 30


def test_window_limit_scales_accumulating_metrics_only():
    assert forecast.window_limit(included=Decimal(10000), aggregation="sum", days=30) == 10000
    assert forecast.window_limit(included=Decimal(10000), aggregation="sum", days=90) == 30000
    assert forecast.window_limit(included=Decimal(500), aggregation="sum", days=7) == Decimal(
        "116.666667"
    )
    assert forecast.window_limit(included=Decimal(3), aggregation="unique_count", days=60) == 6
    assert forecast.window_limit(included=Decimal(10), aggregation="max", days=90) == 10
    assert forecast.window_limit(included=Decimal(10), aggregation="latest", days=7) == 10


def test_window_usage_overage_revenue_and_trend():
    row = forecast.window_usage(
        metric="api_calls",
        aggregation="sum",
        total=Decimal(16000),
        previous_total=Decimal(6000),
        included=Decimal(10000),
        unit_price=Decimal("0.5"),
        days=30,
        currency="usd",
    )
    assert (row.total, row.limit, row.overage) == (16000, 10000, 6000)
    assert row.overage_revenue == 3000 and row.previous_overage_revenue == 0
    assert row.change == 10000 and row.change_pct == 166.7
    # Half a cent rounds up, once per metric.
    odd = forecast.window_usage(
        metric="api_calls",
        aggregation="sum",
        total=Decimal(10001),
        previous_total=Decimal(0),
        included=Decimal(10000),
        unit_price=Decimal("0.5"),
        days=30,
        currency="usd",
    )
    assert odd.overage_revenue == 1 and odd.change_pct is None


def test_change_pct():
    assert forecast.change_pct(previous=200, current=150) == -25.0
    assert forecast.change_pct(previous=3, current=4) == 33.3
    assert forecast.change_pct(previous=0, current=4) is None


def test_forecast_extrapolates_sums_linearly_and_keeps_levels():
    common = {"included": Decimal(10000), "unit_price": Decimal(1), "currency": "usd"}
    summed = forecast.forecast_metric(
        metric="api_calls",
        aggregation="sum",
        current=Decimal(6000),
        elapsed_seconds=10 * DAY,
        period_seconds=30 * DAY,
        **common,
    )
    assert summed.forecast == 18000 and summed.forecast_overage == 8000
    assert summed.forecast_overage_cost == 8000 and summed.overage_cost_now == 0
    for aggregation in ("max", "latest", "unique_count"):
        level = forecast.forecast_metric(
            metric="storage_gb",
            aggregation=aggregation,
            current=Decimal(12),
            included=Decimal(10),
            unit_price=Decimal(500),
            currency="usd",
            elapsed_seconds=DAY,
            period_seconds=30 * DAY,
        )
        assert level.forecast == 12 and level.forecast_overage == 2
        assert level.forecast_overage_cost == level.overage_cost_now == 1000


def test_forecast_at_period_start_and_after_its_end_is_the_current_figure():
    for elapsed in (0, 30 * DAY, 31 * DAY):
        f = forecast.forecast_metric(
            metric="api_calls",
            aggregation="sum",
            current=Decimal(5),
            included=Decimal(0),
            unit_price=Decimal(1),
            currency="usd",
            elapsed_seconds=elapsed,
            period_seconds=30 * DAY,
        )
        assert f.forecast == 5


@given(
    current=st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False),
    included=st.decimals(min_value=0, max_value=10**7, places=0, allow_nan=False),
    price=st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False),
    elapsed=st.integers(min_value=1, max_value=31 * DAY - 1),
)
def test_forecast_is_never_below_now_and_matches_the_linear_formula(
    current, included, price, elapsed
):
    period = 31 * DAY
    f = forecast.forecast_metric(
        metric="m",
        aggregation="sum",
        current=current,
        included=included,
        unit_price=price,
        currency="usd",
        elapsed_seconds=elapsed,
        period_seconds=period,
    )
    exact = Fraction(current) * period / elapsed
    assert abs(Fraction(f.forecast) - exact) <= Fraction(1, 2 * 10**6)
    assert f.forecast >= f.current
    assert f.forecast_overage == max(Decimal(0), f.forecast - included)
    assert f.forecast_overage_cost >= f.overage_cost_now >= 0
    # The cost is the overage at the price, rounded half-up once.
    assert abs(
        Fraction(f.forecast_overage_cost) - Fraction(f.forecast_overage) * Fraction(price)
    ) <= Fraction(1, 2)


def test_health_parts_and_caps():
    perfect = health.payment_health(failed_attempts=0, days_past_due=0, open_dunning_cases=0)
    assert (perfect.score, perfect.grade) == (100, "healthy")
    some = health.payment_health(failed_attempts=2, days_past_due=12, open_dunning_cases=1)
    assert some.failed_attempts.penalty == 20 and some.days_past_due.penalty == 12
    assert some.open_dunning_cases.penalty == 15
    assert (some.score, some.grade) == (53, "at_risk")
    worst = health.payment_health(failed_attempts=9, days_past_due=400, open_dunning_cases=5)
    assert (worst.score, worst.grade) == (0, "critical")
    assert (
        worst.failed_attempts.max_penalty
        + worst.days_past_due.max_penalty
        + (worst.open_dunning_cases.max_penalty)
        == 100
    )
    assert (
        health.payment_health(failed_attempts=0, days_past_due=-3, open_dunning_cases=0).score
        == 100
    )
    with pytest.raises(ValueError):
        health.payment_health(failed_attempts=-1, days_past_due=0, open_dunning_cases=0)


counts = st.integers(min_value=0, max_value=500)


@given(failed=counts, late=counts, cases=counts, more=st.integers(min_value=0, max_value=20))
def test_health_is_bounded_and_never_improves_with_worse_facts(failed, late, cases, more):
    base = health.payment_health(
        failed_attempts=failed, days_past_due=late, open_dunning_cases=cases
    )
    assert 0 <= base.score <= 100
    assert base.score == 100 - sum(
        p.penalty for p in (base.failed_attempts, base.days_past_due, base.open_dunning_cases)
    )
    for worse in (
        health.payment_health(
            failed_attempts=failed + more, days_past_due=late, open_dunning_cases=cases
        ),
        health.payment_health(
            failed_attempts=failed, days_past_due=late + more, open_dunning_cases=cases
        ),
        health.payment_health(
            failed_attempts=failed, days_past_due=late, open_dunning_cases=cases + more
        ),
    ):
        assert worse.score <= base.score


def test_cac_ratio_and_margin():
    assert acquisition.cac(spend=100000, new_customers=3) == 33333
    assert acquisition.cac(spend=5, new_customers=2) == 3  # 2.5 rounds half-up
    assert acquisition.cac(spend=100000, new_customers=0) is None
    assert acquisition.ratio(numerator=250000, denominator=80000) == 3.13
    assert acquisition.ratio(numerator=None, denominator=5) is None
    assert acquisition.ratio(numerator=5, denominator=None) is None
    assert acquisition.gross_margin(revenue=20000, cost=5000) == (15000, 75.0)
    assert acquisition.gross_margin(revenue=0, cost=5000) == (-5000, None)
    assert acquisition.gross_margin(revenue=30000, cost=40000) == (-10000, -33.3)
