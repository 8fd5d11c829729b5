from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from subscriptions.pricing.engine import PlanTerms, price_plan_fee, price_upgrade
from subscriptions.pricing.periods import Period, billing_period, period_days
from subscriptions.pricing.proration import prorate, remaining_days, remaining_fraction

DEVELOPER = PlanTerms(plan_name="Developer", amount=5000, currency="usd")
TEAM = PlanTerms(plan_name="Team", amount=20000, currency="usd")
ENTERPRISE = PlanTerms(plan_name="Enterprise", amount=80000, currency="usd")
APRIL = Period(start=datetime(2026, 4, 1, tzinfo=UTC), end=datetime(2026, 5, 1, tzinfo=UTC))
JANUARY = Period(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC))


def test_remaining_fraction_counts_local_days_and_clamps() -> None:
    at = datetime(2026, 4, 16, 10, tzinfo=UTC)  # day 16 of 30
    assert remaining_fraction(period=APRIL, at=at, tz="UTC") == Fraction(15, 30)
    assert remaining_fraction(period=APRIL, at=APRIL.start, tz="UTC") == 1
    assert remaining_fraction(period=APRIL, at=APRIL.start - timedelta(days=3), tz="UTC") == 1
    assert remaining_fraction(period=APRIL, at=APRIL.end, tz="UTC") == 0


def test_remaining_days_use_the_tenant_local_dates() -> None:
    la = "America/Los_Angeles"
    april = billing_period(anchor=datetime(2026, 4, 1, tzinfo=ZoneInfo(la)), tz=la, index=0)
    early = datetime(2026, 4, 16, 3, tzinfo=UTC)  # still April 15th in Los Angeles
    assert remaining_fraction(period=april, at=early, tz=la) == Fraction(16, 30)


def test_upgrade_team_to_enterprise_on_day_16_of_30() -> None:
    line = price_upgrade(
        old=TEAM, new=ENTERPRISE, period=APRIL, at=datetime(2026, 4, 16, 10, tzinfo=UTC), tz="UTC"
    )
    assert (line.kind, line.amount, line.numerator, line.denominator) == (
        "proration",
        30000,
        15,
        30,
    )
    assert line.explanation()["fraction"] == "15/30"


def test_upgrade_on_the_first_day_charges_the_full_difference() -> None:
    at = datetime(2026, 4, 1, 15, tzinfo=UTC)
    line = price_upgrade(old=TEAM, new=ENTERPRISE, period=APRIL, at=at, tz="UTC")
    assert (line.amount, line.numerator, line.denominator) == (60000, 30, 30)


def test_upgrade_developer_to_team_with_10_of_31_days_left() -> None:
    at = datetime(2026, 1, 22, 9, tzinfo=UTC)
    line = price_upgrade(old=DEVELOPER, new=TEAM, period=JANUARY, at=at, tz="UTC")
    assert (line.amount, line.numerator, line.denominator) == (4839, 10, 31)


def test_fee_after_a_14_day_trial_on_a_31_day_period() -> None:
    trial_end = JANUARY.start + timedelta(days=14)
    days = remaining_days(period=JANUARY, at=trial_end, tz="UTC")
    assert days == 17
    line = price_plan_fee(
        plan=TEAM,
        period=JANUARY,
        remaining_days=days,
        period_days=period_days(period=JANUARY, tz="UTC"),
    )
    assert (line.kind, line.amount, line.numerator, line.denominator) == (
        "proration",
        10968,
        17,
        31,
    )


def test_prorate_rounds_half_up() -> None:
    assert prorate(amount=15000, fraction=Fraction(10, 31), currency="usd") == 4839
    assert prorate(amount=3, fraction=Fraction(1, 2), currency="usd") == 2
    assert prorate(amount=0, fraction=Fraction(1, 2), currency="usd") == 0


periods = st.builds(
    lambda start, tz, index: (billing_period(anchor=start, tz=tz, index=index), tz),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(["UTC", "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe"]),
    st.integers(0, 24),
)


@settings(max_examples=150, deadline=None)
@given(periods, st.integers(0, 10_000_000), st.data())
def test_prorated_pieces_sum_to_the_full_fee(
    period_tz: tuple[Period, str], fee: int, data: st.DataObject
) -> None:
    period, tz = period_tz
    total = period_days(period=period, tz=tz)
    cuts = data.draw(st.lists(st.integers(1, total - 1), max_size=6, unique=True))
    bounds = [0, *sorted(cuts), total]
    pieces = [
        prorate(amount=fee, fraction=Fraction(b - a, total), currency="usd")
        for a, b in pairwise(bounds)
    ]
    assert all(piece >= 0 for piece in pieces)
    assert abs(sum(pieces) - fee) <= len(pieces)


@settings(max_examples=150, deadline=None)
@given(periods, st.integers(0, 10_000_000), st.integers(0, 10_000_000), st.data())
def test_upgrades_are_never_negative_and_never_above_the_difference(
    period_tz: tuple[Period, str], low: int, high: int, data: st.DataObject
) -> None:
    period, tz = period_tz
    low, high = sorted((low, high))
    old = PlanTerms(plan_name="Old", amount=low, currency="usd")
    new = PlanTerms(plan_name="New", amount=high, currency="usd")
    seconds = int((period.end - period.start).total_seconds())
    at = period.start + timedelta(seconds=data.draw(st.integers(-86400, seconds + 86400)))
    line = price_upgrade(old=old, new=new, period=period, at=at, tz=tz)
    assert 0 <= line.amount <= high - low
    assert line.denominator == period_days(period=period, tz=tz)
    start_line = price_upgrade(old=old, new=new, period=period, at=period.start, tz=tz)
    assert start_line.amount == high - low
