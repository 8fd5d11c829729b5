"""Locking an invoice before changing it (house rule 9)."""

from billing_project.shared.errors import NotFound
from invoicing.models import Invoice


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
