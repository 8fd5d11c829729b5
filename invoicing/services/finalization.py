"""Finalizing a draft: its number, issue and due dates, and its first status."""

from datetime import datetime, timedelta

from billing_project.shared.errors import Conflict
from invoicing.models import DocumentType, Invoice, InvoiceStatus
from invoicing.services.delivery import schedule_collection, schedule_delivery
from invoicing.services.numbering import number_next
from invoicing.services.taxation import TaxContext, invoice_tax_apply, tax_context
from subscriptions.models.tenants import PAYMENT_TERMS_DAYS
from tax.decision import TaxTableError


def due_at_for(*, payment_terms: str, issued_at: datetime) -> datetime:
    return issued_at + timedelta(days=PAYMENT_TERMS_DAYS.get(payment_terms, 0))


def finalize_in_place(
    *,
    invoice: Invoice,
    now: datetime,
    lines: list,
    deliver: bool = True,
    number: str | None = None,
    tax: TaxContext | None = None,
) -> Invoice:
    """Tax, number, date and open a draft whose row the caller holds (locked or just inserted).
    `lines`: its line rows; the tax lines are appended (unsaved: the caller saves them).
    `number`: one the caller took from the series in this transaction (`number_block`).
    `tax`: the tables and seller shared by a batch (loaded here when not given)."""
    try:
        invoice_tax_apply(
            invoice=invoice,
            rows=lines,
            tenant=invoice.tenant,
            now=now,
            context=tax or tax_context(),
        )
    except TaxTableError as exc:
        # A registration without a rate in force: no invoice with a guessed tax.
        raise Conflict(str(exc), code="tax_table_incomplete") from exc
    return finalize_open(invoice=invoice, now=now, deliver=deliver, number=number)


def finalize_open(
    *, invoice: Invoice, now: datetime, deliver: bool = True, number: str | None = None
) -> Invoice:
    """Number, date and open a draft whose tax and totals are set (collection and delivery
    scheduled after commit)."""
    invoice.number = number or number_next(document_type=DocumentType.INVOICE, at=now)
    invoice.issued_at = now
    due = due_at_for(payment_terms=invoice.payment_terms, issued_at=now)
    if invoice.requested_due_at is not None:
        due = max(invoice.requested_due_at, now)
    invoice.due_at = due
    invoice.updated_at = now
    invoice.amount_due_refresh()
    if invoice.amount_due == 0:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = now
    else:
        invoice.status = InvoiceStatus.OPEN
        schedule_collection(invoice_id=invoice.pk)
    if deliver:
        invoice.pdf_status = "pending"
        invoice.email_status = "pending"
        schedule_delivery(invoice_id=invoice.pk)
    return invoice
