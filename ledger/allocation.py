"""Pure arithmetic of postings (no Django): signed amounts to debit/credit sides, and a split of
an amount over weights in proportion, to the cent (largest remainder)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Posting:
    """One line to post: `amount` > 0 debits the account (by role), < 0 credits it."""

    role: str
    amount: int
    tenant_id: object = None
    jurisdiction: str = ""


def net(postings: list[Posting]) -> list[Posting]:
    """Postings summed per (role, tenant, jurisdiction), zeros dropped, in first-seen order."""
    sums: dict[tuple, int] = {}
    for p in postings:
        key = (p.role, p.tenant_id, p.jurisdiction)
        sums[key] = sums.get(key, 0) + p.amount
    return [
        Posting(role, amount, tenant, j) for (role, tenant, j), amount in sums.items() if amount
    ]


def negate(postings: list[Posting]) -> list[Posting]:
    return [Posting(p.role, -p.amount, p.tenant_id, p.jurisdiction) for p in postings]


def split(amount: int, weights: list[int]) -> list[int]:
    """`amount` in proportion to `weights` (which may be negative but not sum to zero), summing
    exactly to `amount`: floors first, the remainder one cent at a time to the largest fractions."""
    total = sum(weights)
    if not weights:
        return []
    if total == 0:
        raise ValueError("weights sum to zero")
    if total < 0:
        return [-share for share in split(-amount, [-w for w in weights])]
    shares = [amount * w // total for w in weights]
    fractions = [(amount * w) % total for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-fractions[i], i))
    for i in order[: amount - sum(shares)]:
        shares[i] += 1
    return shares
