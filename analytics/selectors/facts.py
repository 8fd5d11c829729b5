"""The MRR facts: the subscription change history read as frozen facts, and the stored segments
computed from it (rebuilt in bulk, or incrementally for what changed since the last read).

Every read of analytics first calls `segments_refresh()`: triggers on the history tables (see
migration 0002) name each subscription whose facts changed in `analytics_mrrdirty`; their
segments are recomputed before the read, so a figure always reflects the facts as of the read.
"""

import io
import json
import time
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction

from analytics.calculations.mrr import (
    ChangeFact,
    ContractFact,
    CouponFact,
    PlanFact,
    SubscriptionFacts,
    mrr_segments,
)
from analytics.models import MrrSegment
from subscriptions.pricing.coupons import CouponTerms

SEGMENTS = MrrSegment._meta.db_table
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
            f"""SELECT s.id, s.tenant_id, s.started_at, t.timezone, s.trial_end IS NOT NULL
                  FROM subscriptions_subscription s
                  JOIN subscriptions_tenant t ON t.id = s.tenant_id {clause}""",  # noqa: S608
            params,
        )
        subs = cursor.fetchall()
        if not subs:
            return []
        sub_filter = "" if not where else "WHERE subscription_id = ANY(%(ids)s)"
        sub_params = {} if not where else {"ids": [row[0] for row in subs]}
        cursor.execute(
            f"""SELECT subscription_id, kind, effective_at, to_plan_id, note
                  FROM subscriptions_subscriptionchange
                  {sub_filter}{" AND" if where else "WHERE"} kind = ANY(%(kinds)s)
                 ORDER BY subscription_id, created_at, id""",  # noqa: S608
            {**sub_params, "kinds": list(MRR_KINDS)},
        )
        changes: dict = {}
        for sub_id, kind, effective_at, to_plan_id, note in cursor.fetchall():
            changes.setdefault(sub_id, []).append(
                ChangeFact(
                    kind,
                    effective_at,
                    to_plan_id,
                    _to_status(note) if kind == "status_changed" else "",
                )
            )
        cursor.execute(
            f"""SELECT r.subscription_id, c.percent_off, c.amount_off, c.currency, c.duration,
                       c.duration_in_months, r.first_period_index
                  FROM subscriptions_couponredemption r
                  JOIN subscriptions_coupon c ON c.id = r.coupon_id
                  {sub_filter.replace("subscription_id", "r.subscription_id")}""",  # noqa: S608
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


def _copy_segments(cursor, segments) -> None:
    buffer = io.StringIO()
    for s in segments:
        buffer.write(
            f"{s.subscription_id}\t{s.tenant_id}\t{s.plan_id}\t{s.currency}\t{s.mrr}\t"
            f"{s.valid_from.isoformat()}\t{s.valid_to.isoformat()}\n"
        )
    columns = "subscription_id, tenant_id, plan_id, currency, mrr, valid_from, valid_to"
    with cursor.copy(f"COPY {SEGMENTS} ({columns}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def segments_rebuild(
    *,
    subscription_ids=None,
    live_since: datetime | None = None,
    started_before: datetime | None = None,
) -> tuple:
    """Recompute and replace the segments of these subscriptions (all when None; with
    `live_since`/`started_before`, those live in that range). The dirty marks they had before
    the facts were read are consumed. Returns (subscriptions, segments, seconds)."""
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {DIRTY}")  # noqa: S608
        dirty_seen = cursor.fetchone()[0]
    plans = plans_load()
    everything = subscription_ids is None and live_since is None and started_before is None
    all_facts = facts_load(
        subscription_ids=subscription_ids, live_since=live_since, started_before=started_before
    )
    segments = []
    for facts in all_facts:
        segments.extend(mrr_segments(facts=facts, plans=plans))
    with transaction.atomic(), connection.cursor() as cursor:
        if everything:
            cursor.execute(f"TRUNCATE {SEGMENTS}")
            cursor.execute(f"DELETE FROM {DIRTY} WHERE id <= %s", [dirty_seen])  # noqa: S608
        else:
            ids = [f.subscription_id for f in all_facts]
            if subscription_ids is not None:
                ids = list(set(ids) | set(subscription_ids))
            cursor.execute(
                f"DELETE FROM {SEGMENTS} WHERE subscription_id = ANY(%s)",  # noqa: S608
                [ids],
            )
            cursor.execute(
                f"DELETE FROM {DIRTY} WHERE id <= %s AND subscription_id = ANY(%s)",  # noqa: S608
                [dirty_seen, ids],
            )
        if segments:
            _copy_segments(cursor.cursor if hasattr(cursor, "cursor") else cursor, segments)
    return len(all_facts), len(segments), time.monotonic() - began


def segments_refresh() -> int:
    """Recompute the segments of the subscriptions whose history changed since the last read
    (named by the triggers in `analytics_mrrdirty`). Returns how many were recomputed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DIRTY})")  # noqa: S608
        if not cursor.fetchone()[0]:
            return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        cursor.execute(f"DELETE FROM {DIRTY} RETURNING subscription_id, tenant_id")  # noqa: S608
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
