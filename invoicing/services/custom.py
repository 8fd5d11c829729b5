"""Custom invoices made by finance staff: created as drafts, edited or deleted, then finalized."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from billing_project.shared.errors import Conflict, ValidationFailed
from billing_project.shared.money import round_minor
from invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind
from invoicing.services.locking import invoice_lock
from invoicing.services.totals import apply_totals
from subscriptions.models import Tenant

MAX_LINES = 500
MAX_CUSTOM_FIELDS = 20


@dataclass(frozen=True, slots=True)
class CustomLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    total: int


def _clean_lines(lines: list[CustomLine], currency: str, errors: dict) -> None:
    if not lines:
        errors["line_items"] = ["At least one line item is required."]
        return
    if len(lines) > MAX_LINES:
        errors["line_items"] = [f"At most {MAX_LINES} line items."]
        return
    for index, line in enumerate(lines):
        problems = []
        if not line.description.strip():
            problems.append("description may not be blank.")
        if line.quantity <= 0:
            problems.append("quantity must be greater than 0.")
        if line.unit_price < 0:
            problems.append("unit_price may not be negative.")
        if not problems and round_minor(line.quantity * line.unit_price, currency) != line.total:
            problems.append(
                f"total {line.total} does not equal quantity x unit_price "
                f"({line.quantity} x {line.unit_price})."
            )
        if problems:
            errors[f"line_items[{index}]"] = problems


def _clean_custom_fields(fields, errors: dict) -> list[dict]:
    if fields is None:
        return []
    cleaned = []
    for item in fields:
        name, value = str(item.get("name", "")).strip(), str(item.get("value", "")).strip()
        if not name:
            errors.setdefault("custom_fields", []).append("Each custom field needs a name.")
            continue
        cleaned.append({"name": name[:100], "value": value[:300]})
    if len(cleaned) > MAX_CUSTOM_FIELDS:
        errors["custom_fields"] = [f"At most {MAX_CUSTOM_FIELDS} custom fields."]
    return cleaned


def _clean_common(*, tenant: Tenant, data: dict, now: datetime, errors: dict) -> dict:
    cleaned: dict = {}
    if data.get("currency") is not None and data["currency"].lower() != tenant.currency.lower():
        errors["currency"] = [f"Must be the tenant's currency ({tenant.currency})."]
    if "billing_period" in data:
        period = data["billing_period"]
        if period is None:
            cleaned["period_start"] = cleaned["period_end"] = None
        elif period["start"] >= period["end"]:
            errors["billing_period"] = ["start must be before end."]
        else:
            cleaned["period_start"], cleaned["period_end"] = period["start"], period["end"]
    if "due_date" in data:
        due = data["due_date"]
        if due is not None and due < now:
            errors["due_date"] = ["May not be in the past."]
        cleaned["requested_due_at"] = due
    if "custom_fields" in data:
        cleaned["custom_fields"] = _clean_custom_fields(data["custom_fields"], errors)
    if "notes" in data:
        cleaned["notes"] = (data["notes"] or "")[:5000]
    if "line_items" in data:
        _clean_lines(data["line_items"], tenant.currency, errors)
    return cleaned


def _line_rows(invoice: Invoice, lines: list[CustomLine]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            invoice=invoice,
            position=position,
            kind=LineKind.CUSTOM,
            description=line.description.strip()[:500],
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.total,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
        )
        for position, line in enumerate(lines)
    ]


def invoice_custom_create(*, tenant_id, data: dict, now: datetime, actor: str = "") -> Invoice:
    """`data`: line_items [CustomLine], billing_period?, due_date?, custom_fields?, notes?,
    currency?. Nothing is stored unless everything is valid."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise ValidationFailed("Tenant not found.", errors={"tenant_id": ["Tenant not found."]})
    errors: dict = {}
    data = {"line_items": [], **data}
    cleaned = _clean_common(tenant=tenant, data=data, now=now, errors=errors)
    if errors:
        raise ValidationFailed("Invalid invoice.", errors=errors)
    with transaction.atomic():
        invoice = Invoice(
            tenant=tenant,
            kind=InvoiceKind.CUSTOM,
            status=InvoiceStatus.DRAFT,
            currency=tenant.currency.lower(),
            payment_terms=tenant.payment_terms,
            created_by=actor,
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        rows = _line_rows(invoice, data["line_items"])
        apply_totals(invoice, rows)
        invoice.save()
        InvoiceLine.objects.bulk_create(rows)
    return invoice


def invoice_draft_update(*, invoice_id, data: dict, now: datetime) -> Invoice:
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(
                f"Only draft invoices may be edited; this one is {invoice.status}.",
                code="invalid_invoice_status",
            )
        errors: dict = {}
        cleaned = _clean_common(tenant=invoice.tenant, data=data, now=now, errors=errors)
        if errors:
            raise ValidationFailed("Invalid invoice.", errors=errors)
        for name, value in cleaned.items():
            setattr(invoice, name, value)
        if "line_items" in data:
            InvoiceLine.objects.filter(invoice=invoice).delete()
            rows = _line_rows(invoice, data["line_items"])
            InvoiceLine.objects.bulk_create(rows)
        else:
            rows = list(invoice.lines.all())
            if "billing_period" in data:
                InvoiceLine.objects.filter(invoice=invoice, kind=LineKind.CUSTOM).update(
                    period_start=invoice.period_start, period_end=invoice.period_end
                )
        apply_totals(invoice, rows)
        invoice.updated_at = now
        invoice.save()
        return invoice


def invoice_draft_delete(*, invoice_id) -> None:
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(
                f"Only draft invoices may be deleted; this one is {invoice.status}.",
                code="invalid_invoice_status",
            )
        invoice.delete()
