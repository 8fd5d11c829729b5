"""Credit notes: corrections to finalized invoices, numbered in the CN series."""

from datetime import datetime

from django.db import transaction

from billing_project.shared.dispatch import dispatch_after_commit
from billing_project.shared.errors import Conflict, ValidationFailed
from invoicing.models import CreditNote, CreditNoteLine, DocumentType, InvoiceStatus
from invoicing.services import journal
from invoicing.services.announcements import invoice_settled_announce
from invoicing.services.locking import invoice_lock
from invoicing.services.numbering import number_next
from tax.decision import proportional_tax


def creditable_amount(invoice) -> int:
    """What a credit note may still take: the unpaid balance of an open (or uncollectible)
    invoice; for a paid invoice, its total less earlier credits (refunded outside)."""
    if invoice.status == InvoiceStatus.PAID:
        return max(0, invoice.total - invoice.amount_credited)
    if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE):
        return invoice.amount_due
    return 0


def credit_note_create(
    *, invoice_id, lines: list[dict], reason: str, now: datetime, actor: str = ""
) -> CreditNote:
    errors: dict = {}
    if not lines:
        errors["lines"] = ["At least one line is required."]
    for index, line in enumerate(lines):
        amount = line.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            errors[f"lines[{index}]"] = ["amount must be a positive integer (minor units)."]
        elif not str(line.get("description", "")).strip():
            errors[f"lines[{index}]"] = ["description may not be blank."]
    if errors:
        raise ValidationFailed("Invalid credit note.", errors=errors)
    total = sum(line["amount"] for line in lines)
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status not in (
            InvoiceStatus.OPEN,
            InvoiceStatus.PAID,
            InvoiceStatus.UNCOLLECTIBLE,
        ):
            raise Conflict(
                f"Cannot credit an invoice whose status is {invoice.status}.",
                code="invalid_invoice_status",
            )
        remaining = creditable_amount(invoice)
        if total > remaining:
            raise ValidationFailed(
                f"Credit total {total} exceeds the creditable amount ({remaining}).",
                errors={"lines": [f"The total may be at most {remaining}."]},
            )
        # The credit reverses the invoice's tax in proportion (all of what is left of it when the
        # credit completes the invoice).
        tax = proportional_tax(
            credited=total,
            credited_before=invoice.amount_credited,
            total=invoice.total,
            tax=invoice.tax,
            tax_credited=sum(invoice.credit_notes.values_list("tax", flat=True)),
            currency=invoice.currency,
        )
        note = CreditNote.objects.create(
            invoice=invoice,
            tenant_id=invoice.tenant_id,
            number=number_next(document_type=DocumentType.CREDIT_NOTE, at=now),
            currency=invoice.currency,
            total=total,
            tax=tax,
            reason=(reason or "")[:500],
            issued_at=now,
            created_by=actor,
            pdf_status="pending",
        )
        CreditNoteLine.objects.bulk_create(
            CreditNoteLine(
                credit_note=note,
                position=position,
                description=str(line["description"]).strip()[:500],
                amount=line["amount"],
            )
            for position, line in enumerate(lines)
        )
        journal.post_credit_note(
            invoice=invoice,
            note=note,
            due_before=invoice.amount_due,
            was_written_off=invoice.status == InvoiceStatus.UNCOLLECTIBLE,
            now=now,
        )
        invoice.amount_credited += total
        invoice.amount_due_refresh()
        if invoice.status != InvoiceStatus.PAID and invoice.amount_due == 0:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = now
            invoice_settled_announce(invoice_id=invoice.pk)
        invoice.updated_at = now
        invoice.save()
        dispatch_after_commit("invoicing.credit_note_pdf", credit_note_id=str(note.pk))
        return note
