"""Reads for invoices."""

from django.db import connection
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


def _iso(column: str) -> str:
    """SQL: the instant as `invoicing.serializers.iso` writes it (UTC, `Z`, microseconds only
    when there are some)."""
    return (
        f"replace(to_char({column} AT TIME ZONE 'UTC', "
        f"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
    )


def _or_default(column: str, default: str) -> str:
    """SQL: a JSON column, or `default` where Python would see a falsy value (`x or []`)."""
    falsy = ", ".join(f"'{v}'::jsonb" for v in ("null", "false", "0", '""', "[]", "{}"))
    return (
        f"CASE WHEN {column} IS NULL OR {column} IN ({falsy}) "
        f"THEN '{default}'::jsonb ELSE {column} END"
    )


_LINE_JSON = f"""json_build_object(
    'id', l.id, 'kind', l.kind, 'description', l.description,
    'quantity', trim_scale(l.quantity), 'unit_price', trim_scale(l.unit_price),
    'amount', l.amount, 'period_start', {_iso("l.period_start")},
    'period_end', {_iso("l.period_end")}, 'explanation', {_or_default("l.explanation", "{}")})"""

_INVOICE_JSON = f"""json_build_object(
    'id', p.id, 'number', p.number, 'tenant_id', p.tenant_id,
    'subscription_id', p.subscription_id, 'kind', p.kind, 'status', p.status,
    'currency', p.currency, 'period_start', {_iso("p.period_start")},
    'period_end', {_iso("p.period_end")}, 'subtotal', p.subtotal, 'discount', p.discount,
    'tax', p.tax, 'total', p.total, 'amount_paid', p.amount_paid, 'amount_due', p.amount_due,
    'issued_at', {_iso("p.issued_at")}, 'due_at', {_iso("p.due_at")},
    'paid_at', {_iso("p.paid_at")}, 'voided_at', {_iso("p.voided_at")},
    'custom_fields', {_or_default("p.custom_fields", "[]")}, 'tax_decision', p.tax_decision,
    'lines', COALESCE(
      (SELECT json_agg({_LINE_JSON} ORDER BY l.position)
         FROM {InvoiceLine._meta.db_table} l WHERE l.invoice_id = p.id AND l.amount <> 0),
      '[]'::json))"""  # noqa: S608 (table names and fixed SQL only)

_PAGE_SQL = """
WITH page AS MATERIALIZED (
  SELECT * FROM {invoices} i WHERE {where}
   ORDER BY i.created_at DESC, i.id DESC LIMIT %(limit)s OFFSET %(offset)s
)
SELECT (SELECT count(*) FROM {invoices} i WHERE {where}),
       COALESCE(json_agg({invoice} ORDER BY p.created_at DESC, p.id DESC), '[]'::json)::text
  FROM page p
"""


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
    invoices, each as `invoicing.serializers.invoice_data` with its non-zero lines), built by
    PostgreSQL in one query: no model instances, no per-field Python work."""
    where = ["TRUE"]
    if tenant_id is not None:
        where.append("i.tenant_id = %(tenant)s")
    if status:
        where.append("i.status = %(status)s")
    if period_start is not None:
        where.append("i.period_end > %(period_start)s")
    if period_end is not None:
        where.append("i.period_start < %(period_end)s")
    sql = _PAGE_SQL.format(
        invoices=Invoice._meta.db_table, where=" AND ".join(where), invoice=_INVOICE_JSON
    )
    params = {
        "tenant": tenant_id,
        "status": status,
        "period_start": period_start,
        "period_end": period_end,
        "limit": limit,
        "offset": offset,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, page = cursor.fetchone()
    return count, page


def invoice_get(*, invoice_id, tenant_id=None) -> Invoice | None:
    invoices = invoice_list(tenant_id=tenant_id).select_related("tenant")
    return invoices.filter(pk=invoice_id).first()


def credit_note_list(*, invoice_id) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(invoice_id=invoice_id).prefetch_related("lines")
