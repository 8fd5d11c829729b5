"""Contracts in the billing cycle: the issue's exact cases, versions, due dates, true-ups."""

import re
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from invoicing.models import Invoice
from invoicing.services import documents
from invoicing.services.subscription_billing import subscription_change_plan_and_invoice
from invoicing.tests.conftest import at, pdf_text, plan, start
from subscriptions.models import Contract
from subscriptions.services.contracts import contract_create, contract_update

pytestmark = pytest.mark.django_db

ISSUE_TERMS = {
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
DISCOUNTS = [{"threshold": 100000, "discount": 5}, {"threshold": 1000000, "discount": 10}]


def cycle(now: str) -> str:
    out = StringIO()
    call_command("run_billing_cycle", "--now", now, stdout=out)
    return out.getvalue().strip()


def lines(invoice):
    return [(line.kind, line.amount) for line in invoice.lines.order_by("position")]


def contract(tenant, when, **terms):
    return contract_create(tenant=tenant, contract_terms={**ISSUE_TERMS, **terms}, now=at(when))


def test_the_issue_case_is_billed_at_period_end(tenant, make_tenant, usage_feed):
    plain = make_tenant()  # billed by the bulk path in the same chunk
    start(plain, "team")
    sub, first = start(tenant, "enterprise")
    assert first.total == 80000 and first.contract_version is None  # before the contract
    made = contract(tenant, "2026-01-10T12:00:00Z")
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), active_users=120, api_calls=3_000_000)
    usage_feed.set(plain, at("2026-01-01T00:00:00Z"), api_calls=100_010)
    assert "2 invoices" in cycle("2026-02-01T00:00:00Z")
    feb = Invoice.objects.get(subscription=sub, period_start=at("2026-02-01T00:00:00Z"))
    assert lines(feb) == [("contract_fee", 500000), ("seats", 180000), ("overage", 1000000)]
    assert (feb.subtotal, feb.discount, feb.total) == (1680000, 0, 1680000)
    assert feb.contract_version == made.versions.get()
    seats = feb.lines.get(kind="seats")
    assert seats.explanation["users_counted"] == "120" and seats.quantity == 120
    calls = feb.lines.get(kind="overage")
    assert calls.explanation["rate_source"] == "contract"
    assert (calls.explanation["included"], calls.explanation["unit_price"]) == ("1000000", "0.5")
    # "Net 60": due 60 days after issue
    assert feb.payment_terms == "net_60"
    assert feb.due_at - feb.issued_at == timedelta(days=60)
    other = Invoice.objects.get(subscription__tenant=plain, period_start=at("2026-02-01T00:00:00Z"))
    assert lines(other) == [("plan_fee", 20000), ("overage", 10)]
    assert other.contract_version is None and other.payment_terms == "due_on_receipt"


def test_volume_discount_of_the_highest_threshold_reached(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    contract(tenant, "2026-01-10T12:00:00Z", volume_discounts=DISCOUNTS)
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), active_users=120, api_calls=3_000_000)
    cycle("2026-02-01T00:00:00Z")
    feb = Invoice.objects.get(subscription=sub, period_start=at("2026-02-01T00:00:00Z"))
    assert lines(feb)[-1] == ("discount", -168000)
    assert (feb.subtotal, feb.discount, feb.total, feb.amount_due) == (
        1680000, 168000, 1512000, 1512000
    )  # fmt: skip
    explanation = feb.lines.get(kind="discount").explanation
    assert (explanation["threshold"], explanation["percent"]) == (1000000, "10")


def test_each_invoice_records_the_version_it_used(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    made = contract(tenant, "2026-01-10T12:00:00Z")
    cycle("2026-02-01T00:00:00Z")
    contract_update(
        contract=made,
        contract_terms={"custom_pricing": {"base_price": 600000}},
        now=at("2026-02-10T00:00:00Z"),
    )
    cycle("2026-03-01T00:00:00Z")
    feb, mar = Invoice.objects.filter(subscription=sub, contract_version__isnull=False).order_by(
        "period_start"
    )
    assert (feb.contract_version.version, lines(feb)) == (1, [("contract_fee", 500000)])
    assert (mar.contract_version.version, lines(mar)) == (2, [("contract_fee", 600000)])
    assert feb.lines.get().explanation["contract_version"] == 1


def test_a_contract_that_ends_falls_back_to_the_plan(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    contract_create(
        tenant=tenant,
        contract_terms={**ISSUE_TERMS, "auto_renewal": False},
        start_date=date(2026, 1, 15),
        end_date=date(2026, 3, 1),
        now=at("2026-01-10T00:00:00Z"),
    )
    usage_feed.set(tenant, at("2026-02-01T00:00:00Z"), active_users=10)
    cycle("2026-02-01T00:00:00Z")
    cycle("2026-03-01T00:00:00Z")
    mar = Invoice.objects.get(subscription=sub, period_start=at("2026-03-01T00:00:00Z"))
    # February's users at the contract's seat price; March's fee is the plan's again
    assert lines(mar) == [("plan_fee", 80000), ("seats", 15000)]
    assert mar.payment_terms == "net_60"
    cycle("2026-04-01T00:00:00Z")
    apr = Invoice.objects.get(subscription=sub, period_start=at("2026-04-01T00:00:00Z"))
    assert lines(apr) == [("plan_fee", 80000)] and apr.contract_version is None


def test_auto_renewal_keeps_the_contract_in_force(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    contract_create(
        tenant=tenant,
        contract_terms=ISSUE_TERMS,
        start_date=date(2026, 1, 15),
        end_date=date(2026, 3, 1),
        now=at("2026-01-10T00:00:00Z"),
    )
    for month in ("02", "03", "04"):
        cycle(f"2026-{month}-01T00:00:00Z")
    apr = Invoice.objects.get(subscription=sub, period_start=at("2026-04-01T00:00:00Z"))
    assert lines(apr) == [("contract_fee", 500000)]


def test_annual_minimum_true_up_on_the_next_invoice(tenant, usage_feed):
    contract_create(
        tenant=tenant,
        contract_terms={
            **ISSUE_TERMS,
            "annual_minimum": 10_000_000,
            "custom_pricing": {"base_price": 750000},
        },
        start_date=date(2026, 1, 1),
        now=at("2025-12-20T00:00:00Z"),
    )
    sub, first = start(tenant, "enterprise")
    assert lines(first) == [("contract_fee", 750000)]
    for month in range(2, 13):
        cycle(f"2026-{month:02d}-01T00:00:00Z")
    year = Invoice.objects.filter(subscription=sub)
    assert sum(invoice.total for invoice in year) == 9_000_000  # 12 invoices in the year
    cycle("2027-01-01T00:00:00Z")
    jan = Invoice.objects.get(subscription=sub, period_start=at("2027-01-01T00:00:00Z"))
    assert lines(jan) == [("contract_fee", 750000), ("true_up", 1_000_000)]
    true_up = jan.lines.get(kind="true_up").explanation
    assert (true_up["billed"], true_up["annual_minimum"], true_up["contract_year"]) == (
        9_000_000, 10_000_000, 1
    )  # fmt: skip
    assert (true_up["year_start"], true_up["year_end"]) == (
        "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"
    )  # fmt: skip
    # running the cycle again bills nothing twice
    cycle("2027-01-01T00:00:00Z")
    assert Invoice.objects.filter(subscription=sub, lines__kind="true_up").count() == 1


def test_credit_notes_count_against_the_minimum(tenant, usage_feed):
    from invoicing.services.credit_notes import credit_note_create

    contract_create(
        tenant=tenant,
        contract_terms={**ISSUE_TERMS, "annual_minimum": 1_000_000, "auto_renewal": False,
                        "custom_pricing": {"base_price": 100000}},
        start_date=date(2026, 1, 1),
        end_date=date(2026, 3, 1),
        now=at("2025-12-20T00:00:00Z"),
    )  # fmt: skip
    sub, first = start(tenant, "enterprise")
    credit_note_create(
        invoice_id=first.pk, lines=[{"description": "goodwill", "amount": 50000}], reason="x",
        now=at("2026-01-05T00:00:00Z"),
    )  # fmt: skip
    cycle("2026-02-01T00:00:00Z")
    cycle("2026-03-01T00:00:00Z")
    mar = Invoice.objects.get(subscription=sub, period_start=at("2026-03-01T00:00:00Z"))
    # a two-month term: minimum 1,000,000 x 59/365 = 161,644; billed 100,000 - 50,000 + 100,000
    true_up = mar.lines.get(kind="true_up")
    assert true_up.explanation["billed"] == 150000
    assert true_up.explanation["annual_minimum"] == 161644
    assert true_up.amount == 11644
    assert Contract.objects.get().versions.count() == 1


def test_a_trial_ending_under_a_contract_prorates_the_base_price(tenant, usage_feed):
    contract(tenant, "2025-12-20T00:00:00Z")
    sub, first = start(tenant, "enterprise", trial_period_days=14)
    assert first is None
    cycle("2026-01-15T00:00:00Z")
    invoice = Invoice.objects.get(subscription=sub)
    assert lines(invoice) == [("contract_fee", 274194)]  # 500000 x 17/31
    assert invoice.contract_version is not None and invoice.payment_terms == "net_60"


def test_a_late_cycle_counts_the_year_the_same(tenant, usage_feed):
    contract_create(
        tenant=tenant,
        contract_terms={**ISSUE_TERMS, "annual_minimum": 10_000_000,
                        "custom_pricing": {"base_price": 750000}},
        start_date=date(2026, 1, 1),
        now=at("2025-12-20T00:00:00Z"),
    )  # fmt: skip
    sub, _ = start(tenant, "enterprise")
    for month in range(2, 12):
        cycle(f"2026-{month:02d}-01T00:00:00Z")
    # the cycle was down from December 1st: both boundaries are billed on January 3rd
    cycle("2027-01-03T00:00:00Z")
    jan = Invoice.objects.get(subscription=sub, period_start=at("2027-01-01T00:00:00Z"))
    assert lines(jan) == [("contract_fee", 750000), ("true_up", 1_000_000)]


def test_turning_renewal_off_ends_with_the_running_term(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    made = contract_create(
        tenant=tenant,
        contract_terms=ISSUE_TERMS,
        start_date=date(2026, 1, 15),
        end_date=date(2026, 3, 1),
        now=at("2026-01-10T00:00:00Z"),
    )
    # renewed on March 1st to 2027-03-01; renewal turned off in April keeps that term
    made = contract_update(
        contract=made, contract_terms={"auto_renewal": False}, now=at("2026-04-10T00:00:00Z")
    )
    assert made.end_date == date(2027, 3, 1)
    cycle("2026-05-01T00:00:00Z")
    may = Invoice.objects.get(subscription=sub, period_start=at("2026-05-01T00:00:00Z"))
    assert lines(may) == [("contract_fee", 500000)]


def test_the_contract_invoice_pdf_explains_its_lines(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    contract(tenant, "2026-01-10T12:00:00Z", volume_discounts=DISCOUNTS)
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), active_users=120, api_calls=3_000_000)
    cycle("2026-02-01T00:00:00Z")
    feb = Invoice.objects.get(subscription=sub, period_start=at("2026-02-01T00:00:00Z"))
    text = pdf_text(documents.invoice_pdf_bytes(feb))
    assert "Contract base fee (version 1)" in text
    assert "120 active users x $15.00" in text
    assert "measured 3,000,000, included 1,000,000" in text
    assert "Volume discount, 10% off" in text
    assert "$15,120.00" in text and "None" not in text
    assert re.search(r"Due date\s+Apr 2, 2026", text)


def test_an_upgrade_under_a_contract_bills_no_plan_proration(tenant, usage_feed):
    sub, _ = start(tenant, "team")
    contract(tenant, "2026-01-10T12:00:00Z")
    cycle("2026-02-01T00:00:00Z")  # February's fee is the contract's
    sub.refresh_from_db()
    _, change, invoice = subscription_change_plan_and_invoice(
        subscription=sub, plan=plan("enterprise"), prorate=True, now=at("2026-02-11T00:00:00Z")
    )
    assert (change.kind, change.prorate, invoice) == ("upgraded", False, None)
    assert change.proration_amount is None or change.proration_amount == 0


def test_a_volume_discount_larger_than_the_last_line_lowers_the_tax_on_every_line(
    make_tenant, usage_feed
):
    """Found by the year of scenarios: the volume discount was taken off the last charged line
    only, floored at zero, so the part of it beyond that line still paid tax. It applies to the
    whole subtotal, so it reduces every line's taxable base in proportion."""
    tenant = make_tenant(state="NY", postal_code="10001")
    sub, _ = start(tenant, "enterprise")
    contract(
        tenant, "2026-01-01T00:00:00Z", volume_discounts=[{"threshold": 500000, "discount": 5}]
    )
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), active_users=10)
    cycle("2026-02-01T00:00:00Z")
    feb = Invoice.objects.get(subscription=sub, period_start=at("2026-02-01T00:00:00Z"))
    # 500000 fee + 10 x 1500 seats = 515000, 5 % off = 25750 (25000 on the fee, 750 on the
    # seats); NY 8 %: 475000 -> 38000, 14250 -> 1140 (before: 500000 -> 40000 and 0).
    assert lines(feb) == [
        ("contract_fee", 500000),
        ("seats", 15000),
        ("discount", -25750),
        ("tax", 39140),
    ]
    assert (feb.subtotal, feb.discount, feb.tax, feb.total) == (515000, 25750, 39140, 528390)
