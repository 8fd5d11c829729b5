"""Posting to the journal: balanced, once per (document, event), in the caller's transaction.

Callers (invoicing, payments) pass plain values: the event, the document's type and id, the
currency and the postings by account role. Nothing here knows what an invoice is."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from ledger.allocation import Posting, negate, net
from ledger.models import Account, JournalEntry, JournalLine


class UnbalancedEntry(ValueError):
    pass


@dataclass
class EntryPost:
    event: str
    document_type: str
    document_id: str
    currency: str
    posted_at: datetime
    postings: list[Posting] = field(default_factory=list)


def _accounts() -> dict[str, Account]:
    return {account.role: account for account in Account.objects.all()}


def ledger_post_many(*, entries: list[EntryPost], now: datetime) -> list[JournalEntry]:
    """Post each entry not posted yet (unique per document and event: a retry posts nothing),
    in a constant number of queries. Entries with nothing to post are skipped. Returns the
    entries inserted by this call."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post must run inside the money event's transaction")
    prepared = []
    for post in entries:
        postings = net(post.postings)
        if not postings:
            continue
        if sum(p.amount for p in postings) != 0:
            raise UnbalancedEntry(f"{post.event} {post.document_id}: debits != credits")
        row = JournalEntry(
            posted_at=post.posted_at,
            event=post.event,
            document_type=post.document_type,
            document_id=str(post.document_id),
            currency=post.currency,
            created_at=now,
        )
        prepared.append((row, postings))
    if not prepared:
        return []
    JournalEntry.objects.bulk_create([row for row, _ in prepared], ignore_conflicts=True)
    inserted = set(
        JournalEntry.objects.filter(pk__in=[row.pk for row, _ in prepared]).values_list(
            "pk", flat=True
        )
    )
    accounts = _accounts()
    lines = [
        JournalLine(
            entry=row,
            account=accounts[p.role],
            tenant_id=p.tenant_id,
            debit=max(p.amount, 0),
            credit=max(-p.amount, 0),
            currency=row.currency,
            jurisdiction=p.jurisdiction,
        )
        for row, postings in prepared
        if row.pk in inserted
        for p in postings
    ]
    JournalLine.objects.bulk_create(lines)
    return [row for row, _ in prepared if row.pk in inserted]


def ledger_post(
    *,
    event: str,
    document_type: str,
    document_id,
    currency: str,
    posted_at: datetime,
    postings: list[Posting],
    now: datetime,
) -> JournalEntry | None:
    """One entry (see `ledger_post_many`); None when it was posted before or posts nothing."""
    posted = ledger_post_many(
        entries=[EntryPost(event, document_type, str(document_id), currency, posted_at, postings)],
        now=now,
    )
    return posted[0] if posted else None


def postings_of(*, documents: list[tuple[str, str]]) -> dict[str, list[Posting]]:
    """What the entries of these (document_type, document_id) posted, netted, by currency."""
    found: dict[str, list[Posting]] = {}
    lines = JournalLine.objects.filter(
        entry__document_type__in={t for t, _ in documents},
        entry__document_id__in={str(i) for _, i in documents},
    ).values_list(
        "entry__document_type",
        "entry__document_id",
        "account__role",
        "tenant_id",
        "jurisdiction",
        "debit",
        "credit",
        "currency",
    )
    wanted = {(t, str(i)) for t, i in documents}
    for doc_type, doc_id, role, tenant, jurisdiction, debit, credit, currency in lines:
        if (doc_type, doc_id) in wanted:
            found.setdefault(currency, []).append(
                Posting(role, debit - credit, tenant, jurisdiction)
            )
    return {currency: net(postings) for currency, postings in found.items()}


def ledger_reverse(
    *,
    event: str,
    document_type: str,
    document_id,
    of: list[tuple[str, str]],
    posted_at: datetime,
    now: datetime,
) -> list[JournalEntry]:
    """Post the reversal of everything the entries of the documents `of` posted (one entry; a
    document in one currency)."""
    entries = [
        EntryPost(event, document_type, str(document_id), currency, posted_at, negate(postings))
        for currency, postings in postings_of(documents=of).items()
    ]
    return ledger_post_many(entries=entries[:1], now=now)
