"""The pure policy: no database, no clock."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning import policy as pure

DAY0 = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
DEFAULT = pure.policy_from_config(pure.DEFAULT_CONFIG)


def state(**kw):
    return pure.CaseState(opened_at=DAY0, **kw)


def test_default_config_is_product_section_9():
    assert [(s.day, s.actions) for s in DEFAULT.steps] == [
        (1, ("retry", "email:reminder")),
        (3, ("retry", "email:reminder")),
        (7, ("retry", "email:suspension_warning")),
        (14, ("retry", "email:suspended", "suspend")),
        (30, ("email:cancelled", "cancel")),
    ]
    assert DEFAULT.grace_period_days == 3
    assert pure.config_of(DEFAULT) == pure.DEFAULT_CONFIG


@pytest.mark.parametrize(
    "day, stage, retry, notice",
    [
        (0, "grace", False, ""),
        (1, "grace", True, "reminder"),
        (3, "past_due", True, "reminder"),
        (7, "past_due", True, "suspension_warning"),
        (14, "suspended", True, "suspended"),
        (30, "cancelled", False, "cancelled"),
    ],
)
def test_each_day_on_schedule(day, stage, retry, notice):
    done = frozenset(s.day for s in DEFAULT.steps if s.day < day)
    due = pure.due_actions(
        state=state(done_days=done, suspended=day > 14), policy=DEFAULT, now=DAY0 + timedelta(day)
    )
    assert (due.stage, due.retry, due.notice) == (stage, retry, notice)
    assert due.suspend == (day == 14)
    assert due.cancel == (day == 30)


def test_day_starts_at_local_midnight():
    tokyo = pure.CaseState(opened_at=DAY0, tz="Asia/Tokyo")  # 2026-03-11 00:30 local
    assert pure.day_number(tokyo, DAY0) == 0
    assert pure.day_start(tokyo, 1) == datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    assert pure.day_number(tokyo, datetime(2026, 3, 11, 15, 0, tzinfo=UTC)) == 1


def test_a_step_done_is_not_due_again():
    due = pure.due_actions(
        state=state(done_days=frozenset({1})), policy=DEFAULT, now=DAY0 + timedelta(1)
    )
    assert not due.anything and not due.retry and due.notice == ""
    assert due.next_action_at == pure.day_start(state(), 3)


def test_late_pass_folds_missed_steps_into_one_retry_and_one_notice():
    due = pure.due_actions(state=state(), policy=DEFAULT, now=DAY0 + timedelta(days=15))
    assert [s.day for s in due.steps] == [1, 3, 7, 14]
    assert (due.retry, due.notice, due.suspend, due.stage) == (True, "suspended", True, "suspended")
    assert due.missed_retries == 3


def test_grace_end_is_an_action_time_without_a_step():
    policy = pure.policy_from_config({**pure.DEFAULT_CONFIG, "retry_schedule": [2, 5]})
    due = pure.due_actions(
        state=state(done_days=frozenset({2})), policy=policy, now=DAY0 + timedelta(days=2)
    )
    assert due.next_action_at == pure.day_start(state(), 3)
    assert [(s.day, s.actions) for s in policy.steps] == [
        (2, ("retry", "email:reminder")),
        (5, ("retry", "email:suspension_warning")),
        (14, ("email:suspended", "suspend")),
        (30, ("email:cancelled", "cancel")),
    ]


def test_pause_and_shift():
    assert not pure.due_actions(
        state=state(paused=True), policy=DEFAULT, now=DAY0 + timedelta(5)
    ).anything
    shifted = state(shift_days=4)
    assert pure.day_number(shifted, DAY0 + timedelta(days=5)) == 1


def test_decline_classification():
    hard = frozenset({"stolen_card", "expired_card", "do_not_honor"})
    assert pure.retry_decision(decline_code="insufficient_funds", hard_codes=hard).retry
    assert pure.retry_decision(decline_code="card_declined", hard_codes=hard).retry
    assert pure.retry_decision(decline_code="", hard_codes=hard).retry
    assert pure.retry_decision(decline_code="something_new", hard_codes=hard).retry
    skipped = pure.retry_decision(decline_code="STOLEN_CARD", hard_codes=hard)
    assert not skipped.retry and "stolen_card" in skipped.reason


@pytest.mark.parametrize(
    "config, field",
    [
        ({"retry_schedule": [3, 1]}, "retry_schedule"),
        ({"retry_schedule": "1,3"}, "retry_schedule"),
        ({"retry_schedule": [0]}, "retry_schedule"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"grace_period_days": True}, "grace_period_days"),
        ({"auto_suspend_after_days": 30, "auto_cancel_after_days": 14}, "auto_cancel_after_days"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_configs_name_the_field(config, field):
    with pytest.raises(pure.ConfigErrors) as info:
        pure.policy_from_config({**pure.DEFAULT_CONFIG, **config})
    assert field in info.value.errors


def test_max_attempts_truncates_the_schedule():
    policy = pure.policy_from_config({**pure.DEFAULT_CONFIG, "max_attempts": 2})
    assert [s.day for s in policy.steps if s.retry] == [1, 3]


@given(
    days=st.lists(st.integers(1, 60), unique=True, max_size=6).map(sorted),
    grace=st.integers(0, 10),
    offset=st.integers(0, 90),
)
def test_every_step_runs_exactly_once_whatever_the_pass_times(days, grace, offset):
    policy = pure.policy_from_config(
        {**pure.DEFAULT_CONFIG, "retry_schedule": days, "grace_period_days": grace,
         "max_attempts": 10, "auto_suspend_after_days": 61, "auto_cancel_after_days": 80}
    )  # fmt: skip
    done: set[int] = set()
    times = sorted({0, offset, 30, 85, offset // 2})
    for day in times:
        due = pure.due_actions(
            state=state(done_days=frozenset(done)), policy=policy, now=DAY0 + timedelta(days=day)
        )
        assert not done & {s.day for s in due.steps}
        done |= {s.day for s in due.steps}
    assert done == {s.day for s in policy.steps}
