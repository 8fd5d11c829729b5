# ruff: noqa: S608 (table names are constants)
"""MRR reads: totals at an instant, movements between two instants, the trend, churn, ARPU and
LTV. Every figure is in minor units and per currency (never summed across currencies).

Each function first brings the segments up to date with the history (`segments_refresh`), then
reads them with SQL; the pure `analytics.calculations` classify and compute the rates.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import connection

from analytics.calculations.churn import (
    CohortGroup,
    churn_rate,
    churn_reasons_counted,
    cohort_rates,
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
    movements,
)
from analytics.selectors.facts import (
    DAILY,
    SEGMENTS,
    TIMELINES,
    daily_ensure,
    segments_refresh,
)

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

_AT_SQL = f"""
SELECT currency, plan_id, SUM(mrr), SUM(subscribers) FROM (
    SELECT currency, plan_id, mrr, subscribers FROM {DAILY} WHERE day = %(day)s
    UNION ALL
    SELECT currency, plan_id, mrr, 1 FROM {SEGMENTS}
     WHERE valid_from > %(midnight)s AND valid_from <= %(at)s
    UNION ALL
    SELECT currency, plan_id, -mrr, -1 FROM {SEGMENTS}
     WHERE valid_to > %(midnight)s AND valid_to <= %(at)s
) x GROUP BY currency, plan_id
"""


def _plans_at(moment: datetime) -> dict[tuple, tuple[int, int]]:
    """(currency, plan id) -> (MRR, paying subscriptions) at `moment`: the checkpoint of its day
    plus the segments that started or ended since that midnight."""
    day = moment.astimezone(UTC).date()
    daily_ensure(through=day)
    midnight = datetime.combine(day, time.min, tzinfo=UTC)
    rows = _rows(_AT_SQL, {"day": day, "midnight": midnight, "at": moment})
    return {
        (currency, plan_id): (int(total), int(subscribers))
        for currency, plan_id, total, subscribers in rows
        if total or subscribers
    }


def _total_at(moment: datetime) -> dict[str, int]:
    totals: dict[str, int] = {}
    for (currency, _), (total, _) in _plans_at(moment).items():
        totals[currency] = totals.get(currency, 0) + total
    return {c: v for c, v in sorted(totals.items()) if v}


def _subscribers_at(moment: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for (currency, _), (_, subscribers) in _plans_at(moment).items():
        counts[currency] = counts.get(currency, 0) + subscribers
    return {c: v for c, v in counts.items() if v}


def mrr_at(*, moment: datetime) -> dict[str, int]:
    """Total MRR per currency at `moment`."""
    segments_refresh()
    return _total_at(moment)


def mrr_by_tenant_at(*, moment: datetime) -> dict[tuple, int]:
    """MRR per (tenant id, currency) at `moment` (tenants with MRR only)."""
    segments_refresh()
    rows = _rows(
        f"""SELECT tenant_id, currency, mrrs[width_bucket(%(at)s::timestamptz, ats)]
              FROM {TIMELINES} WHERE first_at <= %(at)s""",
        {"at": moment},
    )
    return {(t, c): int(v) for t, c, v in rows if v}


def _by_plan(moment: datetime) -> dict[str, dict[str, dict]]:
    """Per currency: {plan slug: {mrr, subscribers}} at `moment`; every active plan of the
    currency is listed (zeros when it has no subscriber)."""
    figures = _plans_at(moment)
    plans = _rows(
        "SELECT id, slug, currency, active FROM subscriptions_plan ORDER BY currency, amount, slug",
        [],
    )
    result: dict[str, dict[str, dict]] = {}
    for plan_id, slug, currency, active in plans:
        total, subscribers = figures.get((currency, plan_id), (0, 0))
        if active or total or subscribers:
            result.setdefault(currency, {})[slug] = {"mrr": total, "subscribers": subscribers}
    return result


# --- movements --------------------------------------------------------------------------------

# Each tenant whose MRR moved between t0 and t1: its MRR at both, and when it first had MRR.
_PAIRS = f"""
SELECT tenant_id, currency, first_at,
       COALESCE(mrrs[width_bucket(%(t0)s::timestamptz, ats)], 0) AS m0,
       COALESCE(mrrs[width_bucket(%(t1)s::timestamptz, ats)], 0) AS m1
  FROM {TIMELINES}
 WHERE last_at > %(t0)s AND first_at <= %(t1)s
"""

# The tenants that had MRR (or had had it) at t0 and took a step after it: only they can expand,
# contract, churn or reactivate (`tstzrange(first_at, last_at) @> t0`, GiST-indexed). Everyone
# else either never moved since t0 (MRR at t1 = MRR at t0) or first had MRR after t0 (new).
# OFFSET 0 keeps the subquery whole: inlined, each FILTER below would repeat the lookups.
_MOVED = f"""
SELECT tenant_id, currency, first_at,
       COALESCE(mrrs[width_bucket(%(t0)s::timestamptz, ats)], 0) AS m0,
       COALESCE(mrrs[width_bucket(%(t1)s::timestamptz, ats)], 0) AS m1
  FROM {TIMELINES}
 WHERE tstzrange(first_at, last_at, '[)') @> %(t0)s::timestamptz
OFFSET 0
"""

# The classification of analytics.calculations.movements.movement_kind, summed in SQL over
# those tenants (none of them is new: each had MRR at or before t0).
_MOVED_TOTALS_SQL = f"""
SELECT currency,
       COALESCE(SUM(m1 - m0) FILTER (WHERE m0 > 0 AND m1 > m0), 0),
       COALESCE(SUM(m1 - m0) FILTER (WHERE m1 > 0 AND m1 < m0), 0),
       COALESCE(SUM(-m0) FILTER (WHERE m0 > 0 AND m1 = 0), 0),
       COALESCE(SUM(m1) FILTER (WHERE m0 = 0 AND m1 > 0), 0),
       COUNT(*) FILTER (WHERE m0 > 0 AND m1 = 0)
  FROM ({_MOVED}) p
 WHERE m0 <> m1
 GROUP BY currency
"""


def _totals(t0: datetime, t1: datetime) -> tuple[dict, dict]:
    """Per currency: the movement totals, and how many tenants churned.

    Expansion, contraction, churn and reactivation come from the tenants that had MRR by t0 and
    moved since; `new` is the rest of the difference: MRR(t1) - MRR(t0) (from the daily
    checkpoints) minus their net movement, every other tenant being either unmoved or new (MRR
    0 at t0, never before). So a range reads the checkpoints plus the moved older tenants, not
    every tenant that started in it."""
    start, end = _total_at(t0), _total_at(t1)
    totals, churned = {}, {}
    moved = {
        currency: (int(expansion), int(contraction), int(churn), int(reactivation), int(lost))
        for currency, expansion, contraction, churn, reactivation, lost in _rows(
            _MOVED_TOTALS_SQL, {"t0": t0, "t1": t1}
        )
    }
    for currency in sorted(set(start) | set(end) | set(moved)):
        expansion, contraction, churn, reactivation, lost = moved.get(currency, (0, 0, 0, 0, 0))
        net = end.get(currency, 0) - start.get(currency, 0)
        row = {
            "new_mrr": net - expansion - contraction - churn - reactivation,
            "expansion_mrr": expansion,
            "contraction_mrr": contraction,
            "churn_mrr": churn,
            "reactivation_mrr": reactivation,
            "net_new_mrr": net,
        }
        if any(row.values()):
            totals[currency], churned[currency] = row, lost
    return totals, churned


def _tenant_pairs(t0: datetime, t1: datetime, currency: str | None = None) -> list[TenantMrr]:
    """Each tenant whose MRR changed between t0 and t1 (per currency): MRR at both ends and
    whether it had MRR at any instant before t0."""
    sql = f"SELECT * FROM ({_PAIRS}) p WHERE m0 <> m1"
    params = {"t0": t0, "t1": t1}
    if currency:
        sql += " AND currency = %(currency)s"
        params["currency"] = currency
    return [
        TenantMrr(tenant_id, code, int(start), int(end), first_at < t0)
        for tenant_id, code, first_at, start, end in _rows(sql, params)
    ]


def _moves(t0: datetime, t1: datetime, currency: str | None = None):
    return movements(tenants=_tenant_pairs(t0, t1, currency))


def mrr_movements(
    *, start_date: date, end_date: date, now: datetime, currency: str | None = None
) -> list[dict]:
    """The tenant-level movements behind the totals of `mrr_report` (largest first)."""
    segments_refresh()
    t0, t1 = period_bounds(start_date=start_date, end_date=end_date, now=now)
    moves = _moves(t0, t1, currency)
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
    totals, _ = _totals(t0, t1)
    plans = _by_plan(t1)
    end_mrr = {
        c: sum(v["mrr"] for v in rows.values())
        for c, rows in plans.items()
        if any(v["mrr"] for v in rows.values())
    }
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
    totals, _ = _totals(t0, t1)
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
SELECT currency, date_trunc('month', first_at AT TIME ZONE 'UTC')::date, COUNT(*),
       COUNT(*) FILTER (WHERE m1 > 0), SUM(first_mrr), SUM(m1)
  FROM (SELECT currency, first_at, first_mrr,
               COALESCE(mrrs[width_bucket(%(t1)s::timestamptz, ats)], 0) AS m1
          FROM {TIMELINES} WHERE first_at <= %(t1)s) x
 GROUP BY 1, 2
"""

# The churned tenants (MRR at the start, none at the end) with the reason of the last
# cancellation of theirs in the range (none: suspended by dunning).
_REASONS_SQL = f"""
WITH lost AS (SELECT tenant_id, currency FROM ({_MOVED}) p WHERE m0 > 0 AND m1 = 0),
reason AS (
    SELECT DISTINCT ON (s.tenant_id) s.tenant_id, c.note
      FROM subscriptions_subscriptionchange c
      JOIN subscriptions_subscription s ON s.id = c.subscription_id
     WHERE c.kind = 'cancelled' AND c.effective_at > %(t0)s AND c.effective_at <= %(t1)s
       AND s.tenant_id IN (SELECT tenant_id FROM lost)
     ORDER BY s.tenant_id, c.effective_at DESC
)
SELECT l.currency, r.note, COUNT(*) FROM lost l LEFT JOIN reason r ON r.tenant_id = l.tenant_id
 GROUP BY 1, 2
"""

EMPTY_CHURN = {
    "churn_rate": 0.0,
    "revenue_churn_rate": 0.0,
    "cohort_analysis": {},
    "churn_reasons": {},
    "churned_tenants": 0,
    "tenants_at_start": 0,
    "mrr_at_start": 0,
}


def churn_report(
    *, start_date: date, end_date: date, now: datetime, currency: str | None = None
) -> dict:
    """The body of GET analytics/churn: the guide's shape for one currency, plus
    `by_currency`."""
    segments_refresh()
    t0, t1 = period_bounds(start_date=start_date, end_date=end_date, now=now)
    totals, churned = _totals(t0, t1)
    start_mrr = _total_at(t0)
    start_customers = _subscribers_at(t0)
    reasons: dict[str, list] = {}
    for code, note, n in _rows(_REASONS_SQL, {"t0": t0, "t1": t1}):
        reasons.setdefault(code, []).append((SUSPENDED_REASON if note is None else note, n))
    groups: dict[str, list[CohortGroup]] = {}
    for code, month, size, kept, first_mrr, end_mrr in _rows(_COHORT_SQL, {"t1": t1}):
        groups.setdefault(code, []).append(
            CohortGroup(month, int(size), int(kept), int(first_mrr), int(end_mrr))
        )
    currencies = sorted(set(totals) | set(start_mrr) | set(groups))
    by_currency = {}
    for code in currencies:
        row = totals.get(code, empty_totals())
        by_currency[code] = {
            "churn_rate": churn_rate(
                churned=churned.get(code, 0), at_start=start_customers.get(code, 0)
            ),
            "revenue_churn_rate": revenue_churn_rate(
                churn_mrr=row["churn_mrr"],
                contraction_mrr=row["contraction_mrr"],
                mrr_start=start_mrr.get(code, 0),
            ),
            "cohort_analysis": cohort_rates(groups=groups.get(code, [])),
            "churn_reasons": churn_reasons_counted(counts=reasons.get(code, [])),
            "churned_tenants": churned.get(code, 0),
            "tenants_at_start": start_customers.get(code, 0),
            "mrr_at_start": start_mrr.get(code, 0),
        }
    chosen = pick_currency(requested=currency, present=currencies)
    return {
        "period": {"start": iso(t0), "end": iso(t1)},
        "currency": chosen,
        **by_currency.get(chosen, EMPTY_CHURN),
        "by_currency": by_currency,
    }
