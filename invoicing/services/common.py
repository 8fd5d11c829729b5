"""Helpers shared by the invoice services: locking, totals, due dates, after-commit delivery."""

from datetime import datetime, timedelta

from billing_project.shared import stripe_gateway
from billing_project.shared.dispatch import dispatch_after_commit
from billing_project.shared.errors import NotFound
from invoicing.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from subscriptions.models.tenants import PAYMENT_TERMS_DAYS


def invoice_lock(*, invoice_id) -> Invoice:
    """The invoice row, locked for the rest of the transaction."""
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise NotFound("Invoice not found.")
    return invoice


def totals_of(lines) -> dict[str, int]:
    subtotal = discount = tax = 0
    for line in lines:
        if line.kind == LineKind.DISCOUNT:
            discount -= line.amount
        elif line.kind == LineKind.TAX:
            tax += line.amount
        else:
            subtotal += line.amount
    return {
        "subtotal": subtotal,
        "discount": discount,
        "tax": tax,
        "total": subtotal - discount + tax,
    }


def apply_totals(invoice: Invoice, lines) -> None:
    for name, value in totals_of(lines).items():
        setattr(invoice, name, value)
    invoice.amount_due = max(0, invoice.total - invoice.amount_paid - invoice.amount_credited)


def due_at_for(*, payment_terms: str, issued_at: datetime) -> datetime:
    return issued_at + timedelta(days=PAYMENT_TERMS_DAYS.get(payment_terms, 0))


def schedule_delivery(*, invoice_id, email: bool = True) -> None:
    """Render the PDF (and email it) after commit, by a Celery task that takes the id. The
    task is recorded in this transaction (the outbox): sent after commit, or by the sweep."""
    dispatch_after_commit("invoicing.deliver_invoice", invoice_id=str(invoice_id), email=email)


def schedule_collection(*, invoice_id) -> None:
    """News travels up: after commit, ask the payments app (by task name) to collect the
    invoice (it charges the default card when there is one, otherwise does nothing).
    With manual collection (no Stripe key) there is nothing to ask: skip the task."""
    if not stripe_gateway.is_configured():
        return
    dispatch_after_commit("payments.collect_invoice", invoice_id=str(invoice_id))


def finalize_in_place(
    *, invoice: Invoice, now: datetime, deliver: bool = True, number: str | None = None
) -> Invoice:
    """Number, date and open a draft whose row the caller holds (locked or just inserted).
    `number`: one the caller took from the series in this transaction (`number_block`)."""
    from invoicing.models import DocumentType
    from invoicing.services.numbering import number_next

    invoice.number = number or number_next(document_type=DocumentType.INVOICE, at=now)
    invoice.issued_at = now
    due = due_at_for(payment_terms=invoice.payment_terms, issued_at=now)
    if invoice.requested_due_at is not None:
        due = max(invoice.requested_due_at, now)
    invoice.due_at = due
    invoice.updated_at = now
    invoice.amount_due = max(0, invoice.total - invoice.amount_paid - invoice.amount_credited)
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


def lines_of(invoice: Invoice) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
