"""Gapless document numbers: `INV-2026-000001`, `CN-2026-000001`.

One counter row per (seller, document type, year). `INSERT ... ON CONFLICT DO UPDATE ...
RETURNING` creates or bumps it in one statement and leaves the row locked (exactly as
`SELECT ... FOR UPDATE` would) until the caller's transaction ends: a concurrent finalization
waits, a rollback gives the number back. A number is therefore only ever taken by a committed
document, and the series has no gaps. Voided invoices keep their numbers.
"""

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from invoicing.models import DocumentType
from invoicing.sql import NUMBER_BLOCK

PREFIXES = {DocumentType.INVOICE: "INV", DocumentType.CREDIT_NOTE: "CN"}


def seller_code() -> str:
    return getattr(settings, "BILLING_SELLER_CODE", "default")


def number_next(*, document_type: str, at: datetime, seller: str | None = None) -> str:
    """Take the next number of the series; call inside the transaction that uses it."""
    return number_block(document_type=document_type, at=at, count=1, seller=seller)[0]


def number_block(
    *, document_type: str, at: datetime, count: int, seller: str | None = None
) -> list[str]:
    """Take the next `count` numbers of the series in one statement, in order; call inside the
    transaction that uses every one of them (a rollback gives the whole block back)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next must run inside the document's transaction")
    if count < 1:
        return []
    seller = seller or seller_code()
    year = at.year
    with connection.cursor() as cursor:
        cursor.execute(NUMBER_BLOCK, [seller, document_type, year, count])
        last = cursor.fetchone()[0]
    prefix = PREFIXES[document_type]
    return [f"{prefix}-{year}-{value:06d}" for value in range(last - count + 1, last + 1)]
