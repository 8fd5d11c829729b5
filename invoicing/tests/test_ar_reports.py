"""AR aging, tenant statements and the CSV journal export (issue 14 part 3)."""

import csv
import io
from datetime import timedelta

import pytest

from invoicing.ar_reports import bucket_of
from invoicing.models import Invoice, InvoiceStatus
from invoicing.services import credit_notes, lifecycle
from invoicing.tests.conftest import at, pdf_text
from invoicing.tests.test_ledger import custom_invoice
from ledger.models import JournalLine

pytestmark = pytest.mark.django_db

NOW = at("2026-08-10T12:00:00Z")


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-3, "current"),
        (0, "current"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (45, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "days_over_90"),
    ],
)
def test_buckets(days, bucket):
    assert bucket_of(days) == bucket


def test_ar_aging_buckets_an_invoice_45_days_past_due_into_31_60(
    staff_client, tenant_admin_client, make_tenant
):
    tenant = make_tenant()
    other = make_tenant(name="Other Corp")
    late = custom_invoice(tenant, 10000)
    fresh = custom_invoice(tenant, 2000, now=NOW + timedelta(days=40))
    other_invoice = custom_invoice(other, 700, now=NOW + timedelta(days=40))
    as_of = late.due_at.date() + timedelta(days=45)
    assert fresh.due_at.date() >= as_of - timedelta(days=30)

    response = staff_client.get("reports/ar-aging", {"as_of": as_of.isoformat()})
    assert response.status_code == 200, response.content
    (report,) = response.json()
    assert report["as_of"] == as_of.isoformat() and report["currency"] == "usd"
    rows = {row["tenant_id"]: row for row in report["tenants"]}
    mine = rows[str(tenant.pk)]
    assert mine["days_31_60"] == late.amount_due == 10000
    assert mine["total"] == 10000 + fresh.amount_due
    assert mine["days_1_30"] + mine["current"] == fresh.amount_due
    assert mine["days_61_90"] == mine["days_over_90"] == 0 and mine["invoices"] == 2
    assert rows[str(other.pk)]["total"] == other_invoice.amount_due
    assert report["totals"]["total"] == 10000 + fresh.amount_due + other_invoice.amount_due
    assert report["totals"]["days_31_60"] == 10000

    # Before the later invoices were issued only the first one counts; a paid invoice is gone.
    early = staff_client.get("reports/ar-aging", {"as_of": late.due_at.date().isoformat()}).json()
    assert [row["total"] for row in early[0]["tenants"]] == [10000]
    assert early[0]["tenants"][0]["current"] == 10000
    lifecycle.invoice_payment_record(
        invoice_id=late.pk, amount=10000, method="bank_transfer", paid_on=NOW.date(), now=NOW
    )
    after = staff_client.get("reports/ar-aging", {"as_of": as_of.isoformat()}).json()
    assert after[0]["totals"]["days_31_60"] == 0

    assert staff_client.get("reports/ar-aging", {"as_of": "2026-13-01"}).status_code == 400
    assert staff_client.get("reports/ar-aging", {"currency": "eur"}).json()[0]["tenants"] == []
    assert tenant_admin_client.get("reports/ar-aging").status_code == 403


def _statement_fixture(tenant):
    first = custom_invoice(tenant, 10000)
    second = custom_invoice(tenant, 3000, now=NOW + timedelta(days=2))
    lifecycle.invoice_payment_record(
        invoice_id=first.pk,
        amount=4000,
        method="bank_transfer",
        paid_on=(NOW + timedelta(days=3)).date(),
        reference="TRX-1",
        now=NOW + timedelta(days=3),
    )
    note = credit_notes.credit_note_create(
        invoice_id=first.pk,
        lines=[{"description": "Goodwill", "amount": 1500}],
        reason="",
        now=NOW + timedelta(days=4),
    )
    return first, second, note


def test_the_statement_closing_balance_is_the_sum_of_amounts_due(staff_client, make_tenant):
    tenant = make_tenant()
    earlier = custom_invoice(tenant, 500, now=NOW - timedelta(days=20))
    first, second, note = _statement_fixture(tenant)

    response = staff_client.get(
        f"tenants/{tenant.pk}/statement", {"from": "2026-08-01", "to": "2026-08-31"}
    )
    assert response.status_code == 200, response.content
    statement = response.json()
    assert set(statement) == {
        "tenant_id",
        "currency",
        "from",
        "to",
        "opening_balance",
        "lines",
        "closing_balance",
    }
    assert statement["tenant_id"] == str(tenant.pk) and statement["currency"] == "usd"
    assert (statement["from"], statement["to"]) == ("2026-08-01", "2026-08-31")
    assert statement["opening_balance"] == earlier.total == 500
    lines = statement["lines"]
    assert [(ln["document_type"], ln["debit"], ln["credit"]) for ln in lines] == [
        ("invoice", first.total, 0),
        ("invoice", second.total, 0),
        ("payment", 0, 4000),
        ("credit_note", 0, 1500),
    ]
    assert lines[0]["number"] == first.number and lines[0]["date"] == "2026-08-10"
    assert lines[2]["number"] == "TRX-1" and first.number in lines[2]["description"]
    assert lines[3]["number"] == note.number and lines[3]["document_id"] == str(note.pk)
    running = statement["opening_balance"]
    for line in lines:
        running += line["debit"] - line["credit"]
        assert line["balance"] == running
    open_due = sum(
        Invoice.objects.filter(tenant=tenant, status=InvoiceStatus.OPEN).values_list(
            "amount_due", flat=True
        )
    )
    assert statement["closing_balance"] == running == open_due == 500 + 10000 + 3000 - 5500

    # A window after the payment: it opens where the earlier one left the balance.
    later = staff_client.get(
        f"tenants/{tenant.pk}/statement", {"from": "2026-08-14", "to": "2026-08-31"}
    ).json()
    assert [ln["document_type"] for ln in later["lines"]] == ["credit_note"]
    assert later["opening_balance"] == open_due + 1500
    assert later["closing_balance"] == open_due


def test_a_void_write_off_and_refund_move_the_statement(staff_client, make_tenant):
    tenant = make_tenant()
    voided = custom_invoice(tenant, 800)
    lifecycle.invoice_void(invoice_id=voided.pk, now=NOW + timedelta(hours=1))
    lost = custom_invoice(tenant, 900)
    lifecycle.invoice_mark_uncollectible(invoice_id=lost.pk, now=NOW + timedelta(hours=2))
    paid = custom_invoice(tenant, 1000)
    lifecycle.invoice_payment_record(
        invoice_id=paid.pk, amount=1000, method="card", paid_on=NOW.date(), now=NOW
    )
    credit_notes.credit_note_create(
        invoice_id=paid.pk,
        lines=[{"description": "Refund", "amount": 300}],
        reason="",
        now=NOW + timedelta(hours=3),
    )
    statement = staff_client.get(
        f"tenants/{tenant.pk}/statement", {"from": "2026-08-10", "to": "2026-08-10"}
    ).json()
    described = [
        (ln["description"].split(" ")[-1], ln["debit"] - ln["credit"]) for ln in statement["lines"]
    ]
    assert ("voided", -800) in described and ("off", -900) in described
    # A credit beyond what was due is owed back: the balance goes negative until refunded.
    assert statement["closing_balance"] == -300


def test_statement_scoping_and_dates(staff_client, admin_client_for, anon_client, make_tenant):
    tenant = make_tenant()
    other = make_tenant(name="Other Corp")
    custom_invoice(tenant, 1000)
    custom_invoice(other, 2000)
    params = {"from": "2026-08-01", "to": "2026-08-31"}
    own = admin_client_for(tenant).get(f"tenants/{tenant.pk}/statement", params)
    assert own.status_code == 200 and own.json()["closing_balance"] == 1000
    assert admin_client_for(tenant).get(f"tenants/{other.pk}/statement", params).status_code == 404
    assert (
        staff_client.get(f"tenants/{other.pk}/statement", params).json()["closing_balance"] == 2000
    )
    assert staff_client.get("tenants/not-a-uuid/statement").status_code == 404
    assert anon_client.get(f"tenants/{tenant.pk}/statement", params).status_code in (401, 403)
    for bad in (
        {"from": "2026-08-31", "to": "2026-08-01"},
        {"from": "08/01/2026"},
        {"to": "2026-02-30"},
        {"currency": "dollars"},
    ):
        assert staff_client.get(f"tenants/{tenant.pk}/statement", bad).status_code == 400, bad
    default = staff_client.get(f"tenants/{tenant.pk}/statement").json()
    assert default["to"] >= default["from"] and default["from"].endswith("-01")


def test_the_statement_as_csv_parses(staff_client, make_tenant):
    tenant = make_tenant()
    first, _, note = _statement_fixture(tenant)
    response = staff_client.get(
        f"tenants/{tenant.pk}/statement",
        {"from": "2026-08-01", "to": "2026-08-31", "format": "csv"},
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == [
        "date",
        "document_type",
        "document_id",
        "number",
        "description",
        "debit",
        "credit",
        "balance",
    ]
    assert rows[0]["description"] == "Opening balance" and rows[0]["balance"] == "0"
    assert [r["document_type"] for r in rows[1:-1]] == [
        "invoice",
        "invoice",
        "payment",
        "credit_note",
    ]
    assert rows[1]["number"] == first.number and rows[4]["number"] == note.number
    json_closing = staff_client.get(
        f"tenants/{tenant.pk}/statement", {"from": "2026-08-01", "to": "2026-08-31"}
    ).json()["closing_balance"]
    assert rows[-1]["description"] == "Closing balance"
    assert int(rows[-1]["balance"]) == json_closing


def test_the_journal_csv_export(staff_client, tenant_admin_client, make_tenant):
    tenant = make_tenant()
    first, second, note = _statement_fixture(tenant)
    response = staff_client.get("ledger/entries.csv")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == [
        "date",
        "entry",
        "account",
        "debit",
        "credit",
        "currency",
        "document",
        "tenant",
    ]
    assert len(rows) == JournalLine.objects.count()
    assert sum(int(r["debit"]) for r in rows) == sum(int(r["credit"]) for r in rows)
    receivable = [r for r in rows if r["account"] == "1100"]
    assert {r["tenant"] for r in receivable} == {str(tenant.pk)}
    assert f"invoice:{first.pk}" in {r["document"] for r in rows}
    assert rows[0]["date"] == "2026-08-10"

    only_note = staff_client.get("ledger/entries.csv", {"document_id": str(note.pk)})
    note_rows = list(csv.DictReader(io.StringIO(only_note.content.decode())))
    assert note_rows and {r["document"] for r in note_rows} == {f"credit_note:{note.pk}"}
    ranged = staff_client.get("ledger/entries.csv", {"from": "2026-08-12", "to": "2026-08-12"})
    ranged_rows = list(csv.DictReader(io.StringIO(ranged.content.decode())))
    assert {r["document"] for r in ranged_rows} == {f"invoice:{second.pk}"}
    assert staff_client.get("ledger/entries.csv", {"from": "x"}).status_code == 400
    assert tenant_admin_client.get("ledger/entries.csv").status_code == 403


def test_the_statement_as_pdf(admin_client_for, make_tenant):
    tenant = make_tenant()
    first, _, note = _statement_fixture(tenant)
    client = admin_client_for(tenant)
    params = {"from": "2026-08-01", "to": "2026-08-31", "format": "pdf"}
    response = client.get(f"tenants/{tenant.pk}/statement", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf" and response.content[:4] == b"%PDF"
    text = pdf_text(response.content)
    assert "Statement" in text and first.number in text and note.number in text
    assert "Opening balance" in text and "Closing balance" in text
    assert client.get(f"tenants/{tenant.pk}/statement", params).content == response.content
