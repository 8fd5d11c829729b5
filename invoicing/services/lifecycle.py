"""Invoice lifecycle: draft -> open -> paid | void | uncollectible. Finalized invoices never change
their lines or totals; only their status, payments and credits move.

An action whose outcome already holds returns the invoice unchanged; one the state forbids
raises Conflict (409) naming the current status.
"""

from datetime import date, datetime

from django.db import transaction

from billing_project.shared.errors import Conflict, ValidationFailed
from invoicing.models import Invoice, InvoiceLine, InvoiceStatus, LineKind, ManualPayment
from invoicing.models.invoices import PaymentMethodKind
from invoicing.services import journal
from invoicing.services.announcements import invoice_settled_announce
from invoicing.services.delivery import schedule_delivery
from invoicing.services.finalization import finalize_in_place
from invoicing.services.locking import invoice_lock

FINALIZED = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE)


def _conflict(action: str, invoice: Invoice) -> Conflict:
    return Conflict(
        f"Cannot {action} an invoice whose status is {invoice.status}.",
        code="invalid_invoice_status",
    )


def invoice_finalize(*, invoice_id, now: datetime, deliver: bool = True) -> Invoice:
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status in FINALIZED:
            return invoice
        if invoice.status != InvoiceStatus.DRAFT:
            raise _conflict("finalize", invoice)
        InvoiceLine.objects.filter(invoice=invoice, kind=LineKind.TAX).delete()
        rows = list(invoice.lines.exclude(kind=LineKind.TAX))
        finalize_in_place(invoice=invoice, now=now, deliver=deliver, lines=rows)
        invoice.save()
        InvoiceLine.objects.bulk_create(row for row in rows if row.kind == LineKind.TAX)
        journal.post_finalized(invoice=invoice, rows=rows, now=now)
        return invoice


def invoice_void(*, invoice_id, now: datetime) -> Invoice:
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status == InvoiceStatus.VOID:
            return invoice
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
            raise _conflict("void", invoice)
        if invoice.amount_paid > 0:
            raise Conflict(
                "Cannot void an invoice with recorded payments; issue a credit note instead.",
                code="invalid_invoice_status",
            )
        journal.post_void(
            invoice=invoice,
            credit_note_ids=list(invoice.credit_notes.values_list("pk", flat=True)),
            posted_at=now,
            now=now,
        )
        invoice.status = InvoiceStatus.VOID
        invoice.voided_at = now
        invoice.amount_due_refresh()
        invoice.updated_at = now
        invoice.pdf_status = "pending"
        invoice.save()
        # The stored PDF gets its VOID stamp.
        schedule_delivery(invoice_id=invoice.pk, email=False)
        invoice_settled_announce(invoice_id=invoice.pk)
        return invoice


def invoice_mark_uncollectible(*, invoice_id, now: datetime) -> Invoice:
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status == InvoiceStatus.UNCOLLECTIBLE:
            return invoice
        if invoice.status != InvoiceStatus.OPEN:
            raise _conflict("mark uncollectible", invoice)
        journal.post_write_off(invoice=invoice, amount=invoice.amount_due, posted_at=now, now=now)
        invoice.status = InvoiceStatus.UNCOLLECTIBLE
        invoice.uncollectible_at = now
        invoice.updated_at = now
        invoice.save()
        return invoice


def invoice_send(*, invoice_id, now: datetime) -> Invoice:
    """Email the invoice (with its PDF) to the tenant's billing email again."""
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status not in FINALIZED:
            raise _conflict("send", invoice)
        invoice.email_status = "pending"
        invoice.updated_at = now
        invoice.save(update_fields=["email_status", "updated_at"])
        schedule_delivery(invoice_id=invoice.pk, email=True)
        return invoice


def invoice_payment_record(
    *,
    invoice_id,
    amount: int,
    method: str,
    reference: str = "",
    paid_on: date,
    now: datetime,
    actor: str = "",
) -> Invoice:
    """A manual payment (transfer, cheque...). Partial payments are allowed; full pays it."""
    errors = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        errors["amount"] = ["Must be a positive integer amount in minor units."]
    if method not in PaymentMethodKind.values:
        errors["method"] = [f"Must be one of {', '.join(PaymentMethodKind.values)}."]
    if paid_on > now.date():
        errors["date"] = ["May not be in the future."]
    if errors:
        raise ValidationFailed("Invalid payment.", errors=errors)
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
            raise _conflict("record a payment on", invoice)
        if amount > invoice.amount_due:
            raise ValidationFailed(
                f"Amount {amount} exceeds the amount due ({invoice.amount_due}).",
                errors={"amount": [f"At most {invoice.amount_due}."]},
            )
        payment = ManualPayment.objects.create(
            invoice=invoice,
            amount=amount,
            method=method,
            reference=reference,
            paid_on=paid_on,
            recorded_by=actor,
            created_at=now,
        )
        journal.post_payment(
            invoice=invoice,
            payment=payment,
            was_written_off=invoice.status == InvoiceStatus.UNCOLLECTIBLE,
            posted_at=now,
            now=now,
        )
        invoice.amount_paid += amount
        invoice.amount_due_refresh()
        if invoice.amount_due == 0:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = now
            invoice.pdf_status = "pending"
            schedule_delivery(invoice_id=invoice.pk, email=False)  # PAID stamp
            invoice_settled_announce(invoice_id=invoice.pk)
        invoice.updated_at = now
        invoice.save()
        return invoice
