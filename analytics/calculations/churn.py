"""Churn figures (pure): logo and revenue churn rates, cohort retention, churn reasons, ARPU,
LTV. Rates are percents rounded to one decimal."""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from billing_project.shared.money import round_minor


def percent(numerator, denominator) -> float:
    """`numerator / denominator` as a percent rounded half-up to 0.1 (0.0 when nothing)."""
    if not denominator:
        return 0.0
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def churn_rate(*, churned: int, at_start: int) -> float:
    """Tenants that went from MRR to none / tenants with MRR at the start, in %."""
    return percent(churned, at_start)


def revenue_churn_rate(*, churn_mrr: int, contraction_mrr: int, mrr_start: int) -> float:
    """(churn + contraction) / MRR at the start, in % (a positive number)."""
    return percent(-(churn_mrr + contraction_mrr), mrr_start)


def reason_slug(text: str) -> str:
    """A free-text cancellation reason as a key: lower case, runs of other characters as `_`;
    an empty reason is `other`."""
    slug = re.sub(r"[^a-z0-9]+", "_", (text or "").strip().lower()).strip("_")
    return slug[:50] or "other"


def churn_reasons(*, reasons) -> dict[str, float]:
    """Share of each reason among the churned (in %), most frequent first."""
    counts: dict[str, int] = {}
    for reason in reasons:
        slug = reason_slug(reason)
        counts[slug] = counts.get(slug, 0) + 1
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {slug: percent(count, total) for slug, count in ordered}


def cohort_key(month: date) -> str:
    """`jan_2026` for any day of January 2026."""
    return f"{calendar.month_abbr[month.month].lower()}_{month.year}"


@dataclass(frozen=True, slots=True)
class CohortMember:
    tenant_id: object
    start_month: date  # first day of the month of the tenant's first MRR
    starting_mrr: int  # its MRR when it first had MRR
    mrr_at_end: int


def cohorts(*, members) -> dict[str, dict[str, float]]:
    """Per start month (oldest first): `retention_rate` (tenants with MRR at the end / cohort
    size, %) and `revenue_retention` (their MRR at the end / their starting MRR, %)."""
    groups: dict[date, list[CohortMember]] = {}
    for m in members:
        groups.setdefault(m.start_month, []).append(m)
    result = {}
    for month in sorted(groups):
        group = groups[month]
        kept = sum(1 for m in group if m.mrr_at_end > 0)
        result[cohort_key(month)] = {
            "retention_rate": percent(kept, len(group)),
            "revenue_retention": percent(
                sum(m.mrr_at_end for m in group), sum(m.starting_mrr for m in group)
            ),
        }
    return result


def arpu(*, mrr: int, customers: int, currency: str) -> int:
    """Average MRR per paying tenant (minor units, half-up); 0 without customers."""
    if not customers:
        return 0
    return round_minor(Fraction(mrr, customers), currency)


def ltv(*, arpu_amount: int, churn_mrr: int, contraction_mrr: int, mrr_start: int,
        currency: str) -> int | None:  # fmt: skip
    """ARPU / revenue churn rate (as a fraction per month): the revenue a customer brings over
    its expected life. None when the revenue churn is 0 (or nothing to churn from)."""
    lost = -(churn_mrr + contraction_mrr)
    if lost <= 0 or mrr_start <= 0:
        return None
    return round_minor(Fraction(arpu_amount) * Fraction(mrr_start, lost), currency)
