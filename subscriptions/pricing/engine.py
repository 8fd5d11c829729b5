"""Pure pricing: plan fees in advance, overages in arrears, prorations and coupon discounts."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from billing_project.shared.money import currency_exponent, format_money, round_minor
from subscriptions.pricing.contracts import (
    USER_METRIC,
    ContractTerms,
    YearBilled,
    contract_rated,
    price_contract_fee,
    price_seats,
    price_true_up,
    price_volume_discount,
)
from subscriptions.pricing.coupons import CouponTerms, coupon_applies, coupon_discount
from subscriptions.pricing.lines import PricedLine, PricedPeriod, decimal_str, grouped
from subscriptions.pricing.periods import Period, period_days
from subscriptions.pricing.proration import prorate, remaining_days


@dataclass(frozen=True, slots=True)
class MetricTerms:
    metric: str
    included: Decimal
    unit_price: Decimal  # minor units per unit, may be fractional

    def __post_init__(self) -> None:
        for name in ("included", "unit_price"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise TypeError(f"{name} must be a Decimal")
            if not Decimal(value).is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite amount >= 0")
            object.__setattr__(self, name, Decimal(value))


@dataclass(frozen=True, slots=True)
class PlanTerms:
    plan_name: str
    amount: int  # monthly fee, minor units
    currency: str
    metrics: tuple[MetricTerms, ...] = ()

    def __post_init__(self) -> None:
        currency_exponent(self.currency)
        object.__setattr__(self, "currency", self.currency.lower())
        object.__setattr__(self, "metrics", tuple(self.metrics))


def _whole_fee(*, plan: PlanTerms, period: Period) -> PricedLine:
    return PricedLine(
        kind="plan_fee",
        description=f"{plan.plan_name} plan",
        quantity=Decimal(1),
        unit_price=Decimal(plan.amount),
        amount=plan.amount,
        period=period,
    )


def price_plan_fee(
    *,
    plan: PlanTerms,
    period: Period,
    remaining_days: int | None = None,
    period_days: int | None = None,
) -> PricedLine:
    """The plan fee for `period`, whole or prorated.

    Without day counts, or when `remaining_days == period_days`, the line is the whole fee
    (kind plan_fee). Otherwise it is `amount * remaining_days / period_days` (kind proration),
    storing both day counts; get them from `proration.remaining_days` and `periods.period_days`.
    """
    if remaining_days is None or period_days is None:
        if remaining_days is not None or period_days is not None:
            raise ValueError("pass both remaining_days and period_days, or neither")
        return _whole_fee(plan=plan, period=period)
    if remaining_days == period_days:
        return _whole_fee(plan=plan, period=period)
    if not 0 <= remaining_days <= period_days:
        raise ValueError("remaining_days must be within [0, period_days]")
    amount = prorate(
        amount=plan.amount, fraction=Fraction(remaining_days, period_days), currency=plan.currency
    )
    return PricedLine(
        kind="proration",
        description=f"{plan.plan_name} plan, {remaining_days} of {period_days} days",
        quantity=Decimal(1),
        unit_price=Decimal(amount),
        amount=amount,
        period=period,
        numerator=remaining_days,
        denominator=period_days,
    )


def overage_charge(
    *, measured: Decimal, included: Decimal, unit_price: Decimal, currency: str
) -> tuple[Decimal, int]:
    """The units over what is included and their price in minor units, rounded once:
    `(max(0, measured - included), round(overage * unit_price))`. Shared by invoices and the
    projected cost of current usage."""
    overage = measured - included
    if overage <= 0:
        return Decimal(0), 0
    return overage, round_minor(overage * unit_price, currency)


def price_overages(
    *, plan: PlanTerms, usage: Mapping[str, Decimal], period: Period
) -> tuple[PricedLine, ...]:
    lines = []
    for terms in plan.metrics:
        measured = usage.get(terms.metric, Decimal(0))
        if not isinstance(measured, Decimal | int) or isinstance(measured, bool):
            raise TypeError(f"usage for {terms.metric} must be a Decimal")
        measured = Decimal(measured)
        overage, amount = overage_charge(
            measured=measured,
            included=terms.included,
            unit_price=terms.unit_price,
            currency=plan.currency,
        )
        if overage <= 0:
            continue
        lines.append(
            PricedLine(
                kind="overage",
                description=(
                    f"{terms.metric}: {grouped(overage)} over {grouped(terms.included)} included"
                ),
                quantity=overage,
                unit_price=terms.unit_price,
                amount=amount,
                period=period,
                metric=terms.metric,
                included=terms.included,
                measured=measured,
            )
        )
    return tuple(lines)


def upgrade_proration_line(
    *, from_plan: str, to_plan: str, amount: int, remaining: int, total: int, period: Period
) -> PricedLine:
    """The line charging an upgrade's `new - old` for `remaining` of `total` days."""
    return PricedLine(
        kind="proration",
        description=f"Upgrade {from_plan} to {to_plan}, {remaining} of {total} days",
        quantity=Decimal(1),
        unit_price=Decimal(amount),
        amount=amount,
        period=period,
        numerator=remaining,
        denominator=total,
    )


def price_upgrade(
    *, old: PlanTerms, new: PlanTerms, period: Period, at: datetime, tz: str
) -> PricedLine:
    """Charge `new - old` for the days left in `period` from the local date of `at`."""
    if old.currency != new.currency:
        raise ValueError("an upgrade cannot change the currency")
    if new.amount < old.amount:
        raise ValueError("a downgrade is not prorated: it takes effect at period end")
    remaining = remaining_days(period=period, at=at, tz=tz)
    total = period_days(period=period, tz=tz)
    amount = prorate(
        amount=new.amount - old.amount, fraction=Fraction(remaining, total), currency=new.currency
    )
    return upgrade_proration_line(
        from_plan=old.plan_name,
        to_plan=new.plan_name,
        amount=amount,
        remaining=remaining,
        total=total,
        period=period,
    )


def price_discount(
    *, coupon: CouponTerms, fee_line: PricedLine, currency: str
) -> PricedLine | None:
    """The coupon's discount on a fee line ("Discount, 20% off" / "Discount, $10.00 off"),
    None when it discounts nothing."""
    discount = coupon_discount(terms=coupon, fee=fee_line.amount, currency=currency)
    if discount == 0:
        return None
    if coupon.percent_off is not None:
        label = f"{decimal_str(coupon.percent_off)}% off"
    else:
        label = f"{format_money(discount, currency)} off"
    return PricedLine(
        kind="discount",
        description=f"Discount, {label}",
        quantity=Decimal(1),
        unit_price=Decimal(-discount),
        amount=-discount,
        period=fee_line.period,
    )


def _contract_plan(*, plan: PlanTerms, terms: ContractTerms) -> PlanTerms:
    """The plan's metrics as a contract prices them: its rate for each metric it names (above
    the plan's included quantity, 0 when the plan has none), active users left to the seats
    line when it prices them, the plan's price for the rest."""
    metrics = []
    named = dict(terms.overage_rates)
    for metric in plan.metrics:
        if metric.metric == USER_METRIC and terms.user_price:
            continue
        rate = named.pop(metric.metric, None)
        metrics.append(metric if rate is None else replace(metric, unit_price=rate))
    metrics.extend(
        MetricTerms(metric=name, included=Decimal(0), unit_price=rate)
        for name, rate in sorted(named.items())
    )
    return replace(plan, metrics=tuple(metrics))


def _contract_arrears(
    *, plan: PlanTerms, terms: ContractTerms, usage: Mapping[str, Decimal], period: Period
) -> list[PricedLine]:
    lines: list[PricedLine] = []
    seats = price_seats(terms=terms, usage=usage, period=period, currency=plan.currency)
    if seats is not None:
        lines.append(seats)
    for line in price_overages(
        plan=_contract_plan(plan=plan, terms=terms), usage=usage, period=period
    ):
        named = terms.rate_for(line.metric or "") is not None
        lines.append(contract_rated(line, terms=terms) if named else line)
    return lines


def price_period(
    *,
    plan: PlanTerms,
    fee_period: Period | None,
    usage_period: Period | None,
    usage: Mapping[str, Decimal],
    coupon: CouponTerms | None = None,
    coupon_period_index: int = 0,
    remaining_days: int | None = None,
    period_days: int | None = None,
    usage_plan: PlanTerms | None = None,
    fee_contract: ContractTerms | None = None,
    usage_contract: ContractTerms | None = None,
    true_ups: tuple[YearBilled, ...] = (),
) -> PricedPeriod:
    """One period invoice: the fee for `fee_period` (in advance; prorated when the day counts
    are given, see `price_plan_fee`), its coupon discount, and overages for `usage_period` (in
    arrears, against `usage_plan`, default `plan`). `coupon_period_index` counts the periods
    since the coupon was redeemed, the redemption's period being 0.

    A contract in force for the fee period (`fee_contract`) replaces the plan fee by its base
    price (no coupon: the contract's price is the negotiated one); one in force for the usage
    period (`usage_contract`) prices active users per seat and its metrics at its rates. The
    contract's volume discount (the highest threshold the pre-tax subtotal reaches) follows as a
    discount line; `true_ups` (contract years that ended below their minimum) come last,
    undiscounted."""
    lines: list[PricedLine] = []
    if fee_period is not None and fee_contract is not None:
        lines.append(
            price_contract_fee(
                terms=fee_contract,
                period=fee_period,
                currency=plan.currency,
                remaining_days=remaining_days,
                period_days=period_days,
            )
        )
    elif fee_period is not None:
        fee_line = price_plan_fee(
            plan=plan, period=fee_period, remaining_days=remaining_days, period_days=period_days
        )
        lines.append(fee_line)
        if coupon is not None and coupon_applies(
            terms=coupon, periods_since_redemption=coupon_period_index
        ):
            discount = price_discount(coupon=coupon, fee_line=fee_line, currency=plan.currency)
            if discount is not None:
                lines.append(discount)
    if usage_period is not None:
        arrears_plan = usage_plan or plan
        if usage_contract is not None:
            lines.extend(
                _contract_arrears(
                    plan=arrears_plan, terms=usage_contract, usage=usage, period=usage_period
                )
            )
        else:
            lines.extend(price_overages(plan=arrears_plan, usage=usage, period=usage_period))
    contract = fee_contract or usage_contract
    if contract is not None:
        discount_line = price_volume_discount(
            terms=contract,
            subtotal=sum(line.amount for line in lines),
            currency=plan.currency,
            period=fee_period or usage_period,
        )
        if discount_line is not None:
            lines.append(discount_line)
    for billed in true_ups:
        true_up = price_true_up(billed=billed, currency=plan.currency)
        if true_up is not None:
            lines.append(true_up)
    return PricedPeriod(lines=tuple(lines), currency=plan.currency)
