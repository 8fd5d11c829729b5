"""Reading the journal: the trial balance, a document's entries, the receivable per tenant."""

from datetime import datetime

from django.db.models import Sum

from ledger.models import Account, AccountRole, JournalEntry, JournalLine


def trial_balances(*, before: datetime | None = None, currency: str | None = None) -> list[dict]:
    """Per currency: every account's balance on its side (entries posted before `before`)."""
    lines = JournalLine.objects.all()
    if before is not None:
        lines = lines.filter(entry__posted_at__lt=before)
    if currency:
        lines = lines.filter(currency=currency)
    sums = lines.values("currency", "account_id").annotate(d=Sum("debit"), c=Sum("credit"))
    accounts = {a.pk: a for a in Account.objects.all()}
    by_currency: dict[str, dict[int, int]] = {}
    for row in sums:
        by_currency.setdefault(row["currency"], {})[row["account_id"]] = row["d"] - row["c"]
    if currency and currency not in by_currency:
        by_currency[currency] = {}
    result = []
    for code in sorted(by_currency):
        balances = by_currency[code]
        rows = [
            {
                "code": account.code,
                "name": account.name,
                "debit": max(balances.get(account.pk, 0), 0),
                "credit": max(-balances.get(account.pk, 0), 0),
            }
            for account in sorted(accounts.values(), key=lambda a: a.code)
        ]
        result.append(
            {
                "currency": code,
                "accounts": rows,
                "totals": {
                    "debit": sum(r["debit"] for r in rows),
                    "credit": sum(r["credit"] for r in rows),
                },
            }
        )
    return result


def entries_for(*, document_id: str) -> list[JournalEntry]:
    return list(
        JournalEntry.objects.filter(document_id=document_id)
        .prefetch_related("lines__account")
        .order_by("posted_at", "created_at", "id")
    )


def receivable_by_tenant() -> dict[tuple, int]:
    """{(tenant_id, currency): debit - credit} of the receivable account, non-zero ones."""
    rows = (
        JournalLine.objects.filter(account__role=AccountRole.RECEIVABLE)
        .values("tenant_id", "currency")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    return {
        (row["tenant_id"], row["currency"]): row["d"] - row["c"]
        for row in rows
        if row["d"] != row["c"]
    }


def receivable_for_tenant(*, tenant_id) -> dict[str, int]:
    """{currency: debit - credit} of one tenant's receivable (its open amounts due)."""
    rows = (
        JournalLine.objects.filter(account__role=AccountRole.RECEIVABLE, tenant_id=tenant_id)
        .values("currency")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    return {row["currency"]: row["d"] - row["c"] for row in rows}


def unbalanced_currencies() -> dict[str, tuple[int, int]]:
    """{currency: (debits, credits)} where the journal does not balance."""
    rows = JournalLine.objects.values("currency").annotate(d=Sum("debit"), c=Sum("credit"))
    return {row["currency"]: (row["d"], row["c"]) for row in rows if row["d"] != row["c"]}
