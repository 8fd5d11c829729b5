"""Revenue recognition (README "Ledger"): a fee billed in advance (the journal's ADVANCE kinds,
posted Cr deferred revenue at finalization) is earned day by day over its line's service period;
`recognize_through` posts Dr deferred revenue, Cr subscription revenue for what became earned.

The schedule of a line: its amount less its share of what credit notes released from deferred
revenue (they debit 2100 for their share), spread over the days of [period_start, period_end),
cumulative floor with the remainder on the last day. Each run posts, per invoice and per month
up to D, the difference between the schedule through min(D, month end) and what recognition
entries already posted (event `revenue.recognized:YYYY-MM-DD`, document the invoice): a rerun
posts nothing, a late run catches up month by month, a credit after recognition reverses the
excess. So deferred revenue is always what the schedule has not recognized yet. A void reverses
the invoice's entries, recognition included, and voided invoices are not recognized again."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q

from invoicing.models import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from invoicing.services.journal import ADVANCE
from ledger.allocation import Posting, split
from ledger.models import AccountRole, JournalLine
from ledger.services import EntryPost, ledger_post_many

EVENT = "revenue.recognized"


@dataclass
class LineSchedule:
    invoice_id: str
    line_id: str
    kind: str
    plan: str
    currency: str
    amount: int  # recognizable: the line's amount less its credited share
    start: date
    days: int

    def through(self, day: date) -> int:
        """Cumulative recognized through the end of `day`."""
        elapsed = min(max((day - self.start).days + 1, 0), self.days)
        if elapsed >= self.days:
            return self.amount
        return self.amount * elapsed // self.days


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _released(invoice_ids: list) -> dict[str, int]:
    """{invoice id: what its credit notes debited to deferred revenue (net)}."""
    notes = dict(
        CreditNote.objects.filter(invoice_id__in=invoice_ids).values_list("pk", "invoice_id")
    )
    found: dict[str, int] = {}
    rows = JournalLine.objects.filter(
        account__role=AccountRole.DEFERRED_REVENUE,
        entry__document_type="credit_note",
        entry__document_id__in=[str(pk) for pk in notes],
    ).values_list("entry__document_id", "debit", "credit")
    by_note = {str(pk): str(inv) for pk, inv in notes.items()}
    for note_id, debit, credit in rows:
        key = by_note[note_id]
        found[key] = found.get(key, 0) + debit - credit
    return found


def schedules(*, invoice_filter: Q | None = None) -> list[LineSchedule]:
    """The recognition schedule of every fee line billed in advance on a finalized, not voided
    invoice (a constant number of queries)."""
    invoices = Invoice.objects.exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
    if invoice_filter is not None:
        invoices = invoices.filter(invoice_filter)
    lines = list(
        InvoiceLine.objects.filter(invoice__in=invoices, kind__in=ADVANCE)
        .exclude(amount=0)
        .select_related("invoice")
        .values(
            "pk",
            "invoice_id",
            "kind",
            "amount",
            "period_start",
            "period_end",
            "invoice__issued_at",
            "invoice__currency",
            "invoice__subscription__plan__slug",
        )
        .order_by("invoice_id", "position", "pk")
    )
    released = _released(list({row["invoice_id"] for row in lines}))
    by_invoice: dict[str, list[dict]] = {}
    for row in lines:
        by_invoice.setdefault(str(row["invoice_id"]), []).append(row)
    result = []
    for invoice_id, rows in by_invoice.items():
        credit = released.get(invoice_id, 0)
        shares = split(credit, [r["amount"] for r in rows]) if credit else [0] * len(rows)
        for row, share in zip(rows, shares, strict=True):
            start = (row["period_start"] or row["invoice__issued_at"]).astimezone(UTC).date()
            end = row["period_end"].astimezone(UTC).date() if row["period_end"] else start
            result.append(
                LineSchedule(
                    invoice_id=invoice_id,
                    line_id=str(row["pk"]),
                    kind=row["kind"],
                    plan=row["invoice__subscription__plan__slug"] or "",
                    currency=row["invoice__currency"],
                    amount=row["amount"] - share,
                    start=start,
                    days=max((end - start).days, 1),
                )
            )
    return result


def recognized_by_invoice() -> dict[str, int]:
    """{invoice id: what recognition entries moved out of deferred revenue (net)}."""
    found: dict[str, int] = {}
    rows = JournalLine.objects.filter(
        account__role=AccountRole.DEFERRED_REVENUE,
        entry__document_type="invoice",
        entry__event__startswith=EVENT + ":",
    ).values_list("entry__document_id", "debit", "credit")
    for invoice_id, debit, credit in rows:
        found[invoice_id] = found.get(invoice_id, 0) + debit - credit
    return found


def _months(first: date, last: date) -> list[date]:
    """Each month end from `first`'s month up to `last` (the last one is `last` itself)."""
    ends = []
    cursor = month_end(first)
    while cursor < last:
        ends.append(cursor)
        cursor = month_end(cursor + timedelta(days=1))
    ends.append(last)
    return ends


def recognize_through(*, through: date, now: datetime) -> int:
    """Post what became earned through the end of `through` (UTC). Returns the entries posted."""
    with transaction.atomic():
        lines = [s for s in schedules() if s.start <= through]
        done = recognized_by_invoice()
        by_invoice: dict[str, list[LineSchedule]] = {}
        for line in lines:
            by_invoice.setdefault(line.invoice_id, []).append(line)
        entries = []
        for invoice_id, rows in by_invoice.items():
            posted = done.get(invoice_id, 0)
            if posted == sum(r.through(through) for r in rows):
                continue
            first = min(r.start for r in rows)
            for day in _months(first, through):
                target = sum(r.through(day) for r in rows)
                delta = target - posted
                if not delta:
                    continue
                posted = target
                entries.append(
                    EntryPost(
                        f"{EVENT}:{day.isoformat()}",
                        "invoice",
                        invoice_id,
                        rows[0].currency,
                        datetime.combine(day, time(23, 59, 59), tzinfo=UTC),
                        [
                            Posting(AccountRole.DEFERRED_REVENUE, delta),
                            Posting(AccountRole.REVENUE_SUBSCRIPTION, -delta),
                        ],
                    )
                )
        return len(ledger_post_many(entries=entries, now=now))
