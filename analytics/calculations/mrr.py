"""MRR of one subscription over time (pure: frozen facts in, run-length segments out).

MRR at an instant: the monthly-normalised fee of the plan in force (or the contract's base price
when a contract prices the billing period the instant falls in), after a `forever` coupon or a
`repeating` one still running in that period (a `once` coupon does not reduce MRR), before tax,
while the subscription is `active` or `past_due`. Trials, suspended and cancelled subscriptions,
usage and one-off charges contribute nothing.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from billing_project.shared.money import round_minor
from subscriptions.pricing.contracts import contract_term_end
from subscriptions.pricing.coupons import CouponTerms, coupon_discount
from subscriptions.pricing.periods import billing_period, period_index_at

OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)
MRR_STATUSES = ("active", "past_due")

# change kinds (subscriptions.models.ChangeKind values) and what they do to MRR
CREATED = "created"
PLAN_KINDS = ("upgraded", "downgrade_applied")
TRIAL_ENDED = "trial_ended"
CANCELLED = "cancelled"
STATUS_CHANGED = "status_changed"


@dataclass(frozen=True, slots=True)
class PlanFact:
    plan_id: object
    slug: str
    amount: int  # minor units per interval
    currency: str
    interval: str = "month"


@dataclass(frozen=True, slots=True)
class ChangeFact:
    kind: str
    effective_at: datetime
    to_plan_id: object = None
    to_status: str = ""  # for status_changed


@dataclass(frozen=True, slots=True)
class CouponFact:
    terms: CouponTerms
    first_period_index: int = 0


@dataclass(frozen=True, slots=True)
class ContractFact:
    starts_at: datetime
    ends_at: datetime
    auto_renewal: bool
    versions: tuple[tuple[datetime, int], ...]  # (created_at, base_price), oldest first


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    subscription_id: object
    tenant_id: object
    started_at: datetime
    tz: str
    trialing_at_start: bool
    changes: tuple[ChangeFact, ...]  # in recording order
    coupon: CouponFact | None = None
    contracts: tuple[ContractFact, ...] = ()


@dataclass(frozen=True, slots=True)
class Segment:
    subscription_id: object
    tenant_id: object
    plan_id: object
    currency: str
    mrr: int
    valid_from: datetime
    valid_to: datetime = OPEN_END


@dataclass(slots=True)
class _State:
    plan_id: object = None
    status: str = ""
    extra: dict = field(default_factory=dict)


def monthly(*, amount: int, interval: str, currency: str) -> int:
    """A fee normalised to a month (plans are monthly today; a yearly fee counts 1/12)."""
    if interval == "year":
        return round_minor(Fraction(amount, 12), currency)
    return amount


def _timeline(facts: SubscriptionFacts) -> list[tuple[datetime, object, str]]:
    """(instant, plan, status) after each change, in effective order."""
    ordered = sorted(enumerate(facts.changes), key=lambda p: (p[1].effective_at, p[0]))
    state = _State(status="trialing" if facts.trialing_at_start else "active")
    points: list[tuple[datetime, object, str]] = []
    for _, change in ordered:
        if change.kind == CREATED:
            state.plan_id = change.to_plan_id or state.plan_id
        elif change.kind in PLAN_KINDS and change.to_plan_id is not None:
            state.plan_id = change.to_plan_id
        elif change.kind == TRIAL_ENDED:
            if state.status == "trialing":
                state.status = "active"
        elif change.kind == CANCELLED:
            state.status = "cancelled"
        elif change.kind == STATUS_CHANGED and change.to_status:
            if state.status != "cancelled":
                state.status = change.to_status
        else:
            continue
        if points and points[-1][0] == change.effective_at:
            points[-1] = (change.effective_at, state.plan_id, state.status)
        else:
            points.append((change.effective_at, state.plan_id, state.status))
    return points


def _boundary_at_or_after(facts: SubscriptionFacts, instant: datetime) -> datetime:
    """The first billing-period start at or after `instant`."""
    if instant <= facts.started_at:
        return facts.started_at
    index = period_index_at(anchor=facts.started_at, tz=facts.tz, instant=instant)
    period = billing_period(anchor=facts.started_at, tz=facts.tz, index=index)
    return period.start if period.start == instant else period.end


def _period_start_at(facts: SubscriptionFacts, instant: datetime) -> tuple[int, datetime]:
    index = period_index_at(anchor=facts.started_at, tz=facts.tz, instant=instant)
    return index, billing_period(anchor=facts.started_at, tz=facts.tz, index=index).start


def _contract_breaks(facts: SubscriptionFacts) -> list[datetime]:
    breaks = []
    for contract in facts.contracts:
        breaks.append(_boundary_at_or_after(facts, contract.starts_at))
        if not contract.auto_renewal:
            breaks.append(_boundary_at_or_after(facts, contract.ends_at))
        for created_at, _ in contract.versions[1:]:
            breaks.append(_boundary_at_or_after(facts, created_at))
    return breaks


def _coupon_breaks(facts: SubscriptionFacts) -> list[datetime]:
    coupon = facts.coupon
    if coupon is None or coupon.terms.duration != "repeating":
        return []
    end_index = coupon.first_period_index + (coupon.terms.duration_in_months or 0)
    return [billing_period(anchor=facts.started_at, tz=facts.tz, index=end_index).start]


def _contract_price(facts: SubscriptionFacts, period_start: datetime) -> int | None:
    """The base price of a contract in force at the start of the period (it prices the fee)."""
    for contract in facts.contracts:
        if period_start < contract.starts_at:
            continue
        end = contract_term_end(
            starts_at=contract.starts_at,
            ends_at=contract.ends_at,
            auto_renewal=contract.auto_renewal,
            tz=facts.tz,
            at=period_start,
        )
        if period_start >= end:
            continue
        price = contract.versions[0][1]
        for created_at, base_price in contract.versions:
            if created_at <= period_start:
                price = base_price
        return price
    return None


def mrr_value(*, facts: SubscriptionFacts, plan: PlanFact | None, status: str, at: datetime) -> int:
    """The subscription's MRR at `at` given the plan and status in force then."""
    if plan is None or status not in MRR_STATUSES or at < facts.started_at:
        return 0
    needs_period = bool(facts.contracts) or (
        facts.coupon is not None and facts.coupon.terms.duration == "repeating"
    )
    index, period_start = _period_start_at(facts, at) if needs_period else (0, at)
    if facts.contracts:
        price = _contract_price(facts, period_start)
        if price is not None:
            return price  # a contract's price is the negotiated one: no coupon
    fee = monthly(amount=plan.amount, interval=plan.interval, currency=plan.currency)
    coupon = facts.coupon
    if coupon is None or coupon.terms.duration == "once":
        return fee
    if coupon.terms.duration == "repeating":
        since = index - coupon.first_period_index
        if not 0 <= since < (coupon.terms.duration_in_months or 0):
            return fee
    return fee - coupon_discount(terms=coupon.terms, fee=fee, currency=plan.currency)


def mrr_segments(*, facts: SubscriptionFacts, plans: dict) -> list[Segment]:
    """The subscription's MRR as runs of equal value (only runs with MRR > 0)."""
    timeline = _timeline(facts)
    if not timeline:
        return []
    instants = {t for t, _, _ in timeline}
    first = timeline[0][0]
    instants.update(b for b in _contract_breaks(facts) + _coupon_breaks(facts) if b > first)
    segments: list[Segment] = []
    current: tuple | None = None  # (plan_id, currency, mrr, valid_from)
    position = 0
    plan_id, status = None, ""
    for instant in sorted(instants):
        while position < len(timeline) and timeline[position][0] <= instant:
            _, plan_id, status = timeline[position]
            position += 1
        plan = plans.get(plan_id)
        value = mrr_value(facts=facts, plan=plan, status=status, at=instant)
        key = (plan_id, plan.currency if plan else "", value)
        if current is not None and current[:3] == key:
            continue
        if current is not None:
            segments.append(_segment(facts, current, instant))
        current = (*key, instant) if value > 0 else None
    if current is not None:
        segments.append(_segment(facts, current, OPEN_END))
    return segments


def _segment(facts: SubscriptionFacts, current: tuple, end: datetime) -> Segment:
    plan_id, currency, value, start = current
    return Segment(facts.subscription_id, facts.tenant_id, plan_id, currency, value, start, end)


def mrr_at(*, segments, at: datetime) -> dict[str, int]:
    """Total MRR per currency at `at` over any segments."""
    totals: dict[str, int] = {}
    for s in segments:
        if s.valid_from <= at < s.valid_to:
            totals[s.currency] = totals.get(s.currency, 0) + s.mrr
    return totals


def mrr_by_tenant(*, segments, at: datetime) -> dict[tuple, int]:
    totals: dict[tuple, int] = {}
    for s in segments:
        if s.valid_from <= at < s.valid_to:
            key = (s.tenant_id, s.currency)
            totals[key] = totals.get(key, 0) + s.mrr
    return totals
