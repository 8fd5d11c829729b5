"""Payment health (pure): a 0-100 score per tenant from three facts, with its parts.

Each fact costs points, each up to a cap, and the caps add up to 100:
- failed payment attempts in the last `FAILED_WINDOW_DAYS` days: 10 points each, at most 30;
- days past due of the tenant's oldest open invoice: 1 point per day, at most 40;
- open (or paused) dunning cases: 15 points each, at most 30.
score = 100 - the points lost; `healthy` from 80, `at_risk` from 50, else `critical`.
"""

from dataclasses import dataclass

FAILED_WINDOW_DAYS = 90
FAILED_POINTS, FAILED_CAP = 10, 30
PAST_DUE_POINTS, PAST_DUE_CAP = 1, 40
DUNNING_POINTS, DUNNING_CAP = 15, 30
HEALTHY_FROM, AT_RISK_FROM = 80, 50


@dataclass(frozen=True, slots=True)
class HealthPart:
    value: int
    penalty: int
    max_penalty: int


@dataclass(frozen=True, slots=True)
class PaymentHealth:
    score: int
    grade: str
    failed_attempts: HealthPart
    days_past_due: HealthPart
    open_dunning_cases: HealthPart


def _part(value: int, points: int, cap: int) -> HealthPart:
    if value < 0:
        raise ValueError("health inputs are counts: never negative")
    return HealthPart(value=value, penalty=min(cap, value * points), max_penalty=cap)


def grade_of(score: int) -> str:
    if score >= HEALTHY_FROM:
        return "healthy"
    if score >= AT_RISK_FROM:
        return "at_risk"
    return "critical"


def payment_health(
    *, failed_attempts: int, days_past_due: int, open_dunning_cases: int
) -> PaymentHealth:
    """`days_past_due`: of the oldest open invoice with an amount due (0 when none is late)."""
    failed = _part(failed_attempts, FAILED_POINTS, FAILED_CAP)
    late = _part(max(days_past_due, 0), PAST_DUE_POINTS, PAST_DUE_CAP)
    dunning = _part(open_dunning_cases, DUNNING_POINTS, DUNNING_CAP)
    score = 100 - failed.penalty - late.penalty - dunning.penalty
    return PaymentHealth(
        score=score,
        grade=grade_of(score),
        failed_attempts=failed,
        days_past_due=late,
        open_dunning_cases=dunning,
    )
