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


# Columns of the list page, in the order invoicing.serializers.invoice_rows_data unpacks them.
LIST_COLUMNS = (
    "id", "number", "tenant_id", "subscription_id", "kind", "status", "currency",
    "period_start", "period_end", "subtotal", "discount", "tax", "total", "amount_paid",
    "amount_due", "issued_at", "due_at", "paid_at", "voided_at", "custom_fields", "tax_decision",
)  # fmt: skip
LINE_COLUMNS = (
    "invoice_id", "id", "kind", "description", "quantity", "unit_price", "amount",
    "period_start", "period_end", "explanation",
)  # fmt: skip


def invoice_list_rows(
    *, tenant_id=None, status: str | None = None, period_start=None, period_end=None
) -> QuerySet:
    """`invoice_list` as tuples of LIST_COLUMNS, without lines (see `invoice_lines_of`): what
    the list endpoint pages through, no model instances built."""
    invoices = Invoice.objects.all()
    if tenant_id is not None:
        invoices = invoices.filter(tenant_id=tenant_id)
    if status:
        invoices = invoices.filter(status=status)
    if period_start is not None:
        invoices = invoices.filter(period_end__gt=period_start)
    if period_end is not None:
        invoices = invoices.filter(period_start__lt=period_end)
    return invoices.order_by("-created_at", "-id").values_list(*LIST_COLUMNS)


def invoice_lines_of(*, invoice_ids) -> dict:
    """invoice id -> its non-zero lines as tuples of LINE_COLUMNS, by position (one query)."""
    lines: dict = {invoice_id: [] for invoice_id in invoice_ids}
    if not lines:
        return lines
    rows = (
        InvoiceLine.objects.filter(invoice_id__in=list(lines))
        .exclude(amount=0)
        .order_by("invoice_id", "position")
        .values_list(*LINE_COLUMNS)
    )
    for row in rows:
        lines[row[0]].append(row)
    return lines


def invoice_get(*, invoice_id, tenant_id=None) -> Invoice | None:
    invoices = invoice_list(tenant_id=tenant_id).select_related("tenant")
    return invoices.filter(pk=invoice_id).first()


def credit_note_list(*, invoice_id) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(invoice_id=invoice_id).prefetch_related("lines")
