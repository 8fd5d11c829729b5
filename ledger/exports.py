"""Reading the journal line by line: a tenant's balance movements (for statements) and the CSV
journal export for the accounting system."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import F, Sum

from ledger.models import AccountRole, JournalLine

# What a tenant owes us: the receivable, less credits we owe back (credit notes beyond what was
# due, until refunded). Both are kept per tenant.
BALANCE_ROLES = (AccountRole.RECEIVABLE, AccountRole.REFUNDS_PAYABLE)

JOURNAL_CSV_COLUMNS = [
    "date",
    "entry",
    "account",
    "debit",
    "credit",
    "currency",
    "document",
    "tenant",
]


@dataclass(frozen=True)
class Movement:
    """One entry's net effect on a tenant's balance (positive: the tenant owes more)."""

    entry_id: UUID
    posted_at: datetime
    event: str
    document_type: str
    document_id: str
    amount: int


def _tenant_lines(*, tenant_id: UUID, currency: str):
    return JournalLine.objects.filter(
        tenant_id=tenant_id, currency=currency, account__role__in=BALANCE_ROLES
    )


def tenant_balance(*, tenant_id: UUID, currency: str, before: datetime) -> int:
    """What the tenant owed at `before` (entries posted before it)."""
    sums = (
        _tenant_lines(tenant_id=tenant_id, currency=currency)
        .filter(entry__posted_at__lt=before)
        .aggregate(d=Sum("debit"), c=Sum("credit"))
    )
    return (sums["d"] or 0) - (sums["c"] or 0)


def tenant_movements(
    *, tenant_id: UUID, currency: str, start: datetime, end: datetime
) -> list[Movement]:
    """Each entry posted in [start, end) that moved the tenant's balance, oldest first."""
    rows = (
        _tenant_lines(tenant_id=tenant_id, currency=currency)
        .filter(entry__posted_at__gte=start, entry__posted_at__lt=end)
        .values(
            "entry_id",
            posted_at=F("entry__posted_at"),
            created_at=F("entry__created_at"),
            event=F("entry__event"),
            document_type=F("entry__document_type"),
            document_id=F("entry__document_id"),
        )
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("posted_at", "created_at", "entry_id")
    )
    return [
        Movement(
            entry_id=row["entry_id"],
            posted_at=row["posted_at"],
            event=row["event"],
            document_type=row["document_type"],
            document_id=row["document_id"],
            amount=row["d"] - row["c"],
        )
        for row in rows
        if row["d"] != row["c"]
    ]


def journal_rows(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    document_id: str | None = None,
    currency: str | None = None,
) -> Iterator[list]:
    """The journal's lines as CSV rows (JOURNAL_CSV_COLUMNS), in posting order."""
    lines = JournalLine.objects.select_related("entry", "account")
    if start is not None:
        lines = lines.filter(entry__posted_at__gte=start)
    if end is not None:
        lines = lines.filter(entry__posted_at__lt=end)
    if document_id:
        lines = lines.filter(entry__document_id=document_id)
    if currency:
        lines = lines.filter(currency=currency)
    lines = lines.order_by("entry__posted_at", "entry__created_at", "entry_id", "id")
    for line in lines.iterator(chunk_size=2000):
        entry = line.entry
        yield [
            entry.posted_at.date().isoformat(),
            str(entry.pk),
            line.account.code,
            line.debit,
            line.credit,
            line.currency,
            f"{entry.document_type}:{entry.document_id}",
            str(line.tenant_id) if line.tenant_id else "",
        ]


def journal_csv(**filters) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(JOURNAL_CSV_COLUMNS)
    writer.writerows(journal_rows(**filters))
    return out.getvalue()
