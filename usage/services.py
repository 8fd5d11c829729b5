"""Writes: recording usage events (one, or a batch) and closing invoiced periods.

On PostgreSQL both ingestion paths bypass the ORM (not the validation): one event is one
round trip, `SELECT pg_advisory_xact_lock_shared(...); INSERT ... ON CONFLICT DO NOTHING
RETURNING` sent as one multi-statement query (one implicit transaction), whose data-modifying
CTEs also upsert the hourly and daily rollups; a batch is staged with binary COPY into a
temporary table and moved with one `INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING` plus
set-based rollup upserts (hourly, then daily from the hourly groups, each in key order). Either
way the event and its rollups commit together or not at all. Other databases (SQLite, the
embedded mode) take the ORM path of `usage.portable`, with the same contract.

Period closing and ingestion meet on a per-tenant advisory lock: ingestion holds it shared from
before it reads the tenant's lower bound until it commits; `usage_period_close` takes it
exclusively, so it waits for in-flight ingestion and later ingestion waits for it, then sees the
new bound. Invoicing calls `usage_period_close` first and reads `usage_totals` after it, in the
same transaction: every event that can still count in the period is then visible.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection, transaction

from billing_project.shared.errors import NotFound, ValidationFailed
from subscriptions.models import Subscription, Tenant
from usage import portable
from usage.models import (
    UsageDaily,
    UsageEvent,
    UsageHourly,
    UsageHourlyUnique,
    UsagePeriodClose,
)
from usage.validation import IngestContext, ParsedRecord, parse_batch

EVENTS = UsageEvent._meta.db_table
HOURLY = UsageHourly._meta.db_table
HOURLY_UNIQUE = UsageHourlyUnique._meta.db_table
DAILY = UsageDaily._meta.db_table
CLOSES = UsagePeriodClose._meta.db_table
SUBSCRIPTIONS = Subscription._meta.db_table
TENANTS = Tenant._meta.db_table

_LOCK_CLASS = 0x75736167  # "usag": the advisory-lock namespace of usage ingestion
_LOCK_SQL = "SELECT pg_advisory_xact_lock{mode}(%s, hashtext(%s::text))"

_LOWER_BOUND_SQL = f"""COALESCE(
    (SELECT max(period_end) FROM {CLOSES} WHERE tenant_id = %(tenant)s),
    (SELECT started_at FROM {SUBSCRIPTIONS}
      WHERE tenant_id = %(tenant)s AND status <> 'cancelled' LIMIT 1))"""  # noqa: S608

# latest_value: the newest event's value; equal timestamps keep the largest value.
_ROLLUP_UPSERT = """
    ON CONFLICT (tenant_id, metric_id, {bucket}) DO UPDATE SET
      sum_value = h.sum_value + EXCLUDED.sum_value,
      max_value = GREATEST(h.max_value, EXCLUDED.max_value),
      event_count = h.event_count + EXCLUDED.event_count,
      latest_value = CASE
        WHEN EXCLUDED.latest_at > h.latest_at THEN EXCLUDED.latest_value
        WHEN EXCLUDED.latest_at < h.latest_at THEN h.latest_value
        ELSE GREATEST(h.latest_value, EXCLUDED.latest_value) END,
      latest_at = GREATEST(h.latest_at, EXCLUDED.latest_at)"""
_HOURLY_UPSERT = _ROLLUP_UPSERT.format(bucket="hour")
_DAILY_UPSERT = _ROLLUP_UPSERT.format(bucket="day")

_SINGLE_SQL = f"""
WITH b AS MATERIALIZED (SELECT {_LOWER_BOUND_SQL} AS lower_bound),
ins AS (
  INSERT INTO {EVENTS}
    (id, tenant_id, metric_id, quantity, timestamp, idempotency_key, unique_key, received_at)
  SELECT %(id)s, %(tenant)s, %(metric)s, %(quantity)s, %(ts)s, %(key)s, %(ukey)s, %(now)s
    FROM b WHERE b.lower_bound IS NULL OR b.lower_bound <= %(ts)s
  ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING tenant_id, metric_id, quantity, timestamp, unique_key
),
roll AS (
  INSERT INTO {HOURLY} AS h
    (tenant_id, metric_id, hour, sum_value, max_value, event_count, latest_at, latest_value)
  SELECT tenant_id, metric_id, date_trunc('hour', timestamp, 'UTC'), quantity, quantity, 1,
         timestamp, quantity
    FROM ins
  {_HOURLY_UPSERT}
),
rollday AS (
  INSERT INTO {DAILY} AS h
    (tenant_id, metric_id, day, sum_value, max_value, event_count, latest_at, latest_value)
  SELECT tenant_id, metric_id, date_trunc('day', timestamp, 'UTC'), quantity, quantity, 1,
         timestamp, quantity
    FROM ins
  {_DAILY_UPSERT}
),
uq AS (
  INSERT INTO {HOURLY_UNIQUE} (tenant_id, metric_id, hour, unique_key)
  SELECT tenant_id, metric_id, date_trunc('hour', timestamp, 'UTC'), unique_key
    FROM ins WHERE %(is_unique)s AND unique_key IS NOT NULL
  ON CONFLICT DO NOTHING
)
SELECT (SELECT lower_bound FROM b), (SELECT count(*) FROM ins)
"""  # noqa: S608

# `POST usage` runs as one call of a PL/pgSQL function: one round trip, and its two
# statements are planned once per connection (the multi-statement text above was parsed and
# planned on every request). In READ COMMITTED each statement of a VOLATILE function takes its
# own snapshot, so the insert still sees any period close that committed while it waited for
# the shared lock. `usage_functions_install` (re)creates it after every `migrate`.
_SINGLE_ARGS = (
    ("lock_class", "integer"),
    ("id", "uuid"),
    ("tenant", "uuid"),
    ("metric", "uuid"),
    ("quantity", "numeric"),
    ("ts", "timestamptz"),
    ("key", "text"),
    ("ukey", "text"),
    ("now", "timestamptz"),
    ("is_unique", "boolean"),
)
_SINGLE_FUNCTION = "usage_record_one"
_SINGLE_FUNCTION_DDL = (
    f"CREATE OR REPLACE FUNCTION {_SINGLE_FUNCTION}("
    + ", ".join(f"p_{name} {kind}" for name, kind in _SINGLE_ARGS)
    + ") RETURNS TABLE (lower_bound timestamptz, inserted bigint) LANGUAGE plpgsql VOLATILE AS "
    "$fn$\n#variable_conflict use_column\nBEGIN\n"
    "  PERFORM pg_advisory_xact_lock_shared(p_lock_class, hashtext(p_tenant::text));\n"
    "  RETURN QUERY " + re.sub(r"%\((\w+)\)s", r"p_\1", _SINGLE_SQL) + ";\nEND\n$fn$"
)
_SINGLE_PLACEHOLDERS = ", ".join(f"%({name})s" for name, _ in _SINGLE_ARGS)
_SINGLE_CALL_SQL = f"SELECT * FROM {_SINGLE_FUNCTION}({_SINGLE_PLACEHOLDERS})"  # noqa: S608


def usage_functions_install(*, using_connection=None) -> None:
    """Create or replace the SQL functions of the PostgreSQL ingestion path (idempotent)."""
    conn = using_connection or connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute(_SINGLE_FUNCTION_DDL)


_ORIGINAL_SQL = f"""
SELECT e.id, e.tenant_id, m.metric_type, e.quantity, e.timestamp, e.idempotency_key,
       e.unique_key, e.received_at
  FROM {EVENTS} e JOIN subscriptions_metric m ON m.id = e.metric_id
 WHERE e.tenant_id = %s AND e.idempotency_key = %s
"""  # noqa: S608

_CONTEXT_SQL = f"""
SELECT {_LOWER_BOUND_SQL}, t.timezone, s.current_period_start
  FROM {TENANTS} t
  LEFT JOIN {SUBSCRIPTIONS} s ON s.tenant_id = t.id AND s.status <> 'cancelled'
 WHERE t.id = %(tenant)s
"""  # noqa: S608

_STAGING = "usage_staging"
_STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (
  metric_id uuid NOT NULL, quantity numeric NOT NULL, timestamp timestamptz NOT NULL,
  idempotency_key text, unique_key text
) ON COMMIT DELETE ROWS;
DELETE FROM usage_staging
"""  # noqa: S608
_STAGING_COPY = (
    f"COPY {_STAGING} (metric_id, quantity, timestamp, idempotency_key, unique_key) "
    "FROM STDIN (FORMAT BINARY)"
)
_STAGING_TYPES = ["uuid", "numeric", "timestamptz", "text", "text"]
_BATCH_PREPARE_SQL = (
    "SELECT pg_advisory_xact_lock_shared(%(lock_class)s, hashtext(%(tenant)s::text));"
    f"{_STAGING_DDL};{_CONTEXT_SQL}"
)
_BATCH_SQL = f"""
WITH ins AS (
  INSERT INTO {EVENTS}
    (id, tenant_id, metric_id, quantity, timestamp, idempotency_key, unique_key, received_at)
  SELECT gen_random_uuid(), %(tenant)s, metric_id, quantity, timestamp, idempotency_key,
         unique_key, %(now)s
    FROM {_STAGING}
  ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING metric_id, quantity, timestamp, unique_key
),
g AS (
  SELECT metric_id, date_trunc('hour', timestamp, 'UTC') AS hour, sum(quantity) AS s,
         max(quantity) AS mx, count(*) AS n, max(timestamp) AS la,
         (array_agg(quantity ORDER BY timestamp DESC, quantity DESC))[1] AS lv
    FROM ins GROUP BY metric_id, date_trunc('hour', timestamp, 'UTC')
),
roll AS (
  INSERT INTO {HOURLY} AS h
    (tenant_id, metric_id, hour, sum_value, max_value, event_count, latest_at, latest_value)
  SELECT %(tenant)s, metric_id, hour, s, mx, n, la, lv FROM g ORDER BY metric_id, hour
  {_HOURLY_UPSERT}
),
rollday AS (
  INSERT INTO {DAILY} AS h
    (tenant_id, metric_id, day, sum_value, max_value, event_count, latest_at, latest_value)
  SELECT %(tenant)s, metric_id, date_trunc('day', hour, 'UTC'), sum(s), max(mx), sum(n),
         max(la), (array_agg(lv ORDER BY la DESC, lv DESC))[1]
    FROM g GROUP BY metric_id, date_trunc('day', hour, 'UTC') ORDER BY 2, 3
  {_DAILY_UPSERT}
),
uq AS (
  INSERT INTO {HOURLY_UNIQUE} (tenant_id, metric_id, hour, unique_key)
  SELECT DISTINCT %(tenant)s::uuid, metric_id, date_trunc('hour', timestamp, 'UTC'), unique_key
    FROM ins WHERE unique_key IS NOT NULL AND metric_id = ANY(%(unique_metrics)s::uuid[])
  ON CONFLICT DO NOTHING
)
SELECT count(*) FROM ins
"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: UUID
    tenant_id: UUID
    metric_type: str
    quantity: Decimal
    timestamp: datetime
    idempotency_key: str | None
    unique_key: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class RecordResult:
    event: StoredEvent
    duplicate: bool


@dataclass(frozen=True, slots=True)
class BatchResult:
    received: int
    accepted: int
    duplicates: int


def _lock_tenant(cursor, tenant_id, *, exclusive: bool) -> None:
    cursor.execute(_LOCK_SQL.format(mode="" if exclusive else "_shared"), [_LOCK_CLASS, tenant_id])


def usage_lower_bound(*, tenant_id) -> datetime | None:
    """The earliest instant a new event may have: the end of the last invoiced (closed) period,
    else the start of the live subscription, else none."""
    if portable.portable_path():
        return portable.lower_bound(tenant_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_LOWER_BOUND_SQL}", {"tenant": tenant_id})
        return cursor.fetchone()[0]


def usage_ingest_context(*, tenant_id, now: datetime, cursor=None) -> IngestContext:
    """Lower bound, timezone and current period start of a tenant (404 if it does not exist)."""
    if portable.portable_path():
        return portable.ingest_context(tenant_id, now)
    if cursor is None:
        with connection.cursor() as cursor:
            return usage_ingest_context(tenant_id=tenant_id, now=now, cursor=cursor)
    cursor.execute(_CONTEXT_SQL, {"tenant": tenant_id})
    row = cursor.fetchone()
    if row is None:
        raise NotFound("Tenant not found.")
    lower_bound, tz, period_start = row
    return IngestContext(now=now, lower_bound=lower_bound, timezone=tz, period_start=period_start)


def _bound_error(lower_bound: datetime) -> ValidationFailed:
    message = (
        "timestamp falls before the tenant's oldest open period, which starts at "
        f"{lower_bound.isoformat().replace('+00:00', 'Z')}."
    )
    return ValidationFailed(f"Invalid input: {message}", errors={"timestamp": [message]})


def _stored(event_id, tenant_id, record: ParsedRecord, now: datetime) -> StoredEvent:
    return StoredEvent(
        event_id,
        tenant_id,
        record.metric.metric_type,
        record.quantity,
        record.timestamp,
        record.idempotency_key,
        record.unique_key,
        now,
    )


def usage_event_record(*, tenant_id: UUID, record: ParsedRecord, now: datetime) -> RecordResult:
    """Store one event exactly once. A known idempotency key returns the original event
    (`duplicate=True`) and changes nothing, whatever the new record says."""
    event_id = uuid.uuid4()
    if portable.portable_path():
        original, duplicate = portable.record_one(
            tenant_id=tenant_id,
            record=record,
            event_id=event_id,
            now=now,
            bound_error=_bound_error,
            stored_event=StoredEvent,
        )
        if duplicate:
            return RecordResult(original, duplicate=True)
        return RecordResult(_stored(event_id, tenant_id, record, now), duplicate=False)
    params = {
        "id": event_id,
        "tenant": tenant_id,
        "metric": record.metric.id,
        "quantity": record.quantity,
        "ts": record.timestamp,
        "key": record.idempotency_key,
        "ukey": record.unique_key,
        "now": now,
        "is_unique": record.metric.aggregation == "unique_count",
        "lock_class": _LOCK_CLASS,
    }
    # One round trip: the function takes the shared lock, then inserts with a fresh snapshot;
    # outside a transaction the call is its own transaction, so the lock lasts until commit.
    with connection.cursor() as cursor:
        cursor.execute(_SINGLE_CALL_SQL, params)
        lower_bound, inserted = cursor.fetchone()
        if inserted:
            return RecordResult(_stored(event_id, tenant_id, record, now), duplicate=False)
        if lower_bound is not None and record.timestamp < lower_bound:
            raise _bound_error(lower_bound)
        cursor.execute(_ORIGINAL_SQL, [tenant_id, record.idempotency_key])
        return RecordResult(StoredEvent(*cursor.fetchone()), duplicate=True)


def usage_batch_record(*, tenant_id: UUID, records, catalog, now: datetime) -> BatchResult:
    """Validate and store a batch of raw records, all or nothing.

    Bad records raise RecordError listing each one (nothing stored). Records whose idempotency
    key is already stored, or repeats one earlier in the batch, are duplicates: counted, not
    stored. Raises NotFound for an unknown tenant.
    """
    if portable.portable_path():
        with transaction.atomic():
            ctx = portable.ingest_context(tenant_id, now)
            parsed = parse_batch(records, catalog=catalog, ctx=ctx)
            accepted = portable.record_batch(tenant_id=tenant_id, parsed=parsed, now=now)
        return BatchResult(
            received=len(parsed), accepted=accepted, duplicates=len(parsed) - accepted
        )
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip: shared lock, staging table, tenant context.
        cursor.execute(_BATCH_PREPARE_SQL, {"tenant": tenant_id, "lock_class": _LOCK_CLASS})
        while cursor.nextset():
            pass  # the last result is the context's
        row = cursor.fetchone()
        if row is None:
            raise NotFound("Tenant not found.")
        lower_bound, tz, period_start = row
        ctx = IngestContext(
            now=now, lower_bound=lower_bound, timezone=tz, period_start=period_start
        )
        parsed = parse_batch(records, catalog=catalog, ctx=ctx)
        seen: set[str] = set()
        unique_metrics = set()
        raw = cursor.cursor  # the psycopg cursor: COPY is not part of the DB-API
        with raw.copy(_STAGING_COPY) as copy:
            copy.set_types(_STAGING_TYPES)
            write = copy.write_row
            for record in parsed:
                key = record.idempotency_key
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                metric = record.metric
                if metric.aggregation == "unique_count":
                    unique_metrics.add(metric.id)
                write((metric.id, record.quantity, record.timestamp, key, record.unique_key))
        raw.execute(
            _BATCH_SQL, {"tenant": tenant_id, "now": now, "unique_metrics": list(unique_metrics)}
        )
        accepted = raw.fetchone()[0]
    received = len(parsed)
    return BatchResult(received=received, accepted=accepted, duplicates=received - accepted)


def usage_period_close(
    *, tenant_id, period_start: datetime, period_end: datetime, now: datetime
) -> UsagePeriodClose:
    """Record that a period's usage was invoiced: from now on no event may be recorded before
    `period_end`. Idempotent per (tenant, period_start). Call it inside the invoicing
    transaction, before reading `usage_totals` for the period."""
    if portable.portable_path():
        return portable.period_close(
            tenant_id=tenant_id, period_start=period_start, period_end=period_end, now=now
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            _lock_tenant(cursor, tenant_id, exclusive=True)
        closed, _ = UsagePeriodClose.objects.get_or_create(
            tenant_id=tenant_id,
            period_start=period_start,
            defaults={"period_end": period_end, "closed_at": now},
        )
    return closed


_LOCK_MANY_SQL = (
    "SELECT count(pg_advisory_xact_lock(%s, hashtext(t::text))) "
    "FROM (SELECT DISTINCT t FROM unnest(%s::uuid[]) AS u(t) ORDER BY t) AS s"
)
_CLOSE_MANY_SQL = f"""
INSERT INTO {CLOSES} (tenant_id, period_start, period_end, closed_at)
SELECT tenant_id, period_start, period_end, %(now)s
  FROM unnest(%(tenant)s::uuid[], %(start)s::timestamptz[], %(end)s::timestamptz[])
       AS p(tenant_id, period_start, period_end)
ON CONFLICT (tenant_id, period_start) DO NOTHING
"""  # noqa: S608


def usage_periods_close(*, periods: list[tuple], now: datetime) -> None:
    """`usage_period_close` for many `(tenant_id, period_start, period_end)` at once: the
    tenants' usage locks (exclusive, in tenant order), then one insert. Call it inside the
    invoicing transaction, before reading `usage_totals_many` for the periods."""
    if not periods:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("usage_periods_close must run inside the invoicing transaction")
    tenants = [tenant_id for tenant_id, _, _ in periods]
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_MANY_SQL, [_LOCK_CLASS, tenants])
        cursor.execute(
            _CLOSE_MANY_SQL,
            {
                "now": now,
                "tenant": tenants,
                "start": [start for _, start, _ in periods],
                "end": [end for _, _, end in periods],
            },
        )
