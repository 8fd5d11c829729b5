"""The dunning policy as a pure function: case state + policy + now -> the actions due.

No Django, no clock: `now` and the tenant's timezone are arguments. Day N of a case is the Nth
calendar day after day 0 (the first failed collection) in the tenant's timezone, so "day 7"
starts at local midnight whatever hour the card was declined; a pause shifts every later day by
its length in whole days.

A pass that comes late (nothing ran on day 3 or day 7) catches up in one go: every step that
came due is recorded as done, but the payment is retried once, and one notice is sent (the most
serious of the due steps'), so a tenant never receives three emails from one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Notices a step may send, least serious first (a catch-up sends the most serious).
NOTICES = ("reminder", "suspension_warning", "suspended", "cancelled")

# Stages a case imposes on its tenant, least serious first (the tenant follows the worst case).
STAGES = ("grace", "past_due", "suspended", "cancelled")
STAGE_STATUS = {
    "grace": ("active", "full"),
    "past_due": ("past_due", "full"),
    "suspended": ("suspended", "degraded"),
    "cancelled": ("cancelled", "none"),
}

MAX_DAY = 365


@dataclass(frozen=True)
class Step:
    day: int
    retry: bool = False
    notice: str = ""
    suspend: bool = False
    cancel: bool = False
    mark_uncollectible: bool = False

    @property
    def actions(self) -> tuple[str, ...]:
        names = []
        if self.retry:
            names.append("retry")
        if self.notice:
            names.append(f"email:{self.notice}")
        for flag in ("suspend", "cancel", "mark_uncollectible"):
            if getattr(self, flag):
                names.append(flag)
        return tuple(names)


@dataclass(frozen=True)
class Policy:
    grace_period_days: int
    steps: tuple[Step, ...]
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(sorted(self.steps, key=lambda s: s.day)))

    def step_on(self, day: int) -> Step | None:
        return next((s for s in self.steps if s.day == day), None)

    def first_day(self, flag: str) -> int | None:
        return next((s.day for s in self.steps if getattr(s, flag)), None)


@dataclass(frozen=True)
class CaseState:
    opened_at: datetime
    tz: str = "UTC"
    done_days: frozenset[int] = frozenset()
    suspended: bool = False
    cancelled: bool = False
    paused: bool = False
    shift_days: int = 0


@dataclass(frozen=True)
class Due:
    """What a pass at `now` does for one case."""

    day: int
    steps: tuple[Step, ...] = ()
    retry: bool = False
    notice: str = ""
    suspend: bool = False
    cancel: bool = False
    mark_uncollectible: bool = False
    stage: str = "grace"
    next_action_at: datetime | None = None
    missed_retries: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.steps)

    @property
    def actions(self) -> tuple[str, ...]:
        """What the pass does, as stored on the step's event (a catch-up's union)."""
        return Step(
            day=self.day,
            retry=self.retry,
            notice=self.notice,
            suspend=self.suspend,
            cancel=self.cancel,
            mark_uncollectible=self.mark_uncollectible,
        ).actions


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    reason: str = ""


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz or "UTC")


def opened_on(state: CaseState) -> date:
    return state.opened_at.astimezone(_zone(state.tz)).date()


def day_number(state: CaseState, now: datetime) -> int:
    """Which day of the case `now` is (day 0 is the failure's local date), pauses excluded."""
    today = now.astimezone(_zone(state.tz)).date()
    return (today - opened_on(state)).days - state.shift_days


def day_start(state: CaseState, day: int) -> datetime:
    """The instant day `day` of the case begins: local midnight, as an aware datetime."""
    zone = _zone(state.tz)
    local = datetime.combine(
        opened_on(state) + timedelta(days=day + state.shift_days), time(0), tzinfo=zone
    )
    return local.astimezone(ZoneInfo("UTC"))


def stage_of(*, state: CaseState, policy: Policy, day: int) -> str:
    if state.cancelled:
        return "cancelled"
    if state.suspended:
        return "suspended"
    return "past_due" if day >= policy.grace_period_days else "grace"


def worst_stage(stages) -> str | None:
    ranked = [STAGES.index(s) for s in stages if s in STAGES]
    return STAGES[max(ranked)] if ranked else None


def due_actions(*, state: CaseState, policy: Policy, now: datetime) -> Due:
    """The steps that have come due at `now` and not run yet, collapsed into one pass's work,
    the stage the case then imposes, and when it next needs a pass."""
    day = day_number(state, now)
    if state.paused or state.cancelled:
        return Due(day=day, stage=stage_of(state=state, policy=policy, day=day))
    due = tuple(s for s in policy.steps if s.day <= day and s.day not in state.done_days)
    suspend = any(s.suspend for s in due)
    cancel = any(s.cancel for s in due)
    notices = [s.notice for s in due if s.notice]
    notice = max(notices, key=NOTICES.index) if notices else ""
    retries = [s for s in due if s.retry]
    after = CaseState(
        opened_at=state.opened_at,
        tz=state.tz,
        suspended=state.suspended or suspend,
        cancelled=state.cancelled or cancel,
    )
    stage = stage_of(state=after, policy=policy, day=day)
    return Due(
        day=day,
        steps=due,
        retry=bool(retries) and not cancel,
        notice=notice,
        suspend=suspend and not cancel,
        cancel=cancel,
        mark_uncollectible=any(s.mark_uncollectible for s in due),
        stage=stage,
        next_action_at=None if cancel else next_action_at(state=state, policy=policy, day=day),
        missed_retries=max(len(retries) - 1, 0),
    )


def due_after_retry(*, state: CaseState, policy: Policy, actions, now: datetime) -> Due:
    """The rest of a recorded step (its event's `actions`) once its retry did not pay: the
    state already counts the step as done."""
    actions = set(actions)
    notices = [a.split(":", 1)[1] for a in actions if a.startswith("email:")]
    suspend = "suspend" in actions
    cancel = "cancel" in actions
    day = day_number(state, now)
    after = CaseState(
        opened_at=state.opened_at,
        tz=state.tz,
        suspended=state.suspended or suspend,
        cancelled=state.cancelled or cancel,
    )
    return Due(
        day=day,
        notice=max(notices, key=NOTICES.index) if notices else "",
        suspend=suspend and not cancel,
        cancel=cancel,
        mark_uncollectible="mark_uncollectible" in actions,
        stage=stage_of(state=after, policy=policy, day=day),
        next_action_at=None if cancel else next_action_at(state=state, policy=policy, day=day),
    )


def next_action_at(*, state: CaseState, policy: Policy, day: int) -> datetime | None:
    """The start of the next day with a step still to run, or the end of the grace period."""
    days = [s.day for s in policy.steps if s.day > day and s.day not in state.done_days]
    if day < policy.grace_period_days and not state.suspended:
        days.append(policy.grace_period_days)
    return day_start(state, min(days)) if days else None


def suspension_date(*, state: CaseState, policy: Policy) -> date | None:
    """The local date the suspend step falls on (stated in the warning notice)."""
    day = policy.first_day("suspend")
    if day is None:
        return None
    return opened_on(state) + timedelta(days=day + state.shift_days)


def retry_decision(*, decline_code: str, hard_codes: frozenset[str]) -> RetryDecision:
    """Retry only soft declines. Unknown codes, a bare `card_declined` and `generic_decline`
    count as soft, so the schedule runs; a hard decline waits for a new card."""
    code = (decline_code or "").strip().lower()
    if code and code in hard_codes:
        return RetryDecision(
            retry=False,
            reason=f"hard decline ({code}): not retried automatically; a new card is needed",
        )
    return RetryDecision(retry=True)


# --- the guide's RETRY_CONFIG -------------------------------------------------------------------

CONFIG_KEYS = (
    "max_attempts",
    "retry_schedule",
    "grace_period_days",
    "auto_suspend_after_days",
    "auto_cancel_after_days",
)


@dataclass(frozen=True)
class ConfigErrors(Exception):
    errors: dict = field(default_factory=dict)


def _int(value, name: str, errors: dict, *, minimum: int, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = ["Must be an integer" + (" or null." if allow_none else ".")]
        return None
    if value < minimum or value > MAX_DAY:
        errors[name] = [f"Must be between {minimum} and {MAX_DAY}."]
        return None
    return value


def policy_from_config(config: dict) -> Policy:
    """Steps from the guide's RETRY_CONFIG: a retry on each of the first `max_attempts` days of
    `retry_schedule` with a reminder; the last retry day before suspension warns of it instead
    (or, with none, a warning step a week before); suspension and cancellation on their days,
    each with its notice. Raises ConfigErrors listing every bad field."""
    errors: dict = {}
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    for key in unknown:
        errors[key] = ["Unknown field."]
    grace = _int(config.get("grace_period_days"), "grace_period_days", errors, minimum=0)
    max_attempts = _int(config.get("max_attempts"), "max_attempts", errors, minimum=0)
    suspend = _int(
        config.get("auto_suspend_after_days"),
        "auto_suspend_after_days",
        errors,
        minimum=1,
        allow_none=True,
    )
    cancel = _int(
        config.get("auto_cancel_after_days"),
        "auto_cancel_after_days",
        errors,
        minimum=1,
        allow_none=True,
    )
    schedule = config.get("retry_schedule")
    days: list[int] = []
    if not isinstance(schedule, list):
        errors["retry_schedule"] = ["Must be a list of days (integers)."]
    else:
        for value in schedule:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAY:
                errors["retry_schedule"] = [f"Each day must be an integer from 1 to {MAX_DAY}."]
                break
            days.append(value)
        else:
            if days != sorted(set(days)):
                errors["retry_schedule"] = ["Days must be strictly increasing."]
    if suspend is not None and cancel is not None and cancel <= suspend:
        errors["auto_cancel_after_days"] = ["Must be after auto_suspend_after_days."]
    if errors:
        raise ConfigErrors(errors)
    last = cancel if cancel is not None else (suspend if suspend is not None else MAX_DAY)
    retry_days = [d for d in days[:max_attempts] if d <= last]
    steps: dict[int, dict] = {d: {"retry": True, "notice": "reminder"} for d in retry_days}
    if suspend is not None:
        before = [d for d in retry_days if d < suspend]
        warn_day = before[-1] if before else max(suspend - 7, 1)
        if warn_day < suspend:
            steps.setdefault(warn_day, {})["notice"] = "suspension_warning"
        steps.setdefault(suspend, {}).update(suspend=True, notice="suspended")
    if cancel is not None:
        steps.setdefault(cancel, {}).update(cancel=True, notice="cancelled", retry=False)
    return Policy(
        grace_period_days=grace,
        max_attempts=max_attempts,
        steps=tuple(Step(day=d, **fields) for d, fields in steps.items()),
    )


def config_of(policy: Policy) -> dict:
    """The guide's RETRY_CONFIG read back from a policy's steps."""
    retry_days = [s.day for s in policy.steps if s.retry]
    return {
        "max_attempts": policy.max_attempts if policy.max_attempts is not None else len(retry_days),
        "retry_schedule": retry_days,
        "grace_period_days": policy.grace_period_days,
        "auto_suspend_after_days": policy.first_day("suspend"),
        "auto_cancel_after_days": policy.first_day("cancel"),
    }


DEFAULT_CONFIG = {
    "max_attempts": 4,
    "retry_schedule": [1, 3, 7, 14],
    "grace_period_days": 3,
    "auto_suspend_after_days": 14,
    "auto_cancel_after_days": 30,
}
