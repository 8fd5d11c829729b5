"""MRR movements between two instants, per tenant (pure).

A tenant's movement compares its MRR at the start and at the end of the range:
`new` 0 -> >0 for the first time ever, `reactivation` 0 -> >0 after having had MRR before,
`expansion` up, `contraction` down (negative), `churn` >0 -> 0 (negative). The amounts are
`end - start`, so their sum, `net_new_mrr`, is `mrr(end) - mrr(start)` exactly.
"""

from dataclasses import dataclass

KINDS = ("new", "expansion", "contraction", "churn", "reactivation")
METRIC_KEYS = {
    "new": "new_mrr",
    "expansion": "expansion_mrr",
    "contraction": "contraction_mrr",
    "churn": "churn_mrr",
    "reactivation": "reactivation_mrr",
}


@dataclass(frozen=True, slots=True)
class TenantMrr:
    tenant_id: object
    currency: str
    start: int
    end: int
    had_mrr_before: bool = False  # any MRR at any instant before the start


@dataclass(frozen=True, slots=True)
class Movement:
    tenant_id: object
    currency: str
    kind: str
    amount: int
    mrr_start: int
    mrr_end: int


def movement_kind(*, start: int, end: int, had_mrr_before: bool) -> str | None:
    if start == end:
        return None
    if start == 0:
        return "reactivation" if had_mrr_before else "new"
    if end == 0:
        return "churn"
    return "expansion" if end > start else "contraction"


def movements(*, tenants) -> list[Movement]:
    result = []
    for t in tenants:
        kind = movement_kind(start=t.start, end=t.end, had_mrr_before=t.had_mrr_before)
        if kind is not None:
            result.append(Movement(t.tenant_id, t.currency, kind, t.end - t.start, t.start, t.end))
    return result


def movement_totals(*, moves) -> dict[str, dict[str, int]]:
    """Per currency: new_mrr, expansion_mrr, contraction_mrr, churn_mrr, reactivation_mrr,
    net_new_mrr."""
    totals: dict[str, dict[str, int]] = {}
    for m in moves:
        row = totals.setdefault(m.currency, empty_totals())
        row[METRIC_KEYS[m.kind]] += m.amount
        row["net_new_mrr"] += m.amount
    return totals


def empty_totals() -> dict[str, int]:
    return {**{key: 0 for key in METRIC_KEYS.values()}, "net_new_mrr": 0}
