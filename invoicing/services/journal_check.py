"""The ledger's invariants against invoicing's records (`manage.py ledger_check`), and the replay
that posts the entries of documents made before the ledger (`manage.py ledger_rebuild`)."""

from datetime import datetime

from django.db import transaction
from django.db.models import Sum

from invoicing.models import Invoice, InvoiceStatus
from invoicing.services import journal
from invoicing.services.locking import invoice_lock
from invoicing.services.recognition import recognized_by_invoice, schedules
from ledger.models import AccountRole, JournalLine
from ledger.selectors import receivable_by_tenant, unbalanced_currencies
from ledger.services import ledger_post_many


def deferred_differences() -> list[str]:
    """Deferred revenue per currency equals what the recognition schedule has not recognized:
    the advance fee lines of finalized, not voided invoices, less what credit notes released,
    less what recognition posted."""
    expected: dict[str, int] = {}
    for line in schedules():
        expected[line.currency] = expected.get(line.currency, 0) + line.amount
    recognized = recognized_by_invoice()
    live = Invoice.objects.filter(pk__in=list(recognized)).exclude(status=InvoiceStatus.VOID)
    for invoice_id, currency in live.values_list("pk", "currency"):
        expected[currency] = expected.get(currency, 0) - recognized[str(invoice_id)]
    ledger = {
        row["currency"]: row["c"] - row["d"]
        for row in JournalLine.objects.filter(account__role=AccountRole.DEFERRED_REVENUE)
        .values("currency")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    }
    return [
        f"deferred revenue in {currency}: ledger {ledger.get(currency, 0)}, "
        f"not yet recognized {expected.get(currency, 0)}"
        for currency in sorted(set(expected) | set(ledger))
        if ledger.get(currency, 0) != expected.get(currency, 0)
    ]


def ledger_differences() -> list[str]:
    """Each tenant's receivable equals the amount due of its open invoices; the journal balances
    per currency; deferred revenue is what the schedule has not recognized. One sentence per
    difference."""
    found = []
    due = {
        (row["tenant_id"], row["currency"]): row["due"]
        for row in Invoice.objects.filter(status=InvoiceStatus.OPEN)
        .values("tenant_id", "currency")
        .annotate(due=Sum("amount_due"))
        if row["due"]
    }
    ledger = receivable_by_tenant()
    for key in sorted(set(due) | set(ledger), key=lambda k: (str(k[0]), k[1])):
        if due.get(key, 0) != ledger.get(key, 0):
            tenant, currency = key
            found.append(
                f"receivable of tenant {tenant} in {currency}: ledger {ledger.get(key, 0)}, "
                f"open invoices {due.get(key, 0)}"
            )
    for currency, (debit, credit) in sorted(unbalanced_currencies().items()):
        found.append(f"trial balance in {currency}: debits {debit}, credits {credit}")
    return found + deferred_differences()


FINALIZED, PAYMENT, CREDIT, WRITE_OFF, VOID = range(5)


def _events(invoice: Invoice) -> list[tuple]:
    events = [(invoice.issued_at, FINALIZED, None)]
    events += [(p.created_at, PAYMENT, p) for p in invoice.payments.all()]
    events += [(n.issued_at, CREDIT, n) for n in invoice.credit_notes.all()]
    if invoice.uncollectible_at is not None:
        events.append((invoice.uncollectible_at, WRITE_OFF, None))
    if invoice.voided_at is not None:
        events.append((invoice.voided_at, VOID, None))
    return sorted(events, key=lambda e: (e[0], e[1]))


def _replay(invoice: Invoice, *, now: datetime) -> None:
    """Post what each of the invoice's events would have posted, in their order (an entry
    already posted is not posted again)."""
    rows = list(invoice.lines.all())
    paid = credited = 0
    written_off = False
    for at, kind, document in _events(invoice):
        due = max(0, invoice.total - paid - credited)
        if kind == FINALIZED:
            entry = journal.finalized_entry(invoice, rows)
            ledger_post_many(entries=[entry], now=now)
        elif kind == PAYMENT:
            journal.post_payment(
                invoice=invoice,
                payment=document,
                was_written_off=written_off,
                posted_at=at,
                now=now,
            )
            paid += document.amount
        elif kind == CREDIT:
            journal.post_credit_note(
                invoice=invoice, note=document, due_before=due, was_written_off=written_off, now=now
            )
            credited += document.total
        elif kind == WRITE_OFF:
            journal.post_write_off(invoice=invoice, amount=due, posted_at=at, now=now)
            written_off = True
        else:
            journal.post_void(
                invoice=invoice,
                credit_note_ids=[n.pk for n in invoice.credit_notes.all()],
                posted_at=at,
                now=now,
            )


def ledger_rebuild_invoices(*, now: datetime) -> int:
    """Replay every finalized invoice (one transaction each, its row locked). Returns how many."""
    ids = list(
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
        .order_by("issued_at", "id")
        .values_list("pk", flat=True)
    )
    for invoice_id in ids:
        with transaction.atomic():
            invoice = invoice_lock(invoice_id=invoice_id)
            _replay(invoice, now=now)
    return len(ids)
