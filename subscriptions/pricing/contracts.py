"""Contract terms (pure): parsing the guide's `contract_terms`, the contract's term and years,
and the lines a contract prices (fee, seats, overages at contract rates, volume discount,
annual-minimum true-up). Amounts are integer minor units; rates may be fractional."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from billing_project.shared.money import format_money, round_minor
from subscriptions.pricing.lines import PricedLine, decimal_str, grouped, instant_str
from subscriptions.pricing.periods import Period, add_months
from subscriptions.pricing.proration import prorate

PAYMENT_TERMS = ("due_on_receipt", "net_30", "net_60")
USER_METRIC = "active_users"
MAX_AMOUNT = 10**12
_TERMS_KEYS = {
    "annual_minimum",
    "custom_pricing",
    "payment_terms",
    "auto_renewal",
    "volume_discounts",
}
_PRICING_KEYS = {"base_price", "user_price", "overage_rates"}


class ContractTermsInvalid(ValueError):
    """Bad contract terms; `errors` maps a dotted field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors))
        super().__init__(f"{first}: {errors[first][0]}")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class VolumeDiscount:
    threshold: int  # pre-tax subtotal, minor units
    percent: Decimal  # (0, 100]


@dataclass(frozen=True, slots=True)
class ContractTerms:
    base_price: int  # per month, replaces the plan fee
    user_price: Decimal  # per active user per month
    overage_rates: tuple[tuple[str, Decimal], ...]  # (metric, minor units per unit), sorted
    annual_minimum: int
    payment_terms: str
    auto_renewal: bool
    volume_discounts: tuple[VolumeDiscount, ...]  # ascending thresholds
    version: int = 1

    def rate_for(self, metric: str) -> Decimal | None:
        return dict(self.overage_rates).get(metric)

    def as_json(self) -> dict[str, Any]:
        """The guide's `contract_terms` shape; decimals as strings (stored in JSON as is)."""
        return {
            "annual_minimum": self.annual_minimum,
            "custom_pricing": {
                "base_price": self.base_price,
                "user_price": decimal_str(self.user_price),
                "overage_rates": {m: decimal_str(r) for m, r in self.overage_rates},
            },
            "payment_terms": self.payment_terms,
            "auto_renewal": self.auto_renewal,
            "volume_discounts": [
                {"threshold": d.threshold, "discount": decimal_str(d.percent)}
                for d in self.volume_discounts
            ],
        }


def payment_terms_clean(value: Any) -> str:
    """`"Net 60"`, `"net-60"`, `net_60` -> `net_60`; `"Due on receipt"` -> `due_on_receipt`."""
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    text = re.sub(r"[\s\-]+", "_", value.strip().lower())
    if text not in PAYMENT_TERMS:
        raise ValueError('Must be one of "Net 30", "Net 60", net_30, net_60, due_on_receipt.')
    return text


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("Must be a number.")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("Must be a number.") from None
    if not number.is_finite():
        raise ValueError("Must be a finite number.")
    return number


def _amount(value: Any, *, whole: bool = True) -> Decimal | int:
    number = _decimal(value)
    if number < 0:
        raise ValueError("Must be >= 0.")
    if number > MAX_AMOUNT:
        raise ValueError(f"Must be <= {MAX_AMOUNT}.")
    if whole:
        if number != number.to_integral_value():
            raise ValueError("Must be a whole number of cents.")
        return int(number)
    if number.as_tuple().exponent < -6:
        raise ValueError("At most 6 decimals.")
    return number.normalize() if number else Decimal(0)


def _put(errors: dict, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _field(errors: dict, path: str, parse, value):
    try:
        return parse(value)
    except ValueError as exc:
        _put(errors, path, str(exc))
        return None


def _overage_rates(errors: dict, raw: Any) -> tuple[tuple[str, Decimal], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        _put(errors, "contract_terms.custom_pricing.overage_rates", "Must be an object.")
        return ()
    rates = []
    for metric, rate in raw.items():
        path = f"contract_terms.custom_pricing.overage_rates.{metric}"
        value = _field(errors, path, lambda v: _amount(v, whole=False), rate)
        if value is not None:
            rates.append((str(metric), value))
    return tuple(sorted(rates))


def _volume_discounts(errors: dict, raw: Any) -> tuple[VolumeDiscount, ...]:
    path = "contract_terms.volume_discounts"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        _put(errors, path, "Must be a list of {threshold, discount}.")
        return ()
    tiers = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or set(item) != {"threshold", "discount"}:
            _put(errors, f"{path}.{index}", "Must be exactly {threshold, discount}.")
            continue
        threshold = _field(errors, f"{path}.{index}.threshold", _amount, item["threshold"])
        percent = _field(
            errors, f"{path}.{index}.discount", lambda v: _amount(v, whole=False), item["discount"]
        )
        if percent is not None and not 0 < percent <= 100:
            _put(errors, f"{path}.{index}.discount", "Must be a percent in (0, 100].")
            percent = None
        if threshold is not None and percent is not None:
            tiers.append(VolumeDiscount(threshold=threshold, percent=percent))
    thresholds = [tier.threshold for tier in tiers]
    if len(set(thresholds)) != len(thresholds):
        _put(errors, path, "Thresholds must be distinct.")
    return tuple(sorted(tiers, key=lambda tier: tier.threshold))


def contract_terms_parse(raw: Any, *, version: int = 1) -> ContractTerms:
    """The guide's `contract_terms` object -> ContractTerms; ContractTermsInvalid lists every
    bad field (negative prices, a discount above 100, unknown keys, ...). Whether each
    `overage_rates` metric exists is the caller's check (the catalog is not pure)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(raw, Mapping):
        raise ContractTermsInvalid({"contract_terms": ["Must be an object."]})
    for key in sorted(set(raw) - _TERMS_KEYS):
        _put(errors, f"contract_terms.{key}", "Unknown field.")
    pricing = raw.get("custom_pricing")
    if pricing is None:
        pricing = {}
    if not isinstance(pricing, Mapping):
        _put(errors, "contract_terms.custom_pricing", "Must be an object.")
        pricing = {}
    for key in sorted(set(pricing) - _PRICING_KEYS):
        _put(errors, f"contract_terms.custom_pricing.{key}", "Unknown field.")
    prefix = "contract_terms.custom_pricing"
    base_price = _field(errors, f"{prefix}.base_price", _amount, pricing.get("base_price", 0))
    user_price = _field(
        errors,
        f"{prefix}.user_price",
        lambda v: _amount(v, whole=False),
        pricing.get("user_price", 0),
    )
    rates = _overage_rates(errors, pricing.get("overage_rates"))
    if user_price and any(metric == USER_METRIC for metric, _ in rates):
        _put(
            errors,
            f"{prefix}.overage_rates.{USER_METRIC}",
            "Active users are priced by user_price; give one or the other.",
        )
    minimum = _field(errors, "contract_terms.annual_minimum", _amount, raw.get("annual_minimum", 0))
    terms = _field(
        errors,
        "contract_terms.payment_terms",
        payment_terms_clean,
        raw.get("payment_terms", "net_30"),
    )
    auto_renewal = raw.get("auto_renewal", False)
    if not isinstance(auto_renewal, bool):
        _put(errors, "contract_terms.auto_renewal", "Must be true or false.")
    discounts = _volume_discounts(errors, raw.get("volume_discounts"))
    if errors:
        raise ContractTermsInvalid(errors)
    return ContractTerms(
        base_price=base_price,
        user_price=user_price,
        overage_rates=rates,
        annual_minimum=minimum,
        payment_terms=terms,
        auto_renewal=auto_renewal,
        volume_discounts=discounts,
        version=version,
    )


# --- the term: years from the start, auto-renewal -----------------------------------------


def contract_anniversary(*, starts_at: datetime, tz: str, years: int) -> datetime:
    """`years` years after `starts_at`, at the same local wall time (Feb 29 -> Feb 28)."""
    zone = ZoneInfo(tz)
    wall = starts_at.astimezone(zone).replace(tzinfo=None, fold=0)
    return add_months(wall, 12 * years).replace(tzinfo=zone).astimezone(starts_at.tzinfo)


def contract_term_end(
    *, starts_at: datetime, ends_at: datetime, auto_renewal: bool, tz: str, at: datetime
) -> datetime:
    """The end of the term running at `at`: `ends_at`, extended a year at a time while the
    contract renews automatically and `at` is past it."""
    end = ends_at
    renewals = 0
    while auto_renewal and at >= end:
        renewals += 1
        end = _renewed(ends_at=ends_at, tz=tz, years=renewals)
    return end


def _renewed(*, ends_at: datetime, tz: str, years: int) -> datetime:
    return contract_anniversary(starts_at=ends_at, tz=tz, years=years)


def contract_active_at(
    *, starts_at: datetime, ends_at: datetime, auto_renewal: bool, tz: str, at: datetime
) -> bool:
    if at < starts_at:
        return False
    end = contract_term_end(
        starts_at=starts_at, ends_at=ends_at, auto_renewal=auto_renewal, tz=tz, at=at
    )
    return at < end


def contract_covers_fee(*, period: Period, **term) -> bool:
    """A contract prices a period's fee (in advance) when it is in force at its start."""
    return contract_active_at(at=period.start, **term)


def contract_covers_arrears(*, period: Period, **term) -> bool:
    """A contract prices a period's arrears (usage, users) when it is in force at its last
    instant: one created mid-period prices that period's arrears."""
    return contract_active_at(at=period.end - timedelta(microseconds=1), **term)


@dataclass(frozen=True, slots=True)
class ContractYear:
    index: int  # 0 for the first year
    period: Period  # [start, end) of the year
    full_year: Period  # the whole year it belongs to (the same unless the term ends early)


def contract_years_ending(
    *,
    starts_at: datetime,
    ends_at: datetime,
    auto_renewal: bool,
    tz: str,
    within: Period,
) -> tuple[ContractYear, ...]:
    """Contract years whose end falls in (within.start, within.end]: each ends on an
    anniversary of the start, or earlier at the end of a term that is not renewed."""
    years = []
    index = 0
    while True:
        start = contract_anniversary(starts_at=starts_at, tz=tz, years=index)
        if start >= within.end:
            break
        full_end = contract_anniversary(starts_at=starts_at, tz=tz, years=index + 1)
        # A renewing contract never ends: its years are whole; otherwise the term cuts the last.
        if not auto_renewal and start >= ends_at:
            break
        end = full_end if auto_renewal else min(full_end, ends_at)
        if within.start < end <= within.end:
            years.append(
                ContractYear(
                    index=index,
                    period=Period(start=start, end=end),
                    full_year=Period(start=start, end=full_end),
                )
            )
        index += 1
    return tuple(years)


# --- priced lines ----------------------------------------------------------------------------


def _explained(line: PricedLine, **extra: Any) -> PricedLine:
    return replace(line, extra=tuple((*line.extra, *extra.items())))


def price_contract_fee(
    *,
    terms: ContractTerms,
    period: Period,
    currency: str,
    remaining_days: int | None = None,
    period_days: int | None = None,
) -> PricedLine:
    """The contract's base price for `period`, in advance; for `remaining_days` of
    `period_days` when given (a trial ending mid-period), rounded once."""
    extra = (("contract_version", terms.version), ("replaces", "plan_fee"))
    description = f"Contract base fee (version {terms.version})"
    if remaining_days is None or period_days is None or remaining_days == period_days:
        return PricedLine(
            kind="contract_fee",
            description=description,
            quantity=Decimal(1),
            unit_price=Decimal(terms.base_price),
            amount=terms.base_price,
            period=period,
            extra=extra,
        )
    if not 0 <= remaining_days <= period_days:
        raise ValueError("remaining_days must be within [0, period_days]")
    amount = prorate(
        amount=terms.base_price, fraction=Fraction(remaining_days, period_days), currency=currency
    )
    return PricedLine(
        kind="contract_fee",
        description=f"{description}, {remaining_days} of {period_days} days",
        quantity=Decimal(1),
        unit_price=Decimal(amount),
        amount=amount,
        period=period,
        numerator=remaining_days,
        denominator=period_days,
        extra=extra,
    )


def price_seats(
    *, terms: ContractTerms, usage: Mapping[str, Decimal], period: Period, currency: str
) -> PricedLine | None:
    if not terms.user_price:
        return None
    users = Decimal(usage.get(USER_METRIC, Decimal(0)))
    return PricedLine(
        kind="seats",
        description=(
            f"{grouped(users)} active users x {format_money_rate(terms.user_price, currency)}"
        ),
        quantity=users,
        unit_price=terms.user_price,
        amount=round_minor(users * terms.user_price, currency),
        period=period,
        extra=(
            ("users_counted", decimal_str(users)),
            ("user_metric", USER_METRIC),
            ("unit_price", decimal_str(terms.user_price)),
            ("contract_version", terms.version),
        ),
    )


def format_money_rate(rate: Decimal, currency: str) -> str:
    """A unit price for people: whole cents as money, fractions as cents ("0.5 cents")."""
    if rate == rate.to_integral_value():
        return format_money(int(rate), currency)
    return f"{decimal_str(rate)} cents"


def contract_rated(line: PricedLine, *, terms: ContractTerms) -> PricedLine:
    """Mark an overage line priced at the contract's rate."""
    return _explained(line, rate_source="contract", contract_version=terms.version)


def volume_discount_tier(*, terms: ContractTerms, subtotal: int) -> VolumeDiscount | None:
    """The highest threshold that `subtotal` reaches (>=), or None."""
    reached = [tier for tier in terms.volume_discounts if subtotal >= tier.threshold]
    return reached[-1] if reached else None


def price_volume_discount(
    *, terms: ContractTerms, subtotal: int, currency: str, period: Period | None
) -> PricedLine | None:
    tier = volume_discount_tier(terms=terms, subtotal=subtotal)
    if tier is None or subtotal <= 0:
        return None
    amount = round_minor(subtotal * Fraction(tier.percent) / 100, currency)
    if amount == 0:
        return None
    return PricedLine(
        kind="discount",
        description=(
            f"Volume discount, {decimal_str(tier.percent)}% off "
            f"(subtotal {format_money(subtotal, currency)} reached "
            f"{format_money(tier.threshold, currency)})"
        ),
        quantity=Decimal(1),
        unit_price=Decimal(-amount),
        amount=-amount,
        period=period,
        extra=(
            ("discount_source", "volume"),
            ("threshold", tier.threshold),
            ("percent", decimal_str(tier.percent)),
            ("subtotal", subtotal),
            ("contract_version", terms.version),
        ),
    )


@dataclass(frozen=True, slots=True)
class YearBilled:
    """A contract year that ended, what was billed in it and its minimum."""

    year: ContractYear
    billed: int  # pre-tax, after discounts, net of credit notes
    annual_minimum: int


def year_minimum(*, year: ContractYear, annual_minimum: int, currency: str, tz: str) -> int:
    """The minimum for a year; a shorter last year (a term not renewed) by its days."""
    if year.period == year.full_year:
        return annual_minimum
    zone = ZoneInfo(tz)

    def days(period: Period) -> int:
        return (period.end.astimezone(zone).date() - period.start.astimezone(zone).date()).days

    return round_minor(
        Fraction(annual_minimum) * Fraction(days(year.period), days(year.full_year)), currency
    )


def price_true_up(*, billed: YearBilled, currency: str) -> PricedLine | None:
    shortfall = billed.annual_minimum - billed.billed
    if shortfall <= 0:
        return None
    year = billed.year
    return PricedLine(
        kind="true_up",
        description=(
            f"Annual minimum true-up, contract year {year.index + 1} "
            f"({year.period.start.date().isoformat()} to {year.period.end.date().isoformat()}): "
            f"billed {format_money(billed.billed, currency)} of "
            f"{format_money(billed.annual_minimum, currency)}"
        ),
        quantity=Decimal(1),
        unit_price=Decimal(shortfall),
        amount=shortfall,
        period=year.period,
        extra=(
            ("contract_year", year.index + 1),
            ("year_start", instant_str(year.period.start)),
            ("year_end", instant_str(year.period.end)),
            ("billed", billed.billed),
            ("annual_minimum", billed.annual_minimum),
        ),
    )
