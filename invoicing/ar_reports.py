"""AR aging and tenant statements (issue 14 part 3): they read open invoices and the tenant's
balance movements in the ledger (receivable, less credits owed back), so they live above both."""

import csv
import io
from datetime import date
from uuid import UUID

from billing_project.shared.api.dates import day_end, day_start
from invoicing.models import CreditNote, Invoice, InvoiceStatus, ManualPayment
from ledger.exports import tenant_balance, tenant_movements

BUCKETS = ["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"]

STATEMENT_CSV_COLUMNS = [
    "date",
    "document_type",
    "document_id",
    "number",
    "description",
    "debit",
    "credit",
    "balance",
]


def bucket_of(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "days_over_90"


def _empty() -> dict:
    return dict.fromkeys([*BUCKETS, "total"], 0)


def ar_aging(*, as_of: date, currency: str | None = None, tenant_id=None) -> list[dict]:
    """Per currency: each tenant's open amounts due by days past due at `as_of`, and the total.

    Open invoices issued by the end of `as_of`, at their current amount due (what the ledger's
    receivable holds, by ledger_check); an invoice without a due date is due on issue."""
    invoices = Invoice.objects.filter(
        status=InvoiceStatus.OPEN, amount_due__gt=0, issued_at__lt=day_end(as_of)
    ).select_related("tenant")
    if currency:
        invoices = invoices.filter(currency=currency)
    if tenant_id is not None:
        invoices = invoices.filter(tenant_id=tenant_id)
    by_currency: dict[str, dict[UUID, dict]] = {}
    for invoice in invoices.only(
        "id", "currency", "amount_due", "due_at", "issued_at", "tenant__id", "tenant__name"
    ):
        due = (invoice.due_at or invoice.issued_at).date()
        tenants = by_currency.setdefault(invoice.currency, {})
        row = tenants.get(invoice.tenant_id)
        if row is None:
            row = tenants[invoice.tenant_id] = {
                "tenant_id": str(invoice.tenant_id),
                "tenant_name": invoice.tenant.name,
                **_empty(),
                "invoices": 0,
            }
        row[bucket_of((as_of - due).days)] += invoice.amount_due
        row["total"] += invoice.amount_due
        row["invoices"] += 1
    if currency and currency not in by_currency:
        by_currency[currency] = {}
    result = []
    for code in sorted(by_currency):
        rows = sorted(by_currency[code].values(), key=lambda r: (-r["total"], r["tenant_name"]))
        totals = _empty()
        for row in rows:
            for key in totals:
                totals[key] += row[key]
        result.append(
            {"as_of": as_of.isoformat(), "currency": code, "tenants": rows, "totals": totals}
        )
    return result


def _documents(movements) -> tuple[dict, dict, dict]:
    ids = {"invoice": set(), "credit_note": set(), "payment": set()}
    for m in movements:
        if m.document_type in ids:
            ids[m.document_type].add(m.document_id)
    invoices = {
        str(i.pk): i
        for i in Invoice.objects.filter(pk__in=ids["invoice"]).only("id", "number", "kind")
    }
    notes = {
        str(n.pk): n
        for n in CreditNote.objects.filter(pk__in=ids["credit_note"])
        .select_related("invoice")
        .only("id", "number", "reason", "invoice__number")
    }
    payments = {
        str(p.pk): p
        for p in ManualPayment.objects.filter(pk__in=ids["payment"])
        .select_related("invoice")
        .only("id", "method", "reference", "invoice__number")
    }
    return invoices, notes, payments


def _describe(movement, invoices, notes, payments) -> tuple[str, str]:
    """(number, description) of the document behind a movement."""
    doc = movement.document_id
    if movement.document_type == "invoice":
        number = invoices[doc].number if doc in invoices else ""
        description = {
            "invoice.finalized": f"Invoice {number}",
            "invoice.voided": f"Invoice {number} voided",
            "invoice.written_off": f"Invoice {number} written off",
        }.get(movement.event, f"Invoice {number}")
        return number or "", description
    if movement.document_type == "credit_note":
        note = notes.get(doc)
        if note is None:
            return "", "Credit note"
        return note.number, f"Credit note on invoice {note.invoice.number}"
    if movement.document_type == "payment":
        payment = payments.get(doc)
        if payment is None:
            return "", "Payment"
        text = f"Payment ({payment.method}) on invoice {payment.invoice.number}"
        return payment.reference, text
    if movement.document_type == "refund":
        return "", "Refund"
    return "", movement.event


def tenant_statement(*, tenant_id: UUID, currency: str, start: date, end: date) -> dict:
    """Opening balance at the start of `start`, each movement through the end of `end` with a
    running balance, and the closing balance (debit: the tenant owes more)."""
    opening = tenant_balance(tenant_id=tenant_id, currency=currency, before=day_start(start))
    movements = tenant_movements(
        tenant_id=tenant_id, currency=currency, start=day_start(start), end=day_end(end)
    )
    invoices, notes, payments = _documents(movements)
    balance = opening
    lines = []
    for movement in movements:
        balance += movement.amount
        number, description = _describe(movement, invoices, notes, payments)
        lines.append(
            {
                "date": movement.posted_at.date().isoformat(),
                "document_type": movement.document_type,
                "document_id": movement.document_id,
                "number": number,
                "description": description,
                "debit": max(movement.amount, 0),
                "credit": max(-movement.amount, 0),
                "balance": balance,
            }
        )
    return {
        "tenant_id": str(tenant_id),
        "currency": currency,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "opening_balance": opening,
        "lines": lines,
        "closing_balance": balance,
    }


def statement_csv(statement: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_CSV_COLUMNS)
    writer.writerow(
        [statement["from"], "", "", "", "Opening balance", "", "", statement["opening_balance"]]
    )
    for line in statement["lines"]:
        writer.writerow([line[c] for c in STATEMENT_CSV_COLUMNS])
    writer.writerow(
        [statement["to"], "", "", "", "Closing balance", "", "", statement["closing_balance"]]
    )
    return out.getvalue()
