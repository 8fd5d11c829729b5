"""Writes: recording usage events (one, or a batch), registering period boundaries and closing
invoiced periods. The statements are in `usage.sql`.

Both ingestion paths bypass the ORM (not the validation): one event is one call of the
`usage_record_one` function (installed by a migration): the tenant's shared lock, then one
`INSERT ... ON CONFLICT DO NOTHING RETURNING` whose data-modifying CTEs also upsert the hourly
and daily rollups, the distinct key and the edge rollups of a registered boundary in the
event's hour. A batch is one `INSERT ... SELECT FROM ROWS FROM (unnest(...), ...)` (its records
as five columns) `ON CONFLICT DO NOTHING RETURNING` in idempotency-key order plus the same
set-based upserts, each in key order. Either
way the event and its rollups commit together or not at all. A batch that still meets a
deadlock or a serialization failure is retried.

Period closing and ingestion meet on a per-tenant advisory lock: ingestion holds it shared from
before it reads the tenant's lower bound until it commits; `usage_period_close` (and
`usage_boundaries_register`) take it exclusively, so they wait for in-flight ingestion and later
ingestion waits for them, then sees the new bound (or boundary). Invoicing calls
`usage_period_close` first and reads `usage_totals` after it, in the same transaction: every
event that can still count in the period is then visible.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, OperationalError, connection, transaction
from psycopg import errors as pg_errors

from billing_project.shared import metrics
from billing_project.shared.errors import NotFound, ValidationFailed
from usage import sql
from usage.models import UsagePeriodClose
from usage.validation import IngestContext, ParsedRecord, parse_batch

BATCH_ATTEMPTS = 4
# Tenants whose last batch held stored keys (see `_batch_insert`), bounded.
_REPEATING: set = set()
_REPEATING_MAX = 10_000


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
    statement = sql.LOCK_EXCLUSIVE if exclusive else sql.LOCK_SHARED
    cursor.execute(statement, [sql.LOCK_CLASS, tenant_id])


def _context(row, now: datetime) -> IngestContext:
    """The batch's view of the tenant: lower bound, timezone, current period start."""
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
        "lock_class": sql.LOCK_CLASS,
    }
    # One round trip: the function takes the shared lock, then inserts with a fresh snapshot;
    # outside a transaction the call is its own transaction, so the lock lasts until commit.
    with connection.cursor() as cursor:
        cursor.execute(sql.RECORD_ONE, params)
        lower_bound, inserted = cursor.fetchone()
        if inserted:
            metrics.inc(metrics.USAGE_EVENTS_INGESTED, source="single")
            return RecordResult(_stored(event_id, tenant_id, record, now), duplicate=False)
        if lower_bound is not None and record.timestamp < lower_bound:
            raise _bound_error(lower_bound)
        cursor.execute(sql.ORIGINAL, [tenant_id, record.idempotency_key])
        return RecordResult(StoredEvent(*cursor.fetchone()), duplicate=True)


def _retryable(exc: OperationalError) -> bool:
    return isinstance(exc.__cause__, pg_errors.DeadlockDetected | pg_errors.SerializationFailure)


def usage_batch_record(*, tenant_id: UUID, records, catalog, now: datetime) -> BatchResult:
    """Validate and store a batch of raw records, all or nothing.

    Bad records raise RecordError listing each one (nothing stored). Records whose idempotency
    key is already stored, or repeats one earlier in the batch, are duplicates: counted, not
    stored. Raises NotFound for an unknown tenant. Outside a transaction, a deadlock or
    serialization failure rolls the batch back and runs it again (up to `BATCH_ATTEMPTS`).
    """
    attempts = 1 if connection.in_atomic_block else BATCH_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            result = _batch_store(tenant_id=tenant_id, records=records, catalog=catalog, now=now)
        except OperationalError as exc:
            if attempt == attempts or not _retryable(exc):
                raise
        else:
            if result.accepted:
                metrics.inc(metrics.USAGE_EVENTS_INGESTED, result.accepted, source="batch")
            return result
    raise AssertionError("unreachable")


def _batch_store(*, tenant_id, records, catalog, now: datetime) -> BatchResult:
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip: shared lock, tenant context.
        cursor.execute(sql.BATCH_PREPARE, {"tenant": tenant_id, "lock_class": sql.LOCK_CLASS})
        cursor.nextset()  # the second result is the context's
        parsed = parse_batch(records, catalog=catalog, ctx=_context(cursor.fetchone(), now))
        seen: set[str] = set()
        # metric_type -> the metric's position in `metrics`, from 1 (sql.BATCH); keyed by the
        # type's text, whose hash is cached (a UUID's is computed in Python each time)
        positions: dict = {}
        metrics, unique_metrics = [], []
        columns = ms, qs, ts, ks, us = [], [], [], [], []
        for record in parsed:
            key = record.idempotency_key
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            metric = record.metric
            position = positions.get(metric.metric_type)
            if position is None:
                metrics.append(metric.id)
                position = positions[metric.metric_type] = len(metrics)
                if metric.aggregation == "unique_count":
                    unique_metrics.append(metric.id)
            ms.append(position)
            qs.append(str(record.quantity))  # exact: the decimal literal
            ts.append(record.timestamp)
            ks.append(key)
            us.append(record.unique_key)
        params = sql.batch_columns(*columns)
        params.update(metrics=metrics, tenant=tenant_id, now=now, unique_metrics=unique_metrics)
        accepted = _batch_insert(cursor, tenant_id, params, len(ms))
    received = len(parsed)
    return BatchResult(received=received, accepted=accepted, duplicates=received - accepted)


def _batch_insert(cursor, tenant_id, params: dict, rows: int) -> int:
    """Insert a batch's rows (`sql.BATCH`); returns how many were new.

    Most batches hold no stored key: they run first as a plain INSERT in a savepoint, and only
    when a stored key (or one a concurrent batch just committed) fails it with a unique
    violation, as INSERT ... ON CONFLICT DO NOTHING. A tenant whose last batch held stored keys
    goes to the second form directly (`_REPEATING`, per process), so a client that resends
    does not pay for both."""
    if tenant_id not in _REPEATING:
        try:
            with transaction.atomic():
                statement = sql.without_key_conflicts(sql.BATCH)
                return sql.execute_bound(cursor, statement, params)[0]
        except IntegrityError as exc:
            if not isinstance(exc.__cause__, pg_errors.UniqueViolation):
                raise
    accepted = sql.execute_bound(cursor, sql.BATCH, params)[0]
    if accepted < rows:
        if len(_REPEATING) >= _REPEATING_MAX:
            _REPEATING.clear()
        _REPEATING.add(tenant_id)
    else:
        _REPEATING.discard(tenant_id)
    return accepted


def _on_the_hour(instant: datetime) -> bool:
    utc = instant.astimezone(UTC)
    return not (utc.minute or utc.second or utc.microsecond)


def usage_boundaries_register(*, tenant_id, boundaries: list[datetime]) -> int:
    """Keep the events of each boundary's hour split in two from now on (`UsageEdge`): the
    edges are built from the raw events under the tenant's exclusive lock (in-flight ingestion
    has committed, later ingestion maintains them). An instant on the hour needs no edges and
    is skipped. Idempotent; returns how many were new."""
    boundaries = [b for b in boundaries if not _on_the_hour(b)]
    if not boundaries:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_tenant(cursor, tenant_id, exclusive=True)
        # A statement after the lock: its snapshot holds every event committed before it.
        cursor.execute(sql.BOUNDARIES_REGISTER, {"tenant": tenant_id, "boundaries": boundaries})
        return cursor.fetchone()[0]


def usage_period_close(
    *, tenant_id, period_start: datetime, period_end: datetime, now: datetime
) -> UsagePeriodClose:
    """Record that a period's usage was invoiced: from now on no event may be recorded before
    `period_end`. Idempotent per (tenant, period_start). Call it inside the invoicing
    transaction, before reading `usage_totals` for the period."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            _lock_tenant(cursor, tenant_id, exclusive=True)
        closed, _ = UsagePeriodClose.objects.get_or_create(
            tenant_id=tenant_id,
            period_start=period_start,
            defaults={"period_end": period_end, "closed_at": now},
        )
    return closed


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
        cursor.execute(sql.LOCK_MANY, [sql.LOCK_CLASS, tenants])
        cursor.execute(
            sql.CLOSE_MANY,
            {
                "now": now,
                "tenant": tenants,
                "start": [start for _, start, _ in periods],
                "end": [end for _, _, end in periods],
            },
        )
