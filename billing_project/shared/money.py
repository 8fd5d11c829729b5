"""Money helpers: amounts are integer minor units plus a lower-case ISO 4217 code."""

from decimal import Decimal
from fractions import Fraction

CURRENCY_EXPONENTS: dict[str, int] = {
    "aed": 2, "aud": 2, "brl": 2, "cad": 2, "chf": 2, "clp": 0, "cny": 2, "czk": 2,
    "dkk": 2, "eur": 2, "gbp": 2, "hkd": 2, "huf": 2, "idr": 2, "ils": 2, "inr": 2,
    "isk": 0, "jpy": 0, "krw": 0, "mxn": 2, "myr": 2, "nok": 2, "nzd": 2, "php": 2,
    "pln": 2, "ron": 2, "sar": 2, "sek": 2, "sgd": 2, "thb": 2, "try": 2, "twd": 2,
    "usd": 2, "vnd": 0, "zar": 2, "bhd": 3, "jod": 3, "kwd": 3, "omr": 3, "tnd": 3,
}  # fmt: skip

CURRENCY_SYMBOLS: dict[str, str] = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown currency: {currency!r}") from None


def _exact(value: Decimal | Fraction | int) -> Fraction:
    # bool is an int subclass and float is inexact: both are refused.
    if isinstance(value, bool) or not isinstance(value, Decimal | Fraction | int):
        raise TypeError(f"expected Decimal, Fraction or int, got {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    return Fraction(value)


def round_minor(value: Decimal | Fraction | int, currency: str) -> int:
    """Round an amount already in minor units to whole minor units, half away from zero."""
    currency_exponent(currency)
    exact = _exact(value)
    magnitude = int(abs(exact) + Fraction(1, 2))  # int() floors a non-negative Fraction
    return -magnitude if exact < 0 else magnitude


def format_money(cents: int, currency: str) -> str:
    """`$1,234.56`, `¥1,234`, `€1,234.56`; currencies without a symbol: `1,234.56 CHF`."""
    exponent = currency_exponent(currency)
    sign = "-" if cents < 0 else ""
    whole, minor = divmod(abs(cents), 10**exponent)
    number = f"{whole:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency.upper()}"


def major_to_minor(amount: Decimal, currency: str, *, extra_places: int = 0) -> Decimal:
    """`Decimal("250.00")` USD -> `Decimal("25000")`: a major-unit amount in minor units. More
    decimals than the currency's exponent (+ `extra_places`, for fractional unit prices) raise
    ValueError; the result is integral when `extra_places` is 0."""
    exponent = currency_exponent(currency)
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    minor = amount.scaleb(exponent)
    if minor != minor.quantize(Decimal(1).scaleb(-extra_places)):
        raise ValueError(f"at most {exponent + extra_places} decimals in {currency.upper()}")
    return minor.quantize(Decimal(1).scaleb(-extra_places)) if extra_places else minor.quantize(1)


def minor_to_major(minor: Decimal | int, currency: str) -> Decimal:
    """25000 USD -> `Decimal("250.00")`; `Decimal("0.5")` USD -> `Decimal("0.005")`: at least the
    currency's decimals, more only where the (fractional) minor amount needs them."""
    exponent = currency_exponent(currency)
    major = Decimal(minor).scaleb(-exponent)
    places = max(exponent, -min(major.normalize().as_tuple().exponent, 0))
    return major.quantize(Decimal(1).scaleb(-places))
