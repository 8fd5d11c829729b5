"""Contract pricing without a database: the issue's exact cases and the term's arithmetic."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from subscriptions.pricing import (
    ContractTermsInvalid,
    ContractYear,
    MetricTerms,
    Period,
    PlanTerms,
    YearBilled,
    billing_period,
    contract_active_at,
    contract_covers_arrears,
    contract_covers_fee,
    contract_term_end,
    contract_terms_parse,
    contract_years_ending,
    payment_terms_clean,
    price_period,
    year_minimum,
)

ENTERPRISE = PlanTerms(
    plan_name="Enterprise",
    amount=80000,
    currency="usd",
    metrics=(
        MetricTerms(metric="api_calls", included=Decimal(1_000_000), unit_price=Decimal(1)),
        MetricTerms(metric="storage_gb", included=Decimal(1000), unit_price=Decimal(500)),
        MetricTerms(metric="active_users", included=Decimal(200), unit_price=Decimal(1000)),
    ),
)
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
USAGE = {"active_users": Decimal(120), "api_calls": Decimal(3_000_000)}


def terms(**overrides):
    raw = {
        "annual_minimum": 0,
        "custom_pricing": {
            "base_price": 500000,
            "user_price": 1500,
            "overage_rates": {"api_calls": 0.5},
        },
        "payment_terms": "Net 60",
        "auto_renewal": True,
        "volume_discounts": [],
    }
    raw.update(overrides)
    return contract_terms_parse(raw)


def period(index: int) -> Period:
    return billing_period(anchor=ANCHOR, tz="UTC", index=index)


def priced_at_end(contract):
    return price_period(
        plan=ENTERPRISE,
        fee_period=period(1),
        usage_period=period(0),
        usage=USAGE,
        fee_contract=contract,
        usage_contract=contract,
    )


def test_the_issue_case_bills_base_users_and_contract_overage() -> None:
    priced = priced_at_end(terms())
    assert [(line.kind, line.amount) for line in priced.lines] == [
        ("contract_fee", 500000),
        ("seats", 180000),
        ("overage", 1000000),
    ]
    assert priced.total == 1680000
    fee, seats, calls = priced.lines
    assert fee.period == period(1) and seats.period == calls.period == period(0)
    assert seats.explanation()["users_counted"] == "120"
    assert seats.explanation()["unit_price"] == "1500"
    assert calls.explanation() | {} == {
        **calls.explanation(),
        "metric": "api_calls",
        "quantity": "2000000",
        "unit_price": "0.5",
        "included": "1000000",
        "measured": "3000000",
        "rate_source": "contract",
    }


def test_volume_discount_takes_the_highest_threshold_reached() -> None:
    contract = terms(
        volume_discounts=[
            {"threshold": 100000, "discount": 5},
            {"threshold": 1000000, "discount": 10},
        ]
    )
    priced = priced_at_end(contract)
    assert priced.lines[-1].kind == "discount" and priced.lines[-1].amount == -168000
    assert (priced.subtotal, priced.discount, priced.total) == (1680000, 168000, 1512000)
    explanation = priced.lines[-1].explanation()
    assert (explanation["threshold"], explanation["percent"], explanation["subtotal"]) == (
        1000000,
        "10",
        1680000,
    )


def test_volume_discount_below_every_threshold_is_none() -> None:
    contract = terms(volume_discounts=[{"threshold": 10_000_000, "discount": 10}])
    assert [line.kind for line in priced_at_end(contract).lines] == [
        "contract_fee",
        "seats",
        "overage",
    ]


def test_metrics_without_a_contract_rate_keep_the_plan_price() -> None:
    usage = {**USAGE, "storage_gb": Decimal(1002)}
    priced = price_period(
        plan=ENTERPRISE,
        fee_period=None,
        usage_period=period(0),
        usage=usage,
        usage_contract=terms(),
    )
    storage = next(line for line in priced.lines if line.metric == "storage_gb")
    assert (storage.amount, storage.unit_price) == (1000, Decimal(500))
    assert "rate_source" not in storage.explanation()


def test_seats_replace_the_active_users_overage() -> None:
    usage = {"active_users": Decimal(250)}
    priced = price_period(
        plan=ENTERPRISE, fee_period=None, usage_period=period(0), usage=usage,
        usage_contract=terms(),
    )  # fmt: skip
    assert [(line.kind, line.amount) for line in priced.lines] == [("seats", 375000)]


def test_a_contract_metric_the_plan_lacks_is_billed_from_zero() -> None:
    contract = terms(
        custom_pricing={"base_price": 0, "user_price": 0, "overage_rates": {"ai_requests": 2.5}}
    )
    priced = price_period(
        plan=ENTERPRISE, fee_period=None, usage_period=period(0),
        usage={"ai_requests": Decimal(3)}, usage_contract=contract,
    )  # fmt: skip
    assert [(line.kind, line.amount) for line in priced.lines] == [("overage", 8)]  # 7.5 -> 8


def test_fee_only_contract_leaves_arrears_to_the_plan() -> None:
    priced = price_period(
        plan=ENTERPRISE, fee_period=period(1), usage_period=period(0), usage=USAGE,
        fee_contract=terms(),
    )  # fmt: skip
    assert [(line.kind, line.amount) for line in priced.lines] == [
        ("contract_fee", 500000),
        ("overage", 2000000),
    ]


def test_true_up_bills_the_shortfall_last() -> None:
    year = ContractYear(index=0, period=Period(start=ANCHOR, end=period(12).start),
                        full_year=Period(start=ANCHOR, end=period(12).start))  # fmt: skip
    priced = price_period(
        plan=ENTERPRISE,
        fee_period=period(12),
        usage_period=period(11),
        usage={},
        fee_contract=terms(),
        usage_contract=terms(),
        true_ups=(YearBilled(year=year, billed=9_000_000, annual_minimum=10_000_000),),
    )
    true_up = priced.lines[-1]
    assert (true_up.kind, true_up.amount) == ("true_up", 1_000_000)
    assert true_up.explanation()["billed"] == 9_000_000
    assert true_up.explanation()["annual_minimum"] == 10_000_000
    assert "$90,000.00 of $100,000.00" in true_up.description
    met = YearBilled(year=year, billed=10_000_000, annual_minimum=10_000_000)
    assert (
        price_period(
            plan=ENTERPRISE, fee_period=None, usage_period=None, usage={}, true_ups=(met,)
        ).lines
        == ()
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Net 60", "net_60"),
        ("net_60", "net_60"),
        ("NET-30", "net_30"),
        ("Due on receipt", "due_on_receipt"),
    ],  # fmt: skip
)
def test_payment_terms(text, expected) -> None:
    assert payment_terms_clean(text) == expected


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"custom_pricing": {"base_price": -1}}, "contract_terms.custom_pricing.base_price"),
        ({"custom_pricing": {"user_price": -5}}, "contract_terms.custom_pricing.user_price"),
        (
            {"custom_pricing": {"overage_rates": {"api_calls": -0.5}}},
            "contract_terms.custom_pricing.overage_rates.api_calls",
        ),
        (
            {"volume_discounts": [{"threshold": 1, "discount": 101}]},
            "contract_terms.volume_discounts.0.discount",
        ),
        (
            {"volume_discounts": [{"threshold": 1, "discount": 0}]},
            "contract_terms.volume_discounts.0.discount",
        ),
        ({"annual_minimum": 1.5}, "contract_terms.annual_minimum"),
        ({"payment_terms": "Net 45"}, "contract_terms.payment_terms"),
        ({"auto_renewal": "yes"}, "contract_terms.auto_renewal"),
        ({"surprise": 1}, "contract_terms.surprise"),
        (
            {"custom_pricing": {"user_price": 1, "overage_rates": {"active_users": 2}}},
            "contract_terms.custom_pricing.overage_rates.active_users",
        ),
    ],
)
def test_bad_terms_name_the_field(overrides, field) -> None:
    with pytest.raises(ContractTermsInvalid) as caught:
        terms(**overrides)
    assert field in caught.value.errors


def test_terms_round_trip_through_json() -> None:
    contract = terms(volume_discounts=[{"threshold": 100000, "discount": 7.5}])
    assert contract_terms_parse(contract.as_json()) == contract
    assert contract.as_json()["custom_pricing"]["overage_rates"] == {"api_calls": "0.5"}


def test_term_renews_a_year_at_a_time_when_auto_renewal() -> None:
    start, end = ANCHOR, datetime(2027, 1, 1, tzinfo=UTC)
    term = {"starts_at": start, "ends_at": end, "tz": "UTC"}
    later = datetime(2028, 6, 1, tzinfo=UTC)
    assert contract_term_end(**term, auto_renewal=True, at=later) == datetime(
        2029, 1, 1, tzinfo=UTC
    )
    assert contract_active_at(**term, auto_renewal=True, at=later)
    assert not contract_active_at(**term, auto_renewal=False, at=later)
    assert not contract_active_at(**term, auto_renewal=False, at=end)


def test_a_contract_created_mid_period_prices_its_arrears_and_the_next_fee() -> None:
    created = datetime(2026, 1, 15, 10, tzinfo=UTC)
    term = {"starts_at": created, "ends_at": datetime(2027, 1, 15, 10, tzinfo=UTC),
            "auto_renewal": False, "tz": "UTC"}  # fmt: skip
    assert not contract_covers_fee(period=period(0), **term)
    assert contract_covers_arrears(period=period(0), **term)
    assert contract_covers_fee(period=period(1), **term)
    # the last period that ends after the term: its arrears fall back to the plan
    assert not contract_covers_arrears(period=period(12), **term)
    assert contract_covers_fee(period=period(12), **term)


def test_years_ending_inside_a_period() -> None:
    term = {"starts_at": ANCHOR, "ends_at": datetime(2027, 1, 1, tzinfo=UTC), "tz": "UTC"}
    (year,) = contract_years_ending(**term, auto_renewal=True, within=period(11))
    assert (year.index, year.period.end) == (0, datetime(2027, 1, 1, tzinfo=UTC))
    assert contract_years_ending(**term, auto_renewal=True, within=period(5)) == ()
    (second,) = contract_years_ending(**term, auto_renewal=True, within=period(23))
    assert second.index == 1
    assert contract_years_ending(**term, auto_renewal=False, within=period(23)) == ()


def test_a_shorter_last_year_has_a_minimum_by_days() -> None:
    end = datetime(2026, 7, 2, tzinfo=UTC)  # 182 of 365 days
    (year,) = contract_years_ending(
        starts_at=ANCHOR, ends_at=end, auto_renewal=False, tz="UTC", within=period(6)
    )
    assert year.period.end == end
    assert year_minimum(year=year, annual_minimum=365_000, currency="usd", tz="UTC") == 182_000


def test_a_contract_fee_prorated_by_days() -> None:
    priced = price_period(
        plan=ENTERPRISE, fee_period=period(0), usage_period=None, usage={},
        remaining_days=17, period_days=31, fee_contract=terms(),
    )  # fmt: skip
    (fee,) = priced.lines
    assert (fee.kind, fee.amount, fee.numerator, fee.denominator) == (
        "contract_fee",
        274194,
        17,
        31,
    )


def test_a_renewing_contract_has_whole_years_whatever_its_first_term() -> None:
    term = {"starts_at": datetime(2026, 1, 15, tzinfo=UTC),
            "ends_at": datetime(2026, 3, 1, tzinfo=UTC), "tz": "UTC"}  # fmt: skip
    assert contract_years_ending(**term, auto_renewal=True, within=period(2)) == ()
    (year,) = contract_years_ending(**term, auto_renewal=True, within=period(12))
    assert year.period == year.full_year
    assert year.period.end == datetime(2027, 1, 15, tzinfo=UTC)
    (cut,) = contract_years_ending(**term, auto_renewal=False, within=period(1))
    assert cut.period.end == datetime(2026, 3, 1, tzinfo=UTC) and cut.period != cut.full_year
