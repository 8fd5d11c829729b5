from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subscriptions.pricing.periods import (
    Period,
    add_months,
    billing_period,
    period_at,
    period_days,
    period_index_at,
)

TIMEZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
]
LA = ZoneInfo("America/Los_Angeles")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_add_months_keeps_the_anchor_day_clamped() -> None:
    anchor = date(2026, 1, 31)
    assert [add_months(anchor, n) for n in range(5)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(datetime(2026, 1, 31, 13, 5), 13) == datetime(2027, 2, 28, 13, 5)


def test_periods_anchored_on_the_31st_end_on_the_last_day_of_short_months() -> None:
    anchor = utc(2026, 1, 31)
    ends = [billing_period(anchor=anchor, tz="UTC", index=n).end for n in range(4)]
    assert ends == [utc(2026, 2, 28), utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 31)]
    assert billing_period(anchor=anchor, tz="UTC", index=0) == Period(
        start=anchor, end=utc(2026, 2, 28)
    )
    assert period_days(period=billing_period(anchor=anchor, tz="UTC", index=0), tz="UTC") == 28


def test_periods_follow_the_tenant_wall_clock_across_dst() -> None:
    anchor = datetime(2026, 3, 1, tzinfo=LA)
    assert anchor.astimezone(UTC) == utc(2026, 3, 1, 8)
    period = billing_period(anchor=anchor, tz="America/Los_Angeles", index=0)
    assert period == Period(start=utc(2026, 3, 1, 8), end=utc(2026, 4, 1, 7))
    assert period.end.astimezone(LA) == datetime(2026, 4, 1, tzinfo=LA)
    assert period_days(period=period, tz="America/Los_Angeles") == 31


def test_a_wall_time_in_a_dst_gap_moves_forward() -> None:
    anchor = datetime(2026, 2, 8, 2, 30, tzinfo=LA)  # 2026-03-08 02:30 does not exist in LA
    period = billing_period(anchor=anchor, tz="America/Los_Angeles", index=1)
    assert period.start == utc(2026, 3, 8, 10, 30)  # 03:30 PDT
    assert billing_period(anchor=anchor, tz="America/Los_Angeles", index=0).end == period.start


def test_an_ambiguous_wall_time_takes_its_first_occurrence() -> None:
    anchor = datetime(2026, 10, 1, 1, 30, tzinfo=LA)  # 2026-11-01 01:30 happens twice
    assert billing_period(anchor=anchor, tz="America/Los_Angeles", index=1).start == utc(
        2026, 11, 1, 8, 30
    )


def test_an_anchor_in_the_second_occurrence_starts_period_zero_exactly() -> None:
    anchor = utc(2026, 11, 1, 9, 30)  # 01:30 PST, the second 01:30 of the day
    period = billing_period(anchor=anchor, tz="America/Los_Angeles", index=0)
    assert period == Period(start=anchor, end=utc(2026, 12, 1, 9, 30))


def test_period_index_at_and_period_at() -> None:
    anchor = utc(2026, 1, 31, 12)
    assert period_index_at(anchor=anchor, tz="UTC", instant=anchor) == 0
    assert period_index_at(anchor=anchor, tz="UTC", instant=utc(2026, 2, 28, 11, 59)) == 0
    assert period_index_at(anchor=anchor, tz="UTC", instant=utc(2026, 2, 28, 12)) == 1
    assert period_at(anchor=anchor, tz="UTC", instant=utc(2026, 3, 31, 11)) == Period(
        start=utc(2026, 2, 28, 12), end=utc(2026, 3, 31, 12)
    )
    with pytest.raises(ValueError):
        period_index_at(anchor=anchor, tz="UTC", instant=anchor - timedelta(microseconds=1))


def test_naive_datetimes_and_empty_periods_are_refused() -> None:
    with pytest.raises(ValueError):
        billing_period(anchor=datetime(2026, 1, 1), tz="UTC", index=0)
    with pytest.raises(ValueError):
        Period(start=utc(2026, 1, 2), end=utc(2026, 1, 2))
    with pytest.raises(ValueError):
        billing_period(anchor=utc(2026, 1, 1), tz="UTC", index=-1)


@st.composite
def anchors(draw: st.DrawFn) -> tuple[datetime, str]:
    tz = draw(st.sampled_from(TIMEZONES))
    year = draw(st.integers(2000, 2100))
    month = draw(st.integers(1, 12))
    day = draw(st.one_of(st.sampled_from([28, 29, 30, 31]), st.integers(1, 31)))
    day = min(day, (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day)
    wall = datetime(
        year,
        month,
        day,
        draw(st.integers(0, 23)),
        draw(st.sampled_from([0, 15, 30, 45])),
        fold=draw(st.integers(0, 1)),
    )
    return wall.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC), tz


@settings(max_examples=150, deadline=None)
@given(anchors())
def test_consecutive_periods_tile_time(anchor_tz: tuple[datetime, str]) -> None:
    anchor, tz = anchor_tz
    periods = [billing_period(anchor=anchor, tz=tz, index=n) for n in range(32)]
    assert periods[0].start == anchor
    for current, following in pairwise(periods):
        assert current.start < current.end == following.start
        assert 27 <= period_days(period=current, tz=tz) <= 32


@settings(max_examples=150, deadline=None)
@given(anchors())
def test_utc_periods_keep_the_anchor_day(anchor_tz: tuple[datetime, str]) -> None:
    anchor, _ = anchor_tz
    for n in range(30):
        start = billing_period(anchor=anchor, tz="UTC", index=n).start
        assert start.date() == add_months(anchor.date(), n)
        assert start.time() == anchor.time()


@settings(max_examples=150, deadline=None)
@given(anchors(), st.integers(0, 930 * 24 * 3600))
def test_period_index_at_finds_the_period_containing_the_instant(
    anchor_tz: tuple[datetime, str], offset_seconds: int
) -> None:
    anchor, tz = anchor_tz
    instant = anchor + timedelta(seconds=offset_seconds)
    index = period_index_at(anchor=anchor, tz=tz, instant=instant)
    period = billing_period(anchor=anchor, tz=tz, index=index)
    assert period.contains(instant)
    assert period_at(anchor=anchor, tz=tz, instant=instant) == period
    assert period_index_at(anchor=anchor, tz=tz, instant=period.start) == index
    assert period_index_at(anchor=anchor, tz=tz, instant=period.end) == index + 1
