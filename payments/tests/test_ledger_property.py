"""The ledger's invariants over random sequences of money events (issue 14): after every step the
journal balances per currency and `ledger_check` finds no difference; refunds pay out the
customer credit their credit note posted."""

import contextlib
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.shared.errors import BillingError
from invoicing.models import Invoice, InvoiceStatus
from invoicing.services import credit_notes, lifecycle
from invoicing.services.custom import CustomLine, invoice_custom_create
from invoicing.services.journal_check import ledger_differences
from invoicing.tests.conftest import at
from ledger.models import JournalEntry
from ledger.selectors import trial_balances
from payments.services.refunds import invoice_refund, refundable_amount

pytestmark = pytest.mark.django_db

NOW = at("2026-08-10T12:00:00Z")

OPS = st.one_of(
    st.tuples(
        st.just("invoice"),
        st.lists(st.integers(1, 10**6), min_size=1, max_size=3),
        st.sampled_from(["CA", "OR", "NY"]),
    ),
    st.tuples(
        st.sampled_from(["pay", "pay_card", "credit", "refund", "void", "write_off"]),
        st.integers(0, 20),
        st.floats(0.01, 1.0),
    ),
)


def _invoice(tenant, amounts, now):
    lines = [
        CustomLine(description=f"S{i}", quantity=Decimal(1), unit_price=Decimal(a), total=a)
        for i, a in enumerate(amounts)
    ]
    draft = invoice_custom_create(tenant_id=tenant.pk, data={"line_items": lines}, now=now)
    return lifecycle.invoice_finalize(invoice_id=draft.pk, now=now, deliver=False).pk


def _step(op, tenants, invoices, now):
    kind = op[0]
    if kind == "invoice":
        invoices.append(_invoice(tenants[op[2]], op[1], now))
        return
    if not invoices:
        return
    invoice = Invoice.objects.get(pk=invoices[op[1] % len(invoices)])
    part = op[2]
    if kind in ("pay", "pay_card") and invoice.amount_due > 0:
        lifecycle.invoice_payment_record(
            invoice_id=invoice.pk,
            amount=max(1, int(invoice.amount_due * part)),
            method="card" if kind == "pay_card" else "bank_transfer",
            paid_on=now.date(),
            now=now,
        )
    elif kind == "credit" and credit_notes.creditable_amount(invoice) > 0:
        credit_notes.credit_note_create(
            invoice_id=invoice.pk,
            lines=[{"description": "Credit", "amount": max(1, int(invoice.amount_due * part))}],
            reason="",
            now=now,
        )
    elif kind == "refund" and refundable_amount(invoice) > 0:
        amount = max(1, int(refundable_amount(invoice) * part))
        invoice_refund(invoice_id=invoice.pk, amount=amount, reason="", now=now)
    elif kind == "void":
        lifecycle.invoice_void(invoice_id=invoice.pk, now=now)
    elif kind == "write_off" and invoice.status == InvoiceStatus.OPEN:
        lifecycle.invoice_mark_uncollectible(invoice_id=invoice.pk, now=now)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=12))
def test_the_trial_balance_is_always_zero_and_ledger_check_finds_nothing(make_tenant, ops):
    tenants = {
        "CA": make_tenant(state="CA", postal_code="94105"),
        "OR": make_tenant(state="OR", postal_code="97201"),
        "NY": make_tenant(state="NY", postal_code="10001"),
    }
    invoices: list = []
    for n, op in enumerate(ops):
        now = NOW + timedelta(minutes=n)
        # A step the state forbids (e.g. voiding a paid invoice) posts nothing.
        with contextlib.suppress(BillingError):
            _step(op, tenants, invoices, now)
        for balance in trial_balances():
            assert balance["totals"]["debit"] == balance["totals"]["credit"]
        assert ledger_differences() == []
    entries = JournalEntry.objects.count()
    call_command("ledger_rebuild", stdout=StringIO())  # everything is posted already
    assert JournalEntry.objects.count() == entries


def test_a_refund_of_a_paid_invoice_pays_out_its_credit_note(make_tenant):
    tenant = make_tenant(state="CA", postal_code="94105")
    _step(("invoice", [10000], "CA"), {"CA": tenant}, invoices := [], NOW)
    _step(("pay", 0, 1.0), {}, invoices, NOW)
    refund = invoice_refund(invoice_id=invoices[0], amount=5413, reason="", now=NOW)
    events = set(JournalEntry.objects.values_list("event", flat=True))
    assert events == {
        "invoice.finalized",
        "payment.recorded",
        "credit_note.issued",
        "refund.issued",
    }
    (balance,) = trial_balances()
    accounts = {r["code"]: r["debit"] - r["credit"] for r in balance["accounts"]}
    assert accounts["1100"] == 0 and accounts["2300"] == 0  # nothing owed either way
    assert accounts["1020"] == 10825 - 5413 and accounts["2200"] == -(825 - 413)
    assert accounts["4100"] == -5000
    assert JournalEntry.objects.get(document_id=str(refund.pk)).document_type == "refund"
    assert ledger_differences() == []
