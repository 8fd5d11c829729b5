"""What invoicing's money events post to the ledger (README "Ledger"). Called inside the
transaction of each event, with the amounts; the ledger knows nothing of invoices.

- finalized: Dr receivable total; Cr deferred revenue for fees billed in advance, Cr usage revenue
  for what is billed in arrears, Dr discounts, Cr tax payable per jurisdiction.
- payment: Dr Stripe clearing (card) or bank; Cr receivable (Cr bad debt: a recovery, when the
  invoice was written off).
- credit note: Dr the invoice's revenue/deferred/discount accounts in proportion to its pre-tax
  part, Dr tax payable by its `tax`; Cr receivable up to what was due, the rest Cr customer
  credits (refunds payable: the refund pays it out; Cr bad debt on a written-off invoice).
- write-off: Dr bad debt, Cr receivable for the amount due.
- void: the reversal of everything the invoice and its credit notes posted.
"""

from datetime import datetime

from invoicing.models import Invoice, LineKind
from ledger.allocation import Posting, split
from ledger.models import AccountRole
from ledger.services import EntryPost, ledger_post, ledger_post_many, ledger_reverse

ADVANCE = {LineKind.PLAN_FEE, LineKind.PRORATION, LineKind.CONTRACT_FEE}


def _role(kind: str) -> str:
    if kind == LineKind.DISCOUNT:
        return AccountRole.DISCOUNTS
    if kind in ADVANCE:
        return AccountRole.DEFERRED_REVENUE
    return AccountRole.REVENUE_USAGE


def _jurisdiction(row) -> str:
    return str((row.explanation or {}).get("jurisdiction", ""))[:20]


def finalized_entry(invoice: Invoice, rows) -> EntryPost:
    postings = [Posting(AccountRole.RECEIVABLE, invoice.total, invoice.tenant_id)]
    for row in rows:
        if row.kind == LineKind.TAX:
            postings.append(Posting(AccountRole.TAX_PAYABLE, -row.amount, None, _jurisdiction(row)))
        else:
            postings.append(Posting(_role(row.kind), -row.amount))
    return EntryPost(
        "invoice.finalized",
        "invoice",
        str(invoice.pk),
        invoice.currency,
        invoice.issued_at,
        postings,
    )


def post_finalized(*, invoice: Invoice, rows, now: datetime) -> None:
    ledger_post_many(entries=[finalized_entry(invoice, rows)], now=now)


def post_finalized_many(*, built: list[tuple[Invoice, list]], now: datetime) -> None:
    ledger_post_many(entries=[finalized_entry(inv, rows) for inv, rows in built], now=now)


def _settles(was_written_off: bool) -> str:
    return AccountRole.BAD_DEBT if was_written_off else AccountRole.RECEIVABLE


def post_payment(
    *, invoice: Invoice, payment, was_written_off: bool, posted_at: datetime, now: datetime
) -> None:
    cash = AccountRole.STRIPE_CLEARING if payment.method == "card" else AccountRole.BANK
    ledger_post(
        event="payment.recorded",
        document_type="payment",
        document_id=payment.pk,
        currency=invoice.currency,
        posted_at=posted_at,
        postings=[
            Posting(cash, payment.amount),
            Posting(_settles(was_written_off), -payment.amount, invoice.tenant_id),
        ],
        now=now,
    )


def credit_postings(
    *, invoice: Invoice, rows, total: int, tax: int, due_before: int, was_written_off: bool
) -> list[Posting]:
    """A credit of `total` (of which `tax` reverses tax) on an invoice with these line rows."""
    postings = []
    tax_rows = [row for row in rows if row.kind == LineKind.TAX and row.amount]
    if not tax_rows:
        tax = 0
    if tax:
        shares = split(tax, [row.amount for row in tax_rows])
        postings += [
            Posting(AccountRole.TAX_PAYABLE, share, None, _jurisdiction(row))
            for row, share in zip(tax_rows, shares, strict=True)
        ]
    pre_tax = total - tax
    weights: dict[str, int] = {}
    for row in rows:
        if row.kind != LineKind.TAX:
            weights[_role(row.kind)] = weights.get(_role(row.kind), 0) + row.amount
    weights = {role: w for role, w in weights.items() if w}
    if pre_tax and sum(weights.values()):
        shares = split(pre_tax, list(weights.values()))
        postings += [Posting(role, share) for role, share in zip(weights, shares, strict=True)]
    elif pre_tax:
        postings.append(Posting(AccountRole.REVENUE_USAGE, pre_tax))
    owed = min(total, max(due_before, 0))
    postings.append(Posting(_settles(was_written_off), -owed, invoice.tenant_id))
    postings.append(Posting(AccountRole.REFUNDS_PAYABLE, -(total - owed), invoice.tenant_id))
    return postings


def post_credit_note(
    *, invoice: Invoice, note, due_before: int, was_written_off: bool, now: datetime
) -> None:
    ledger_post(
        event="credit_note.issued",
        document_type="credit_note",
        document_id=note.pk,
        currency=invoice.currency,
        posted_at=note.issued_at,
        postings=credit_postings(
            invoice=invoice,
            rows=list(invoice.lines.all()),
            total=note.total,
            tax=note.tax,
            due_before=due_before,
            was_written_off=was_written_off,
        ),
        now=now,
    )


def post_write_off(*, invoice: Invoice, amount: int, posted_at: datetime, now: datetime) -> None:
    ledger_post(
        event="invoice.written_off",
        document_type="invoice",
        document_id=invoice.pk,
        currency=invoice.currency,
        posted_at=posted_at,
        postings=[
            Posting(AccountRole.BAD_DEBT, amount, invoice.tenant_id),
            Posting(AccountRole.RECEIVABLE, -amount, invoice.tenant_id),
        ],
        now=now,
    )


def post_void(*, invoice: Invoice, credit_note_ids: list, posted_at: datetime, now: datetime):
    ledger_reverse(
        event="invoice.voided",
        document_type="invoice",
        document_id=invoice.pk,
        of=[("invoice", str(invoice.pk))] + [("credit_note", str(i)) for i in credit_note_ids],
        posted_at=posted_at,
        now=now,
    )
