"""MRR reads: totals at an instant, movements between two instants, the trend, churn, ARPU and
LTV. Every figure is in minor units and per currency (never summed across currencies).

Each function first brings the segments up to date with the history (`segments_refresh`), then
reads them with SQL; the pure `analytics.calculations` classify and compute the rates.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection

from analytics.calculations.churn import (
    CohortMember,
    churn_rate,
    churn_reasons,
    cohorts,
    revenue_churn_rate,
)
from analytics.calculations.churn import (
    arpu as arpu_amount,
)
from analytics.calculations.churn import (
    ltv as ltv_amount,
)
from analytics.calculations.movements import (
    TenantMrr,
    empty_totals,
    movement_totals,
    movements,
)
from analytics.selectors.facts import SEGMENTS, segments_refresh

DEFAULT_CURRENCY = "usd"
SUSPENDED_REASON = "non_payment"  # churn without a cancellation: dunning suspended the tenant

__all__ = [
    "arpu",
    "churn_report",
    "ltv",
    "mrr_at",
    "mrr_by_tenant_at",
    "mrr_movements",
    "mrr_report",
    "mrr_trend",
    "period_bounds",
]


def _rows(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def period_bounds(*, start_date: date, end_date: date, now: datetime) -> tuple[datetime, datetime]:
    """MRR "at start" is at start_date 00:00 UTC; "at end" at end_date 23:59:59 UTC, or now
    when that is later than now (end_date today or in the future)."""
    start = datetime.combine(start_date, time.min, tzinfo=UTC)
    end = datetime.combine(end_date, time(23, 59, 59), tzinfo=UTC)
    end = min(end, now)
    return min(start, end), end


# --- totals at an instant ---------------------------------------------------------------------


def mrr_at(*, moment: datetime) -> dict[str, int]:
    """Total MRR per currency at `moment`."""
    segments_refresh()
    rows = _rows(
        f"""SELECT currency, SUM(mrr) FROM {SEGMENTS}
             WHERE valid_from <= %(at)s AND valid_to > %(at)s GROUP BY currency""",  # noqa: S608
        {"at": moment},
    )
    return {currency: int(total) for currency, total in sorted(rows)}


def mrr_by_tenant_at(*, moment: datetime) -> dict[tuple, int]:
    """MRR per (tenant id, currency) at `moment` (tenants with MRR only)."""
    segments_refresh()
    rows = _rows(
        f"""SELECT tenant_id, currency, SUM(mrr) FROM {SEGMENTS}
             WHERE valid_from <= %(at)s AND valid_to > %(at)s
             GROUP BY tenant_id, currency""",  # noqa: S608
        {"at": moment},
    )
    return {(tenant_id, currency): int(total) for tenant_id, currency, total in rows}


def _subscribers_at(moment: datetime) -> dict[str, int]:
    rows = _rows(
        f"""SELECT currency, COUNT(DISTINCT tenant_id) FROM {SEGMENTS}
             WHERE valid_from <= %(at)s AND valid_to > %(at)s GROUP BY currency""",  # noqa: S608
        {"at": moment},
    )
    return {currency: int(n) for currency, n in rows}


def _by_plan(moment: datetime) -> dict[str, dict[str, dict]]:
    """Per currency: {plan slug: {mrr, subscribers}} at `moment`; every active plan of the
    currency is listed (zeros when it has no subscriber)."""
    rows = _rows(
        f"""SELECT p.currency, p.slug, COALESCE(SUM(s.mrr), 0),
                   COUNT(DISTINCT s.subscription_id), p.amount
              FROM subscriptions_plan p
              LEFT JOIN {SEGMENTS} s ON s.plan_id = p.id
                   AND s.valid_from <= %(at)s AND s.valid_to > %(at)s
             WHERE p.active OR s.id IS NOT NULL
             GROUP BY p.currency, p.slug, p.amount
             ORDER BY p.currency, p.amount, p.slug""",  # noqa: S608
        {"at": moment},
    )
    result: dict[str, dict[str, dict]] = {}
    for currency, slug, total, subscribers, _ in rows:
        result.setdefault(currency, {})[slug] = {"mrr": int(total), "subscribers": int(subscribers)}
    return result


# --- movements --------------------------------------------------------------------------------


_TENANT_PAIRS_SQL = f"""
WITH changed AS (
    SELECT tenant_id FROM {SEGMENTS} WHERE valid_from > %(t0)s AND valid_from <= %(t1)s
    UNION
    SELECT tenant_id FROM {SEGMENTS} WHERE valid_to > %(t0)s AND valid_to <= %(t1)s
)
SELECT s.tenant_id, s.currency,
       COALESCE(SUM(s.mrr) FILTER (WHERE s.valid_from <= %(t0)s AND s.valid_to > %(t0)s), 0),
       COALESCE(SUM(s.mrr) FILTER (WHERE s.valid_from <= %(t1)s AND s.valid_to > %(t1)s), 0),
       BOOL_OR(s.valid_from < %(t0)s)
  FROM {SEGMENTS} s JOIN changed c ON c.tenant_id = s.tenant_id
 WHERE s.valid_from <= %(t1)s
 GROUP BY s.tenant_id, s.currency
"""  # noqa: S608


def _tenant_pairs(t0: datetime, t1: datetime) -> list[TenantMrr]:
    """Each tenant whose MRR changed between t0 and t1 (per currency): MRR at both ends and
    whether it had MRR at any instant before t0."""
    return [
        TenantMrr(tenant_id, currency, int(start), int(end), bool(before))
        for tenant_id, currency, start, end, before in _rows(
            _TENANT_PAIRS_SQL, {"t0": t0, "t1": t1}
        )
        if start != end
    ]


def _moves(t0: datetime, t1: datetime):
    return movements(tenants=_tenant_pairs(t0, t1))


def mrr_movements(
    *, start_date: date, end_date: date, now: datetime, currency: str | None = None
) -> list[dict]:
    """The tenant-level movements behind the totals of `mrr_report` (largest first)."""
    segments_refresh()
    t0, t1 = period_bounds(start_date=start_date, end_date=end_date, now=now)
    moves = [m for m in _moves(t0, t1) if currency is None or m.currency == currency]
    names = dict(
        _rows(
            "SELECT id, name FROM subscriptions_tenant WHERE id = ANY(%s)",
            [[m.tenant_id for m in moves]],
        )
    )
    moves.sort(key=lambda m: (m.currency, -abs(m.amount), str(m.tenant_id)))
    return [
        {
            "tenant_id": str(m.tenant_id),
            "tenant_name": names.get(m.tenant_id, ""),
            "currency": m.currency,
            "movement": m.kind,
            "amount": m.amount,
            "mrr_start": m.mrr_start,
            "mrr_end": m.mrr_end,
        }
        for m in moves
    ]


def pick_currency(*, requested: str | None, present) -> str:
    """The currency a single-currency figure is shown in: the one asked for, else usd, else the
    only currency present."""
    if requested:
        return requested.lower()
    present = sorted(set(present))
    if len(present) == 1:
        return present[0]
    return DEFAULT_CURRENCY


def mrr_report(
    *, start_date: date, end_date: date, now: datetime, currency: str | None = None
) -> dict:
    """The body of GET analytics/mrr: the guide's shape for one currency, plus `by_currency`."""
    segments_refresh()
    t0, t1 = period_bounds(start_date=start_date, end_date=end_date, now=now)
    totals = movement_totals(moves=_moves(t0, t1))
    end_mrr = _total_at(t1)
    plans = _by_plan(t1)
    currencies = sorted(set(totals) | set(end_mrr) | {c for c in plans if any(
        v["mrr"] for v in plans[c].values())})  # fmt: skip
    by_currency = {}
    for code in currencies:
        metrics = {"total_mrr": end_mrr.get(code, 0), **totals.get(code, empty_totals())}
        by_currency[code] = {"metrics": _ordered(metrics), "by_plan": plans.get(code, {})}
    chosen = pick_currency(requested=currency, present=currencies)
    shown = by_currency.get(chosen) or {
        "metrics": _ordered({"total_mrr": 0, **empty_totals()}),
        "by_plan": plans.get(chosen, {}),
    }
    return {
        "period": {"start": iso(t0), "end": iso(t1)},
        "currency": chosen,
        "metrics": shown["metrics"],
        "by_plan": shown["by_plan"],
        "by_currency": by_currency,
    }


METRIC_ORDER = (
    "total_mrr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churn_mrr",
    "reactivation_mrr",
    "net_new_mrr",
)


def _ordered(metrics: dict) -> dict:
    return {key: metrics[key] for key in METRIC_ORDER}


def _total_at(moment: datetime) -> dict[str, int]:
    rows = _rows(
        f"""SELECT currency, SUM(mrr) FROM {SEGMENTS}
             WHERE valid_from <= %(at)s AND valid_to > %(at)s GROUP BY currency""",  # noqa: S608
        {"at": moment},
    )
    return {currency: int(total) for currency, total in rows}


# --- trend, ARPU, LTV -------------------------------------------------------------------------


def _month_end(year: int, month: int) -> datetime:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return datetime.combine(nxt - timedelta(days=1), time(23, 59, 59), tzinfo=UTC)


def mrr_trend(*, months: int, now: datetime) -> list[dict]:
    """MRR and paying tenants at each of the last `months` month ends (the current month: now),
    oldest first, one row per month and currency."""
    segments_refresh()
    points = []
    year, month = now.year, now.month
    for _ in range(max(months, 0)):
        points.append((f"{year:04d}-{month:02d}", min(_month_end(year, month), now)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    points.reverse()
    figures = [(label, _total_at(at), _subscribers_at(at)) for label, at in points]
    currencies = sorted({c for _, totals, _ in figures for c in totals})
    return [
        {"month": label, "currency": c, "mrr": totals.get(c, 0), "subscribers": subs.get(c, 0)}
        for label, totals, subs in figures
        for c in currencies
    ]


def arpu(*, moment: datetime) -> dict[str, int]:
    """Average MRR per paying tenant at `moment`, per currency."""
    segments_refresh()
    totals, subscribers = _total_at(moment), _subscribers_at(moment)
    return {
        c: arpu_amount(mrr=totals[c], customers=subscribers.get(c, 0), currency=c)
        for c in sorted(totals)
    }


def _last_complete_month(now: datetime) -> tuple[date, date]:
    first_this = now.date().replace(day=1)
    last_prev = first_this - timedelta(days=1)
    return last_prev.replace(day=1), last_prev


def ltv(*, now: datetime) -> dict[str, int | None]:
    """ARPU (now) / the revenue churn rate of the last complete calendar month, per currency;
    None where that churn is 0."""
    segments_refresh()
    start_date, end_date = _last_complete_month(now)
    t0, t1 = period_bounds(start_date=start_date, end_date=end_date, now=now)
    totals = movement_totals(moves=_moves(t0, t1))
    start_mrr = _total_at(t0)
    result = {}
    for c, value in arpu(moment=now).items():
        row = totals.get(c, empty_totals())
        result[c] = ltv_amount(
            arpu_amount=value,
            churn_mrr=row["churn_mrr"],
            contraction_mrr=row["contraction_mrr"],
            mrr_start=start_mrr.get(c, 0),
            currency=c,
        )
    return result


# --- churn ------------------------------------------------------------------------------------


_COHORT_SQL = f"""
WITH first AS (
    SELECT DISTINCT ON (tenant_id, currency) tenant_id, currency, valid_from, mrr
      FROM {SEGMENTS}
     WHERE valid_from <= %(t1)s
     ORDER BY tenant_id, currency, valid_from, mrr DESC
), at_end AS (
    SELECT tenant_id, currency, SUM(mrr) AS mrr FROM {SEGMENTS}
     WHERE valid_from <= %(t1)s AND valid_to > %(t1)s GROUP BY tenant_id, currency
)
SELECT f.tenant_id, f.currency, f.valid_from, f.mrr, COALESCE(e.mrr, 0)
  FROM first f LEFT JOIN at_end e ON e.tenant_id = f.tenant_id AND e.currency = f.currency
"""  # noqa: S608

_REASONS_SQL = """
SELECT DISTINCT ON (s.tenant_id) s.tenant_id, c.note
  FROM subscriptions_subscriptionchange c
  JOIN subscriptions_subscription s ON s.id = c.subscription_id
 WHERE c.kind = 'cancelled' AND c.effective_at > %(t0)s AND c.effective_at <= %(t1)s
   AND s.tenant_id = ANY(%(tenants)s)
 ORDER BY s.tenant_id, c.effective_at DESC
"""


def churn_report(
    *, start_date: date, end_date: date, now: datetime, currency: str | None = None
) -> dict:
    """The body of GET analytics/churn: the guide's shape for one currency, plus
    `by_currency`."""
    segments_refresh()
    t0, t1 = period_bounds(start_date=start_date, end_date=end_date, now=now)
    moves = _moves(t0, t1)
    totals = movement_totals(moves=moves)
    start_mrr = _total_at(t0)
    start_customers = _subscribers_at(t0)
    churned = [m for m in moves if m.kind == "churn"]
    reasons = dict(
        _rows(_REASONS_SQL, {"t0": t0, "t1": t1, "tenants": [m.tenant_id for m in churned]})
    )
    members: dict[str, list[CohortMember]] = {}
    for tenant_id, code, first_at, first_mrr, end_mrr in _rows(_COHORT_SQL, {"t1": t1}):
        members.setdefault(code, []).append(
            CohortMember(tenant_id, first_at.date().replace(day=1), int(first_mrr), int(end_mrr))
        )
    currencies = sorted(set(totals) | set(start_mrr) | set(members))
    by_currency = {}
    for code in currencies:
        row = totals.get(code, empty_totals())
        lost = [m for m in churned if m.currency == code]
        by_currency[code] = {
            "churn_rate": churn_rate(churned=len(lost), at_start=start_customers.get(code, 0)),
            "revenue_churn_rate": revenue_churn_rate(
                churn_mrr=row["churn_mrr"],
                contraction_mrr=row["contraction_mrr"],
                mrr_start=start_mrr.get(code, 0),
            ),
            "cohort_analysis": cohorts(members=members.get(code, [])),
            "churn_reasons": churn_reasons(
                reasons=[reasons.get(m.tenant_id, SUSPENDED_REASON) for m in lost]
            ),
            "churned_tenants": len(lost),
            "tenants_at_start": start_customers.get(code, 0),
            "mrr_at_start": start_mrr.get(code, 0),
        }
    chosen = pick_currency(requested=currency, present=currencies)
    empty = {
        "churn_rate": 0.0,
        "revenue_churn_rate": 0.0,
        "cohort_analysis": {},
        "churn_reasons": {},
        "churned_tenants": 0,
        "tenants_at_start": 0,
        "mrr_at_start": 0,
    }
    shown = by_currency.get(chosen, empty)
    return {
        "period": {"start": iso(t0), "end": iso(t1)},
        "currency": chosen,
        **shown,
        "by_currency": by_currency,
    }
