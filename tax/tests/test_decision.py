"""The pure decision: no database, no clock."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tax.decision import (
    EU_MEMBER_STATES,
    EU_REVERSE_CHARGE_MENTION,
    Party,
    Rate,
    Registration,
    TaxTable,
    TaxTableError,
    decide,
    line_taxes,
    proportional_tax,
    tax_amount,
)

START = date(2025, 1, 1)
TODAY = date(2026, 11, 15)
EU = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
    "EE": "24", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27",
    "IE": "23", "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21",
    "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
}  # fmt: skip
US = {"CA": "8.25", "NY": "8.00", "TX": "6.25", "WA": "6.50"}
TABLE = TaxTable(
    rates=tuple(Rate(c, "", Decimal(r), START) for c, r in EU.items())
    + (Rate("GB", "", Decimal(20), START),)
    + tuple(Rate("US", s, Decimal(r), START, "Sales tax") for s, r in US.items()),
    registrations=tuple(Registration("US", s, "sales_tax", START) for s in US),
    version="t1",
)
US_SELLER = Party(country="US", state="CA")
DE_SELLER = Party(country="DE", vat_id="DE136695976")


def quote(buyer, seller=US_SELLER, amount=10000, table=TABLE, on=TODAY, **kw):
    decision = decide(buyer=buyer, seller=seller, on=on, amount=amount, table=table, **kw)
    return decision, decision.tax_on(amount, "usd")


def test_the_table_has_all_27_member_states():
    assert set(EU) == EU_MEMBER_STATES and len(EU_MEMBER_STATES) == 27


def test_us_nexus_state_pays_its_rate():
    decision, tax = quote(Party(country="US", state="CA", postal_code="94105"))
    assert (decision.kind, decision.jurisdiction, decision.rate, tax) == (
        "sales_tax",
        "US-CA",
        Decimal("8.25"),
        825,
    )


def test_us_state_without_nexus_is_out_of_scope():
    decision, tax = quote(Party(country="US", state="OR"))
    assert (decision.kind, decision.jurisdiction, tax) == ("out_of_scope", "US-OR", 0)
    assert "nexus" in decision.reason


def test_exempt_buyer_pays_none_with_its_reason():
    buyer = Party(country="US", state="NY", tax_exempt=True, tax_exempt_reason="501(c)(3) charity")
    decision, tax = quote(buyer)
    assert (decision.kind, decision.exempt, tax, decision.reason) == (
        "exempt",
        True,
        0,
        "501(c)(3) charity",
    )


@pytest.mark.parametrize(("country", "tax"), [("DE", 1900), ("IE", 2300), ("FI", 2550)])
def test_eu_consumer_pays_the_customer_country_rate(country, tax):
    decision, amount = quote(Party(country=country))
    assert (decision.kind, decision.jurisdiction, amount, decision.oss) == (
        "vat",
        country,
        tax,
        True,
    )


def test_eu_business_in_another_state_is_reverse_charged():
    decision, tax = quote(Party(country="FR", vat_id="FR40303265045"))
    assert (decision.kind, decision.reverse_charge, tax) == ("reverse_charge", True, 0)
    assert decision.legal_mention == EU_REVERSE_CHARGE_MENTION
    assert decision.buyer_vat_id == "FR40303265045"


def test_eu_seller_domestic_business_pays_domestic_vat():
    decision, tax = quote(Party(country="DE", vat_id="DE136695976"), seller=DE_SELLER)
    assert (decision.kind, decision.jurisdiction, tax) == ("vat", "DE", 1900)


def test_eu_seller_below_the_threshold_charges_its_own_rate_above_it_the_customers():
    buyer = Party(country="FR")
    below, _ = quote(buyer, seller=DE_SELLER, eu_cross_border_b2c_sales=900_000)
    above, _ = quote(buyer, seller=DE_SELLER, eu_cross_border_b2c_sales=1_000_001)
    assert (below.jurisdiction, below.rate, below.oss) == ("DE", Decimal(19), False)
    assert (above.jurisdiction, above.rate, above.oss) == ("FR", Decimal(20), True)
    lower, _ = quote(buyer, seller=DE_SELLER, eu_cross_border_b2c_sales=600, eu_threshold=500)
    assert lower.jurisdiction == "FR"


@pytest.mark.parametrize("country", ["GB", "UK", "gb"])
def test_uk_consumer_pays_20_percent(country):
    decision, tax = quote(Party(country=country))
    assert (decision.kind, decision.jurisdiction, tax) == ("vat", "GB", 2000)


def test_uk_business_from_outside_the_uk_is_reverse_charged_inside_it_is_not():
    buyer = Party(country="GB", vat_id="GB980780684")
    outside, tax = quote(buyer)
    assert (outside.kind, tax) == ("reverse_charge", 0) and "HMRC" in outside.legal_mention
    northern_ireland, _ = quote(Party(country="GB", vat_id="XI980780684"))
    assert northern_ireland.kind == "reverse_charge"
    inside, tax = quote(buyer, seller=Party(country="GB"))
    assert (inside.kind, tax) == ("vat", 2000)


def test_greek_vat_ids_use_el():
    decision, _ = quote(Party(country="GR", vat_id="EL094259216"))
    assert decision.kind == "reverse_charge"


def test_rest_of_world_is_out_of_scope_unless_a_registration_says_otherwise():
    decision, tax = quote(Party(country="AU"))
    assert (decision.kind, tax) == ("out_of_scope", 0)
    registered = TaxTable(
        rates=(*TABLE.rates, Rate("AU", "", Decimal(10), START, "GST")),
        registrations=(*TABLE.registrations, Registration("AU", "", "vat", START, tax_name="GST")),
    )
    decision, tax = quote(Party(country="AU"), table=registered)
    assert (decision.kind, decision.jurisdiction, decision.tax_name, tax) == (
        "vat",
        "AU",
        "GST",
        1000,
    )


def test_a_future_rate_applies_from_its_date_only():
    table = TaxTable(
        rates=(*TABLE.rates, Rate("US", "CA", Decimal("9.00"), date(2027, 1, 1), "Sales tax")),
        registrations=TABLE.registrations,
    )
    before, tax_before = quote(Party(country="US", state="CA"), table=table, on=date(2026, 12, 31))
    after, tax_after = quote(Party(country="US", state="CA"), table=table, on=date(2027, 1, 1))
    assert (tax_before, tax_after) == (825, 900)
    assert after.rate_valid_from == date(2027, 1, 1)


def test_a_registration_without_a_rate_in_force_is_an_error():
    table = TaxTable(
        rates=TABLE.rates, registrations=(Registration("US", "CA", "sales_tax", date(2024, 1, 1)),)
    )
    with pytest.raises(TaxTableError):
        quote(Party(country="US", state="CA"), on=date(2024, 6, 1), table=table)
    # before the registration, no nexus: out of scope
    assert quote(Party(country="US", state="CA"), on=date(2023, 6, 1), table=table)[0].kind == (
        "out_of_scope"
    )


def test_negative_amount_is_refused():
    with pytest.raises(ValueError):
        quote(Party(country="US", state="CA"), amount=-1)


def test_tax_per_line_is_rounded_half_up_each():
    # 3 lines after a 20 % coupon on the first: 16000, 1234, 101 at 8.25 %
    assert line_taxes(amounts=[16000, 1234, 101], rate=Decimal("8.25"), currency="usd") == [
        1320,
        102,  # 101.805
        8,  # 8.3325
    ]
    assert tax_amount(amount=200, rate=Decimal("8.25"), currency="usd") == 17  # 16.5 half-up


@given(
    amount=st.integers(min_value=-(10**9), max_value=10**12),
    rate=st.decimals(min_value=0, max_value=100, places=4),
)
def test_tax_is_never_negative(amount, rate):
    assert tax_amount(amount=amount, rate=rate, currency="usd") >= 0


@given(
    amounts=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8),
    rate=st.decimals(min_value=0, max_value=30, places=2),
    partial=st.lists(st.integers(min_value=1, max_value=10**6), max_size=4),
)
def test_credit_notes_never_reverse_more_than_the_tax_and_a_whole_credit_reverses_it_exactly(
    amounts, rate, partial
):
    taxes = line_taxes(amounts=amounts, rate=rate, currency="usd")
    tax = sum(taxes)
    total = sum(amounts) + tax
    assert all(t >= 0 for t in taxes)
    whole = proportional_tax(
        credited=total, credited_before=0, total=total, tax=tax, tax_credited=0, currency="usd"
    )
    assert whole == tax
    credited = reversed_tax = 0
    for amount in partial:
        amount = min(amount, total - credited)
        if amount <= 0:
            break
        part = proportional_tax(
            credited=amount,
            credited_before=credited,
            total=total,
            tax=tax,
            tax_credited=reversed_tax,
            currency="usd",
        )
        assert 0 <= part <= amount
        credited += amount
        reversed_tax += part
    rest = total - credited
    if rest > 0:
        reversed_tax += proportional_tax(
            credited=rest,
            credited_before=credited,
            total=total,
            tax=tax,
            tax_credited=reversed_tax,
            currency="usd",
        )
    assert reversed_tax == tax
