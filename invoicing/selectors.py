"""Reads for invoices."""

from django.db.models import Prefetch, QuerySet

from invoicing.models import CreditNote, Invoice, InvoiceLine


def invoice_list(
    *, tenant_id=None, status: str | None = None, period_start=None, period_end=None
) -> QuerySet[Invoice]:
    invoices = Invoice.objects.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.exclude(amount=0).order_by("position"))
    )
    if tenant_id is not None:
        invoices = invoices.filter(tenant_id=tenant_id)
    if status:
        invoices = invoices.filter(status=status)
    if period_start is not None:
        invoices = invoices.filter(period_end__gt=period_start)
    if period_end is not None:
        invoices = invoices.filter(period_start__lt=period_end)
    return invoices.order_by("-created_at", "-id")


def invoice_get(*, invoice_id, tenant_id=None) -> Invoice | None:
    invoices = invoice_list(tenant_id=tenant_id).select_related("tenant")
    return invoices.filter(pk=invoice_id).first()


def credit_note_list(*, invoice_id) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(invoice_id=invoice_id).prefetch_related("lines")
