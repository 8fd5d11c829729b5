"""The cost-allocation report: a parent's consolidated invoices of a month split between its
children by their `cost_allocation` percentages. Each share is rounded down to the cent and the
remainder goes to the largest share (the first listed on a tie), so the parts add up exactly."""

import csv
import io
from datetime import date, datetime, time
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum

from billing_project.shared.errors import ValidationFailed
from invoicing.models import Invoice, InvoiceKind, InvoiceSection, InvoiceStatus
from subscriptions.models import Tenant


def allocate(amount: int, shares: list[tuple]) -> list[tuple]:
    """[(key, percent)] -> [(key, cents)] summing to `amount` exactly."""
    if not shares:
        return []
    parts = [
        int((Decimal(amount) * Decimal(pct) / 100).to_integral_value(rounding=ROUND_FLOOR))
        for _, pct in shares
    ]
    largest = max(range(len(shares)), key=lambda i: (Decimal(shares[i][1]), -i))
    parts[largest] += amount - sum(parts)
    return [(key, part) for (key, _), part in zip(shares, parts, strict=True)]


def _month(period: str) -> tuple[date, date]:
    try:
        year, month = (int(x) for x in period.split("-"))
        first = date(year, month, 1)
    except (ValueError, AttributeError):
        raise ValidationFailed(
            "period must be YYYY-MM.", errors={"period": ["Must be YYYY-MM."]}
        ) from None
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following


def cost_allocation_report(*, tenant: Tenant, period: str) -> dict:
    """The month's issued (not void) consolidated invoices of `tenant`, by currency, split."""
    first, following = _month(period)
    invoices = Invoice.objects.filter(
        tenant=tenant,
        kind=InvoiceKind.CONSOLIDATED,
        billing_day__gte=first,
        billing_day__lt=following,
    ).exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
    sums = (
        invoices.values("currency")
        .annotate(
            n=Count("id"),
            subtotal=Sum("subtotal"),
            discount=Sum("discount"),
            tax=Sum("tax"),
            total=Sum("total"),
        )
        .order_by("currency")
    )
    children = list(tenant.children.order_by("name", "pk"))
    billed = {
        (row["tenant_id"], row["invoice__currency"]): row["billed"]
        for row in InvoiceSection.objects.filter(invoice__in=invoices)
        .values("tenant_id", "invoice__currency")
        .annotate(billed=Sum("total"))
    }
    shares = [(child, child.cost_allocation or Decimal(0)) for child in children]
    currencies = []
    for row in sums:
        currencies.append(
            {
                "currency": row["currency"],
                "invoices": row["n"],
                "subtotal": row["subtotal"],
                "discount": row["discount"],
                "tax": row["tax"],
                "total": row["total"],
                "allocations": [
                    {
                        "tenant_id": child.pk,
                        "name": child.name,
                        "cost_allocation": child.cost_allocation,
                        "amount": amount,
                        "sections_total": billed.get((child.pk, row["currency"]), 0),
                    }
                    for child, amount in allocate(row["total"], shares)
                ],
            }
        )
    return {"tenant_id": tenant.pk, "period": f"{first:%Y-%m}", "currencies": currencies}


CSV_COLUMNS = (
    "period",
    "currency",
    "tenant_id",
    "name",
    "cost_allocation",
    "amount",
    "sections_total",
)


def cost_allocation_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for block in report["currencies"]:
        for row in block["allocations"]:
            writer.writerow(
                [report["period"], block["currency"], *(row[c] for c in CSV_COLUMNS[2:])]
            )
    return out.getvalue()


def month_of(now: datetime, tz: str) -> str:
    return f"{datetime.combine(now.astimezone(ZoneInfo(tz or 'UTC')).date(), time(0)):%Y-%m}"
