"""Priced invoice lines as plain values, with a JSON-friendly explanation."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from subscriptions.pricing.periods import Period

LINE_KINDS = ("plan_fee", "proration", "overage", "discount", "contract_fee", "seats", "true_up")


def decimal_str(value: Decimal) -> str:
    """Plain notation without trailing zeros: 0.50 -> "0.5", 1E+1 -> "10"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def grouped(value: Decimal) -> str:
    """For people: thousands separated, no trailing zeros (30000 -> "30,000", 2.5 -> "2.5")."""
    whole, _, fraction = decimal_str(value).partition(".")
    sign = "-" if whole.startswith("-") else ""
    text = f"{sign}{int(whole.lstrip('-')):,}"
    return f"{text}.{fraction}" if fraction else text


def instant_str(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class PricedLine:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal  # minor units, may be fractional
    amount: int  # minor units, negative for discounts
    period: Period | None = None
    numerator: int | None = None  # prorated lines: remaining days
    denominator: int | None = None  # prorated lines: days in the period
    metric: str | None = None
    included: Decimal | None = None
    measured: Decimal | None = None
    extra: tuple[tuple[str, Any], ...] = ()  # more of the explanation (contract terms applied)

    def __post_init__(self) -> None:
        if self.kind not in LINE_KINDS:
            raise ValueError(f"line kind must be one of {LINE_KINDS}")
        if (self.numerator is None) != (self.denominator is None):
            raise ValueError("numerator and denominator go together")
        if self.denominator is not None and self.denominator <= 0:
            raise ValueError("denominator must be > 0")

    def explanation(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.period is not None:
            data["period_start"] = instant_str(self.period.start)
            data["period_end"] = instant_str(self.period.end)
        if self.numerator is not None and self.denominator is not None:
            data["numerator"] = self.numerator
            data["denominator"] = self.denominator
            data["fraction"] = f"{self.numerator}/{self.denominator}"
        if self.metric is not None:
            data["metric"] = self.metric
            data["quantity"] = decimal_str(self.quantity)
            data["unit_price"] = decimal_str(self.unit_price)
        if self.included is not None:
            data["included"] = decimal_str(self.included)
        if self.measured is not None:
            data["measured"] = decimal_str(self.measured)
        data.update(self.extra)
        return data


@dataclass(frozen=True, slots=True)
class PricedPeriod:
    lines: tuple[PricedLine, ...]
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines if line.kind != "discount")

    @property
    def discount(self) -> int:
        return -sum(line.amount for line in self.lines if line.kind == "discount")

    @property
    def total(self) -> int:
        return self.subtotal - self.discount
