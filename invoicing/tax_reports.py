"""Tax reports from finalized invoices net of credit notes (reads only).

- OSS (quarter): VAT on EU consumer sales declared through the One-Stop Shop, by member state
  and rate: every invoice issued in the quarter whose decision says `oss`, less the credit notes
  issued in the quarter against such invoices (a credit note corrects the period it is issued
  in). Void invoices count nowhere (a void cancels the invoice).
- US (month): sales tax by state and rate, and exempt sales by state, likewise.
Amounts stay in each invoice's currency (rows are per currency); nothing is converted.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from billing_project.shared.errors import ValidationFailed
from invoicing.models import CreditNote, Invoice, InvoiceStatus

COUNTED = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE)
COLUMNS = ("jurisdiction", "kind", "rate", "currency", "taxable", "tax", "invoices", "credit_notes")


@dataclass(frozen=True)
class Window:
    label: str
    start: datetime
    end: datetime


def quarter_window(value: str) -> Window:
    match = re.fullmatch(r"([1-9]\d{3})-Q([1-4])", (value or "").strip().upper())
    if not match or match.group(0) == "9999-Q4":
        raise ValidationFailed(
            "quarter must be YYYY-Qn, e.g. 2026-Q3.", errors={"quarter": ["Use YYYY-Qn."]}
        )
    year, quarter = int(match.group(1)), int(match.group(2))
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = datetime(year + quarter // 4, (3 * quarter) % 12 + 1, 1, tzinfo=UTC)
    return Window(label=f"{year}-Q{quarter}", start=start, end=end)


def month_window(value: str) -> Window:
    try:
        start = datetime.strptime((value or "").strip(), "%Y-%m").replace(tzinfo=UTC)
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    except ValueError:
        raise ValidationFailed(
            "month must be YYYY-MM, e.g. 2026-11.", errors={"month": ["Use YYYY-MM."]}
        ) from None
    return Window(label=start.strftime("%Y-%m"), start=start, end=end)


def _oss(decision: dict) -> bool:
    return bool(decision.get("oss"))


def _us(decision: dict) -> bool:
    return str(decision.get("jurisdiction", "")).startswith("US-") and decision.get("kind") in (
        "sales_tax",
        "exempt",
    )


def _parts(decision: dict, *, taxable: int, tax: int) -> list[tuple[dict, int, int]]:
    """(decision, taxable, tax) per jurisdiction of an invoice: a consolidated invoice's
    sections are taxed each by its child's location, so each counts under its own."""
    sections = decision.get("sections")
    if not sections:
        return [(decision, taxable, tax)]
    return [(part, int(part.get("taxable", 0)), int(part.get("tax", 0))) for part in sections]


def _split(amount: int, weights: list[int]) -> list[int]:
    """`amount` in parts proportional to `weights`, the remainder to the largest: exact sum."""
    total = sum(weights)
    if not total:
        return [amount] + [0] * (len(weights) - 1)
    shares = [amount * w // total for w in weights]
    shares[weights.index(max(weights))] += amount - sum(shares)
    return shares


def _credited_parts(decision: dict, *, taxable: int, tax: int) -> list[tuple[dict, int, int]]:
    """A credit note on a consolidated invoice, split over its sections by their share."""
    parts = _parts(decision, taxable=taxable, tax=tax)
    if len(parts) == 1:
        return [(parts[0][0], taxable, tax)]
    taxables = _split(taxable, [p[1] for p in parts])
    taxes = _split(tax, [p[2] for p in parts])
    return [(p[0], t, x) for p, t, x in zip(parts, taxables, taxes, strict=True)]


def _report(window: Window, wanted) -> list[dict]:
    rows: dict[tuple, dict] = {}

    def row_for(decision: dict, currency: str) -> dict:
        key = (decision["jurisdiction"], decision["kind"], decision["rate"], currency)
        return rows.setdefault(
            key,
            dict(zip(COLUMNS, (*key, 0, 0, 0, 0), strict=True)),
        )

    invoices = Invoice.objects.filter(
        status__in=COUNTED,
        issued_at__gte=window.start,
        issued_at__lt=window.end,
        tax_decision__isnull=False,
    ).values_list("tax_decision", "currency", "subtotal", "discount", "tax")
    for decision, currency, subtotal, discount, tax in invoices:
        for part, taxable, part_tax in _parts(decision, taxable=subtotal - discount, tax=tax):
            if wanted(part):
                row = row_for(part, currency)
                row["taxable"] += taxable
                row["tax"] += part_tax
                row["invoices"] += 1
    notes = CreditNote.objects.filter(
        issued_at__gte=window.start,
        issued_at__lt=window.end,
        invoice__status__in=COUNTED,
        invoice__tax_decision__isnull=False,
    ).values_list("invoice__tax_decision", "currency", "total", "tax")
    for decision, currency, total, tax in notes:
        for part, taxable, part_tax in _credited_parts(decision, taxable=total - tax, tax=tax):
            if wanted(part):
                row = row_for(part, currency)
                row["taxable"] -= taxable
                row["tax"] -= part_tax
                row["credit_notes"] += 1
    return [rows[key] for key in sorted(rows)]


def _totals(rows: list[dict]) -> list[dict]:
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(row["currency"], {"currency": row["currency"], "taxable": 0})
        total["taxable"] += row["taxable"]
        total["tax"] = total.get("tax", 0) + row["tax"]
    return [totals[c] for c in sorted(totals)]


def oss_report(*, quarter: str) -> dict:
    window = quarter_window(quarter)
    rows = [{**row, "country": row["jurisdiction"]} for row in _report(window, _oss)]
    return _shape(window, rows, "quarter")


def us_report(*, month: str) -> dict:
    window = month_window(month)
    rows = [
        {**row, "state": row["jurisdiction"].removeprefix("US-")} for row in _report(window, _us)
    ]
    return _shape(window, rows, "month")


def _shape(window: Window, rows: list[dict], name: str) -> dict:
    return {
        name: window.label,
        "start": window.start.isoformat().replace("+00:00", "Z"),
        "end": window.end.isoformat().replace("+00:00", "Z"),
        "rows": rows,
        "totals": _totals(rows),
    }


def report_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in report["rows"]:
        writer.writerow([row[c] for c in COLUMNS])
    return out.getvalue()
