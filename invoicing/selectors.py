"""Reads for invoices."""

from django.db import connection
from django.db.models import Count, Max, Prefetch, QuerySet, Sum

from invoicing.models import BillingRun, CreditNote, Invoice, InvoiceLine
from invoicing.sql import invoice_page_sql


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


def invoice_list_page_json(
    *,
    offset: int,
    limit: int,
    tenant_id=None,
    status: str | None = None,
    period_start=None,
    period_end=None,
) -> tuple[int, str]:
    """`invoice_list` as the list endpoint answers it: (count, JSON array of the page's
    invoices, each as `InvoiceSerializer` describes it with its non-zero lines), built by
    PostgreSQL in one query: no model instances, no per-field Python work."""
    params = {
        "tenant_id": tenant_id,
        "status": status or None,
        "period_start": period_start,
        "period_end": period_end,
    }
    filters = frozenset(name for name, value in params.items() if value is not None)
    with connection.cursor() as cursor:
        cursor.execute(invoice_page_sql(filters), {**params, "limit": limit, "offset": offset})
        count, page = cursor.fetchone()
    return count, page


def invoice_get(*, invoice_id, tenant_id=None) -> Invoice | None:
    invoices = invoice_list(tenant_id=tenant_id).select_related("tenant")
    return invoices.filter(pk=invoice_id).first()


def credit_note_list(*, invoice_id) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(invoice_id=invoice_id).prefetch_related("lines")


def credit_note_get(*, credit_note_id, tenant_id=None) -> CreditNote | None:
    """A tenant-scoped lookup (another tenant's note is not found), with its lines."""
    notes = CreditNote.objects.select_related("tenant", "invoice").prefetch_related("lines")
    if tenant_id is not None:
        notes = notes.filter(tenant_id=tenant_id)
    return notes.filter(pk=credit_note_id).first()


def billing_run_generation(*, start, end) -> tuple[int, int | None, int | None]:
    """(runs, invoices generated, slowest invoice generation in ms) of the billing runs
    started (wall clock) in [start, end) and finished; ms None when no invoice was generated."""
    figures = BillingRun.objects.filter(
        started_at__gte=start, started_at__lt=end, finished_at__isnull=False
    ).aggregate(runs=Count("pk"), generated=Sum("generated"), slowest=Max("generation_ms_max"))
    generated = figures["generated"] or 0
    return figures["runs"], generated, figures["slowest"] if generated else None


def billing_run_last():
    """The latest billing run (finished or not), or None."""
    return BillingRun.objects.order_by("-started_at", "-pk").first()
