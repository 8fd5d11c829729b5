from decimal import Decimal
from fractions import Fraction

import pytest

from billing_project.shared.money import currency_exponent, format_money, round_minor


def test_currency_exponent_is_case_insensitive() -> None:
    assert currency_exponent("usd") == 2
    assert currency_exponent("EUR") == 2
    assert currency_exponent("JPY") == 0
    assert currency_exponent("krw") == 0


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError):
        currency_exponent("xyz")
    with pytest.raises(ValueError):
        round_minor(1, "xyz")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.5"), 3),
        (Decimal("-2.5"), -3),
        (Decimal("2.4999"), 2),
        (Decimal("-2.4999"), -2),
        (Decimal("0.5"), 1),
        (Fraction(1, 2), 1),
        (Fraction(150000, 31), 4839),
        (Fraction(340000, 31), 10968),
        (7, 7),
        (Decimal(0), 0),
    ],
)
def test_round_minor_rounds_half_away_from_zero(
    value: Decimal | Fraction | int, expected: int
) -> None:
    assert round_minor(value, "usd") == expected
    assert round_minor(value, "jpy") == expected


def test_round_minor_refuses_floats_and_non_finite() -> None:
    with pytest.raises(TypeError):
        round_minor(1.5, "usd")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        round_minor(True, "usd")
    with pytest.raises(ValueError):
        round_minor(Decimal("NaN"), "usd")


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [
        (123456, "usd", "$1,234.56"),
        (5, "USD", "$0.05"),
        (-123456, "usd", "-$1,234.56"),
        (1234, "jpy", "¥1,234"),
        (100000, "eur", "€1,000.00"),
        (99, "gbp", "£0.99"),
        (123456, "chf", "1,234.56 CHF"),
        (1234567, "kwd", "1,234.567 KWD"),
    ],
)
def test_format_money(cents: int, currency: str, expected: str) -> None:
    assert format_money(cents, currency) == expected
