# ruff: noqa: S608 (table names are constants)
"""The MRR facts: the subscription change history read as frozen facts, and the stored segments
computed from it (rebuilt in bulk, or incrementally for what changed since the last read).

Every read of analytics first calls `segments_refresh()`: triggers on the history tables (see
migration 0002) name each subscription whose facts changed in `analytics_mrrdirty`; their
segments are recomputed before the read, so a figure always reflects the facts as of the read.
"""

import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction

from analytics.calculations.mrr import (
    OPEN_END,
    ChangeFact,
    ContractFact,
    CouponFact,
    PlanFact,
    Segment,
    SubscriptionFacts,
    mrr_segments,
    timelines,
)
from analytics.models import MrrDaily, MrrDailyRange, MrrSegment, MrrTimeline
from billing_project.shared.clock import utcnow
from subscriptions.pricing.coupons import CouponTerms

SEGMENTS = MrrSegment._meta.db_table
TIMELINES = MrrTimeline._meta.db_table
DAILY = MrrDaily._meta.db_table
RANGE = MrrDailyRange._meta.db_table
DIRTY = "analytics_mrrdirty"
REFRESH_LOCK = 715_015  # pg advisory lock: one refresh at a time
MRR_KINDS = (
    "created",
    "upgraded",
    "downgrade_applied",
    "trial_ended",
    "cancelled",
    "status_changed",
)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bulk reads fetch instants as integer microseconds since the epoch: exact, and parsing an int
# is a fraction of the cost of parsing a timestamp text (a full rebuild reads ~300,000).
MICROS = "(EXTRACT(EPOCH FROM {col}) * 1000000)::bigint"


def _instant(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def clock_today() -> date:
    return utcnow().date()


def plans_load() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, slug, amount, currency, interval FROM subscriptions_plan")
        return {row[0]: PlanFact(*row) for row in cursor.fetchall()}


def _to_status(note: str) -> str:
    """`status_changed` notes read `active -> past_due`."""
    return note.rsplit("->", 1)[-1].strip() if note else ""


def facts_load(
    *,
    subscription_ids=None,
    live_since: datetime | None = None,
    started_before: datetime | None = None,
) -> list:
    """The facts of the given subscriptions (all when None; with `live_since`, only those not
    cancelled before it; with `started_before`, only those started before it), in a constant
    number of queries."""
    where, params = [], {}
    if started_before is not None:
        where.append("s.started_at < %(before)s")
        params["before"] = started_before
    if subscription_ids is not None:
        where.append("s.id = ANY(%(ids)s)")
        params["ids"] = list(subscription_ids)
    if live_since is not None:
        where.append("(s.cancelled_at IS NULL OR s.cancelled_at >= %(since)s)")
        params["since"] = live_since
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.id, s.tenant_id, {MICROS.format(col="s.started_at")}, t.timezone,
                       s.trial_end IS NOT NULL
                  FROM subscriptions_subscription s
                  JOIN subscriptions_tenant t ON t.id = s.tenant_id {clause}""",
            params,
        )
        subs = [(sub, tenant, _instant(at), tz, trial) for sub, tenant, at, tz, trial in cursor]
        if not subs:
            return []
        sub_filter = "" if not where else "WHERE subscription_id = ANY(%(ids)s)"
        sub_params = {} if not where else {"ids": [row[0] for row in subs]}
        cursor.execute(
            f"""SELECT subscription_id, kind, {MICROS.format(col="effective_at")}, to_plan_id, note
                  FROM subscriptions_subscriptionchange
                  {sub_filter}{" AND" if where else "WHERE"} kind = ANY(%(kinds)s)
                 ORDER BY subscription_id, created_at, id""",
            {**sub_params, "kinds": list(MRR_KINDS)},
        )
        changes: dict = {}
        for sub_id, kind, effective_at, to_plan_id, note in cursor.fetchall():
            changes.setdefault(sub_id, []).append(
                ChangeFact(
                    kind,
                    _instant(effective_at),
                    to_plan_id,
                    _to_status(note) if kind == "status_changed" else "",
                )
            )
        cursor.execute(
            f"""SELECT r.subscription_id, c.percent_off, c.amount_off, c.currency, c.duration,
                       c.duration_in_months, r.first_period_index
                  FROM subscriptions_couponredemption r
                  JOIN subscriptions_coupon c ON c.id = r.coupon_id
                  {sub_filter.replace("subscription_id", "r.subscription_id")}""",
            sub_params,
        )
        coupons = {}
        for sub_id, percent, amount, currency, duration, months, first in cursor.fetchall():
            if duration == "once":
                continue
            terms = CouponTerms(
                percent_off=Decimal(percent) if percent is not None else None,
                amount_off=amount,
                currency=currency or None,
                duration=duration,
                duration_in_months=months,
            )
            coupons[sub_id] = CouponFact(terms, first)
        tenant_ids = list({row[1] for row in subs})
        cursor.execute(
            """SELECT c.id, c.tenant_id, c.starts_at, c.ends_at, c.version, v.version,
                      v.created_at, v.terms
                 FROM subscriptions_contract c
                 JOIN subscriptions_contractversion v ON v.contract_id = c.id
                WHERE c.tenant_id = ANY(%(tenants)s)
                ORDER BY c.starts_at, c.id, v.version""",
            {"tenants": tenant_ids},
        )
        contract_rows: dict = {}
        for (
            cid,
            tenant_id,
            starts_at,
            ends_at,
            current,
            version,
            created_at,
            terms,
        ) in cursor.fetchall():
            if isinstance(terms, str):
                terms = json.loads(terms)
            row = contract_rows.setdefault(
                cid, {"tenant": tenant_id, "starts_at": starts_at, "ends_at": ends_at,
                      "auto_renewal": False, "versions": []}
            )  # fmt: skip
            base = int((terms.get("custom_pricing") or {}).get("base_price") or 0)
            row["versions"].append((created_at, base))
            if version == current:
                row["auto_renewal"] = bool(terms.get("auto_renewal"))
        contracts: dict = {}
        for row in contract_rows.values():
            contracts.setdefault(row["tenant"], []).append(
                ContractFact(
                    row["starts_at"], row["ends_at"], row["auto_renewal"], tuple(row["versions"])
                )
            )
    return [
        SubscriptionFacts(
            subscription_id=sub_id,
            tenant_id=tenant_id,
            started_at=started_at,
            tz=tz,
            trialing_at_start=trialing,
            changes=tuple(changes.get(sub_id, ())),
            coupon=coupons.get(sub_id),
            contracts=tuple(contracts.get(tenant_id, ())),
        )
        for sub_id, tenant_id, started_at, tz, trialing in subs
    ]


def _copy(cursor, table: str, columns: str, lines) -> None:
    data = "".join(lines)
    if not data:
        return
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(data)


def _copy_segments(cursor, segments) -> None:
    _copy(
        cursor,
        SEGMENTS,
        "subscription_id, tenant_id, plan_id, currency, mrr, valid_from, valid_to",
        (
            f"{s.subscription_id}\t{s.tenant_id}\t{s.plan_id}\t{s.currency}\t{s.mrr}\t"
            f"{s.valid_from.isoformat()}\t{s.valid_to.isoformat()}\n"
            for s in segments
        ),
    )


def _array(values) -> str:
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _timelines_write(cursor, *, tenant_ids=None, segments=None) -> None:
    """Recompute the timelines of these tenants from their stored segments, or all of them from
    `segments` (every segment there is, just written)."""
    if tenant_ids is None:
        cursor.execute(f"TRUNCATE {TIMELINES}")
    else:
        tenant_ids = list(tenant_ids)
        cursor.execute(f"DELETE FROM {TIMELINES} WHERE tenant_id = ANY(%s)", [tenant_ids])
        cursor.execute(
            f"SELECT subscription_id, tenant_id, plan_id, currency, mrr, valid_from, valid_to "
            f"FROM {SEGMENTS} WHERE tenant_id = ANY(%s)",
            [tenant_ids],
        )
        segments = [Segment(*row) for row in cursor.fetchall()]
    _copy(
        cursor,
        TIMELINES,
        "tenant_id, currency, ats, mrrs, plans, first_at, first_mrr, last_at",
        (
            f"{t.tenant_id}\t{t.currency}\t{_array(a.isoformat() for a in t.ats)}\t"
            f"{_array(t.mrrs)}\t{_array(t.plans)}\t{t.ats[0].isoformat()}\t{t.mrrs[0]}\t"
            f"{t.ats[-1].isoformat()}\n"
            # written in order of their last step: a range's moved tenants (a step after its
            # start) then sit in the table's last pages, and the newest are where updates append
            for t in sorted(timelines(segments=segments), key=lambda t: t.ats[-1])
        ),
    )


CEIL_DAY = "((({col}) AT TIME ZONE 'UTC') - INTERVAL '1 microsecond')::date + 1"


def _daily_rebuild(cursor, *, through: date) -> None:
    """Every day's checkpoint from the segments: each segment counts from the first midnight at
    or after its start to the last one before its end (a running sum of per-day changes)."""
    cursor.execute(f"DELETE FROM {DAILY}")
    cursor.execute(f"SELECT MIN(valid_from) FROM {SEGMENTS}")
    first = cursor.fetchone()[0]
    first_day = first.astimezone(UTC).date() if first else through
    through = max(through, first_day)
    start_col = CEIL_DAY.format(col="valid_from")
    end_col = CEIL_DAY.format(col="valid_to")
    cursor.execute(
        f"""
        WITH ev AS (
            SELECT {start_col} AS day, currency, plan_id, mrr AS dm, 1 AS ds FROM {SEGMENTS}
            UNION ALL
            SELECT {end_col}, currency, plan_id, -mrr, -1 FROM {SEGMENTS}
             WHERE valid_to < %(open)s
        ), agg AS (
            SELECT day, currency, plan_id, SUM(dm) AS dm, SUM(ds) AS ds FROM ev
             WHERE day <= %(through)s GROUP BY 1, 2, 3
        ), keys AS (SELECT DISTINCT currency, plan_id FROM agg),
        grid AS (
            SELECT g::date AS day, k.currency, k.plan_id
              FROM keys k, generate_series(%(first)s::date, %(through)s::date, INTERVAL '1 day') g
        ), running AS (
            SELECT grid.day, grid.currency, grid.plan_id,
                   SUM(COALESCE(agg.dm, 0)) OVER w AS mrr,
                   SUM(COALESCE(agg.ds, 0)) OVER w AS subscribers
              FROM grid LEFT JOIN agg ON agg.day = grid.day AND agg.currency = grid.currency
                                     AND agg.plan_id = grid.plan_id
            WINDOW w AS (PARTITION BY grid.currency, grid.plan_id ORDER BY grid.day)
        )
        INSERT INTO {DAILY} (day, currency, plan_id, mrr, subscribers)
        SELECT day, currency, plan_id, mrr, subscribers FROM running
         WHERE mrr <> 0 OR subscribers <> 0""",
        {"open": OPEN_END, "through": through, "first": first_day},
    )
    cursor.execute(
        f"""INSERT INTO {RANGE} (id, first_day, last_day) VALUES (1, %(first)s, %(through)s)
            ON CONFLICT (id) DO UPDATE SET first_day = EXCLUDED.first_day,
                                           last_day = EXCLUDED.last_day""",
        {"first": first_day, "through": through},
    )


def _daily_range(cursor):
    cursor.execute(f"SELECT first_day, last_day FROM {RANGE} WHERE id = 1")
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _daily_apply(cursor, *, ids, sign: int, days: tuple) -> None:
    """Add (sign 1) or take away (-1) the stored segments of these subscriptions from the
    built days' checkpoints."""
    first_day, last_day = days
    cursor.execute(
        f"""
        INSERT INTO {DAILY} (day, currency, plan_id, mrr, subscribers)
        SELECT g::date, currency, plan_id, %(sign)s * SUM(mrr), %(sign)s * COUNT(*)
          FROM {SEGMENTS},
               generate_series(GREATEST({CEIL_DAY.format(col="valid_from")}, %(first)s::date),
                               LEAST({CEIL_DAY.format(col="valid_to")} - 1, %(last)s::date),
                               INTERVAL '1 day') g
         WHERE subscription_id = ANY(%(ids)s)
         GROUP BY 1, 2, 3
        ON CONFLICT (day, currency, plan_id) DO UPDATE
           SET mrr = {DAILY}.mrr + EXCLUDED.mrr,
               subscribers = {DAILY}.subscribers + EXCLUDED.subscribers""",
        {"sign": sign, "ids": ids, "first": first_day, "last": last_day},
    )


def daily_ensure(*, through: date) -> None:
    """Build the daily checkpoints when they are missing or end before `through`."""
    with connection.cursor() as cursor:
        days = _daily_range(cursor)
    if days is not None and days[1] >= through:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        days = _daily_range(cursor)
        if days is None or days[1] < through:
            _daily_rebuild(cursor, through=through)


BULK = 5000  # above this many subscriptions, rebuild the daily checkpoints whole


def segments_rebuild(
    *,
    subscription_ids=None,
    live_since: datetime | None = None,
    started_before: datetime | None = None,
) -> tuple:
    """Recompute and replace the segments of these subscriptions (all when None; with
    `live_since`/`started_before`, those live in that range), then their tenants' timelines and
    the daily checkpoints. The dirty marks they had before the facts were read are consumed.
    Returns (subscriptions, segments, seconds)."""
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {DIRTY}")
        dirty_seen = cursor.fetchone()[0]
    plans = plans_load()
    everything = subscription_ids is None and live_since is None and started_before is None
    all_facts = facts_load(
        subscription_ids=subscription_ids, live_since=live_since, started_before=started_before
    )
    segments = []
    for facts in all_facts:
        segments.extend(mrr_segments(facts=facts, plans=plans))
    through = clock_today() + timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK + 1])
        if everything:
            cursor.execute(f"TRUNCATE {SEGMENTS}")
            cursor.execute(f"DELETE FROM {DIRTY} WHERE id <= %s", [dirty_seen])
            _copy_segments(cursor, segments)
            _timelines_write(cursor, segments=segments)
            _daily_rebuild(cursor, through=through)
        else:
            ids = [f.subscription_id for f in all_facts]
            if subscription_ids is not None:
                ids = list(set(ids) | set(subscription_ids))
            cursor.execute(
                f"SELECT DISTINCT tenant_id FROM {SEGMENTS} WHERE subscription_id = ANY(%s)",
                [ids],
            )
            tenants = {row[0] for row in cursor.fetchall()} | {f.tenant_id for f in all_facts}
            days = _daily_range(cursor)
            incremental = days is not None and len(ids) <= BULK
            if incremental:
                _daily_apply(cursor, ids=ids, sign=-1, days=days)
            cursor.execute(f"DELETE FROM {SEGMENTS} WHERE subscription_id = ANY(%s)", [ids])
            cursor.execute(
                f"DELETE FROM {DIRTY} WHERE id <= %s AND subscription_id = ANY(%s)",
                [dirty_seen, ids],
            )
            _copy_segments(cursor, segments)
            _timelines_write(cursor, tenant_ids=tenants)
            earliest = min((s.valid_from for s in segments), default=None)
            if incremental and (earliest is None or earliest.date() >= days[0]):
                _daily_apply(cursor, ids=ids, sign=1, days=days)
            else:
                _daily_rebuild(cursor, through=max(through, days[1]) if days else through)
    return len(all_facts), len(segments), time.monotonic() - began


def segments_refresh() -> int:
    """Recompute the segments of the subscriptions whose history changed since the last read
    (named by the triggers in `analytics_mrrdirty`). Returns how many were recomputed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DIRTY})")
        if not cursor.fetchone()[0]:
            return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        cursor.execute(f"DELETE FROM {DIRTY} RETURNING subscription_id, tenant_id")
        rows = cursor.fetchall()
        if not rows:
            return 0
        ids = {sub_id for sub_id, _ in rows if sub_id is not None}
        tenants = [tenant_id for _, tenant_id in rows if tenant_id is not None]
        if tenants:
            cursor.execute(
                "SELECT id FROM subscriptions_subscription WHERE tenant_id = ANY(%s)", [tenants]
            )
            ids.update(row[0] for row in cursor.fetchall())
        if not ids:
            return 0
        count, _, _ = segments_rebuild(subscription_ids=ids)
        return count
