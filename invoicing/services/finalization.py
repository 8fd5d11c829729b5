"""Finalizing a draft: its number, issue and due dates, and its first status."""

from datetime import datetime, timedelta

from invoicing.models import DocumentType, Invoice, InvoiceStatus
from invoicing.services.delivery import schedule_collection, schedule_delivery
from invoicing.services.numbering import number_next
from subscriptions.models.tenants import PAYMENT_TERMS_DAYS


def due_at_for(*, payment_terms: str, issued_at: datetime) -> datetime:
    return issued_at + timedelta(days=PAYMENT_TERMS_DAYS.get(payment_terms, 0))


def finalize_in_place(
    *, invoice: Invoice, now: datetime, deliver: bool = True, number: str | None = None
) -> Invoice:
    """Number, date and open a draft whose row the caller holds (locked or just inserted).
    `number`: one the caller took from the series in this transaction (`number_block`)."""
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
