"""The portable usage path: ORM only, for databases other than PostgreSQL (SQLite, embedded mode).

`usage.services`, `usage.selectors` and `usage.reconcile` call these functions when
`portable_path()` is true: the connection is not PostgreSQL, or the setting
`USAGE_PORTABLE_PATH` is on (the test suite uses it to run this path on PostgreSQL too).

Same contract as the PostgreSQL fast path: an event and its hourly and daily rollups commit together
transaction; a known idempotency key is a duplicate (the same partial unique constraint decides,
an IntegrityError in a savepoint catches a concurrent insert); totals come from the rollups for
whole hours and from raw events for the partial edge hours, aggregated in Python with Decimal.
Period closing takes no advisory lock (SQLite serialises writers).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from billing_project.shared.errors import NotFound
from subscriptions.models import Metric, Subscription, Tenant
from usage.models import (
    UsageDaily,
    UsageEvent,
    UsageHourly,
    UsageHourlyUnique,
    UsagePeriodClose,
)
from usage.validation import IngestContext

_IN_CHUNK = 500  # SQLite's bound-parameter limit is 999 on old builds


def portable_path() -> bool:
    return connection.vendor != "postgresql" or getattr(settings, "USAGE_PORTABLE_PATH", False)


def _hour(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _day(instant: datetime) -> datetime:
    return _hour(instant).replace(hour=0)


def lower_bound(tenant_id) -> datetime | None:
    closed = UsagePeriodClose.objects.filter(tenant_id=tenant_id).aggregate(m=Max("period_end"))
    if closed["m"] is not None:
        return closed["m"]
    return (
        Subscription.objects.filter(tenant_id=tenant_id)
        .exclude(status="cancelled")
        .values_list("started_at", flat=True)
        .first()
    )


def ingest_context(tenant_id, now: datetime) -> IngestContext:
    timezone = Tenant.objects.filter(pk=tenant_id).values_list("timezone", flat=True).first()
    if timezone is None:
        raise NotFound("Tenant not found.")
    period_start = (
        Subscription.objects.filter(tenant_id=tenant_id)
        .exclude(status="cancelled")
        .values_list("current_period_start", flat=True)
        .first()
    )
    return IngestContext(
        now=now, lower_bound=lower_bound(tenant_id), timezone=timezone, period_start=period_start
    )


class _Roll:
    """One (metric, hour) group of new events, merged into its rollup row."""

    __slots__ = ("count", "latest_at", "latest_value", "maximum", "total", "unique_keys")

    def __init__(self):
        self.total = self.maximum = self.latest_at = self.latest_value = None
        self.count = 0
        self.unique_keys: set[str] = set()

    def add(self, quantity, timestamp, unique_key, is_unique):
        self.total = quantity if self.total is None else self.total + quantity
        self.maximum = quantity if self.maximum is None else max(self.maximum, quantity)
        self.count += 1
        if self.latest_at is None or (timestamp, quantity) > (self.latest_at, self.latest_value):
            self.latest_at, self.latest_value = timestamp, quantity
        if is_unique and unique_key is not None:
            self.unique_keys.add(unique_key)


def _merge_rollup(model, key: dict, roll: _Roll) -> None:
    """Merge one group into its rollup row of `model` (row-locked on PostgreSQL)."""
    for _attempt in range(2):
        row = model.objects.select_for_update().filter(**key).first()
        if row is None:
            try:
                with transaction.atomic():
                    model.objects.create(
                        **key,
                        sum_value=roll.total,
                        max_value=roll.maximum,
                        event_count=roll.count,
                        latest_at=roll.latest_at,
                        latest_value=roll.latest_value,
                    )
                return
            except IntegrityError:
                continue  # created concurrently: merge into it
        latest_at, latest_value = max(
            (row.latest_at, row.latest_value), (roll.latest_at, roll.latest_value)
        )
        model.objects.filter(**key).update(
            sum_value=row.sum_value + roll.total,
            max_value=max(row.max_value, roll.maximum),
            event_count=row.event_count + roll.count,
            latest_at=latest_at,
            latest_value=latest_value,
        )
        return


def _apply_rollups(tenant_id, events, unique_metrics) -> None:
    """Merge the events into their UsageHourly rows, then their UsageDaily rows (both in key
    order), and add the distinct keys."""
    uniques = []
    for (metric_id, hour), roll in sorted(_group(events, unique_metrics, _hour).items()):
        key = {"tenant_id": tenant_id, "metric_id": metric_id, "hour": hour}
        _merge_rollup(UsageHourly, key, roll)
        uniques.extend(
            UsageHourlyUnique(**key, unique_key=unique_key) for unique_key in roll.unique_keys
        )
    for (metric_id, day), roll in sorted(_group(events, set(), _day).items()):
        _merge_rollup(
            UsageDaily, {"tenant_id": tenant_id, "metric_id": metric_id, "day": day}, roll
        )
    if uniques:
        UsageHourlyUnique.objects.bulk_create(uniques, ignore_conflicts=True)


def _group(events, unique_metrics, bucket) -> dict:
    groups = defaultdict(_Roll)
    for event in events:
        groups[(event.metric_id, bucket(event.timestamp))].add(
            event.quantity, event.timestamp, event.unique_key, event.metric_id in unique_metrics
        )
    return groups


def original_event(tenant_id, idempotency_key):
    return (
        UsageEvent.objects.select_related("metric")
        .filter(tenant_id=tenant_id, idempotency_key=idempotency_key)
        .first()
    )


def record_one(*, tenant_id, record, event_id, now, bound_error, stored_event):
    """One event (see services.usage_event_record). Returns (StoredEvent, duplicate)."""
    key = record.idempotency_key

    def duplicate():
        original = original_event(tenant_id, key)
        return stored_event(
            original.id,
            original.tenant_id,
            original.metric.metric_type,
            original.quantity,
            original.timestamp,
            original.idempotency_key,
            original.unique_key,
            original.received_at,
        )

    with transaction.atomic():
        bound = lower_bound(tenant_id)
        if bound is not None and record.timestamp < bound:
            raise bound_error(bound)
        if (
            key is not None
            and UsageEvent.objects.filter(tenant_id=tenant_id, idempotency_key=key).exists()
        ):
            return duplicate(), True
        event = UsageEvent(
            id=event_id,
            tenant_id=tenant_id,
            metric_id=record.metric.id,
            quantity=record.quantity,
            timestamp=record.timestamp,
            idempotency_key=key,
            unique_key=record.unique_key,
            received_at=now,
        )
        try:
            with transaction.atomic():
                event.save(force_insert=True)
        except IntegrityError:
            if key is None:
                raise
            return duplicate(), True  # the same key, committed concurrently
        unique = {record.metric.id} if record.metric.aggregation == "unique_count" else set()
        _apply_rollups(tenant_id, [event], unique)
    return None, False


def record_batch(*, tenant_id, parsed, now) -> int:
    """Store the parsed records of one batch (deduplicated by key); returns how many were new.
    Must run inside the caller's transaction."""
    rows, seen = [], set()
    for record in parsed:
        key = record.idempotency_key
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        rows.append(record)
    keys = [r.idempotency_key for r in rows if r.idempotency_key is not None]
    known = set()
    for i in range(0, len(keys), _IN_CHUNK):
        known.update(
            UsageEvent.objects.filter(
                tenant_id=tenant_id, idempotency_key__in=keys[i : i + _IN_CHUNK]
            ).values_list("idempotency_key", flat=True)
        )
    events = [
        UsageEvent(
            tenant_id=tenant_id,
            metric_id=r.metric.id,
            quantity=r.quantity,
            timestamp=r.timestamp,
            idempotency_key=r.idempotency_key,
            unique_key=r.unique_key,
            received_at=now,
        )
        for r in rows
        if r.idempotency_key is None or r.idempotency_key not in known
    ]
    try:
        with transaction.atomic():
            UsageEvent.objects.bulk_create(events, batch_size=_IN_CHUNK // 10)
        stored = events
    except IntegrityError:  # some key committed concurrently: one savepoint per event
        stored = []
        for event in events:
            try:
                with transaction.atomic():
                    event.save(force_insert=True)
                stored.append(event)
            except IntegrityError:
                if event.idempotency_key is None:
                    raise
    unique = {r.metric.id for r in rows if r.metric.aggregation == "unique_count"}
    _apply_rollups(tenant_id, stored, unique)
    return len(stored)


def period_close(*, tenant_id, period_start, period_end, now) -> UsagePeriodClose:
    with transaction.atomic():
        closed, _ = UsagePeriodClose.objects.get_or_create(
            tenant_id=tenant_id,
            period_start=period_start,
            defaults={"period_end": period_end, "closed_at": now},
        )
    return closed


def totals(*, tenant_id, plan: dict) -> dict:
    """metric_type -> value over the plan of `selectors.totals_plan` (rollups + raw edges)."""
    metrics = {m.id: (m.metric_type, m.aggregation) for m in Metric.objects.all()}
    acc: dict = {}

    def merge(metric_id, total, maximum, latest):
        entry = acc.setdefault(metric_id, [None, None, None, set()])
        if total is not None:
            entry[0] = total if entry[0] is None else entry[0] + total
        if maximum is not None:
            entry[1] = maximum if entry[1] is None else max(entry[1], maximum)
        if latest is not None and (entry[2] is None or latest > entry[2]):
            entry[2] = latest
        return entry

    columns = ("metric_id", "sum_value", "max_value", "latest_at", "latest_value")
    rollups = [
        UsageDaily.objects.filter(tenant_id=tenant_id, day__gte=plan["d0"], day__lt=plan["d1"]),
        UsageHourly.objects.filter(tenant_id=tenant_id, hour__gte=plan["h0"], hour__lt=plan["d0"]),
        UsageHourly.objects.filter(tenant_id=tenant_id, hour__gte=plan["d1"], hour__lt=plan["h1"]),
    ]
    for rows in rollups:
        for metric_id, s, mx, la, lv in rows.values_list(*columns):
            merge(metric_id, s, mx, (la, lv))
    hours = {"tenant_id": tenant_id, "hour__gte": plan["h0"], "hour__lt": plan["h1"]}
    for metric_id, unique_key in UsageHourlyUnique.objects.filter(**hours).values_list(
        "metric_id", "unique_key"
    ):
        merge(metric_id, None, None, None)[3].add(unique_key)
    for a, b in ((plan["a1"], plan["b1"]), (plan["a2"], plan["b2"])):
        if a >= b:
            continue
        edge = UsageEvent.objects.filter(tenant_id=tenant_id, timestamp__gte=a, timestamp__lt=b)
        for metric_id, q, ts, unique_key in edge.values_list(
            "metric_id", "quantity", "timestamp", "unique_key"
        ):
            entry = merge(metric_id, q, q, (ts, q))
            if metrics.get(metric_id, ("", ""))[1] == "unique_count" and unique_key is not None:
                entry[3].add(unique_key)
    result = {}
    for metric_id, (total, maximum, latest, keys) in acc.items():
        if metric_id not in metrics:
            continue
        metric_type, aggregation = metrics[metric_id]
        if aggregation == "sum":
            value = total
        elif aggregation == "max":
            value = maximum
        elif aggregation == "latest":
            value = latest[1] if latest is not None else None
        else:
            value = Decimal(len(keys))
        if value is not None:
            result[metric_type] = value
    return result


def _fmt(values) -> str:
    return " ".join(str(v) for v in values)


def _bounds(start, end, floor, step) -> tuple:
    """[start, end) widened to whole buckets (hours or days); None stays unbounded."""
    if end is not None and floor(end) != end:
        end = floor(end) + step
    return (floor(start) if start is not None else None), end


def _diff_rollups(kind, bucket, model, field, filters, start, end, unique_metrics) -> tuple:
    """Differences between `model` rows and the events recomputed per `bucket`, plus the
    recomputed groups."""
    events = UsageEvent.objects.filter(**filters)
    stored_rows = model.objects.filter(**filters)
    if start is not None:
        events = events.filter(timestamp__gte=start)
        stored_rows = stored_rows.filter(**{f"{field}__gte": start})
    if end is not None:
        events = events.filter(timestamp__lt=end)
        stored_rows = stored_rows.filter(**{f"{field}__lt": end})
    recomputed: dict = defaultdict(_Roll)
    for tenant, metric_id, quantity, timestamp, unique_key in events.values_list(
        "tenant_id", "metric_id", "quantity", "timestamp", "unique_key"
    ).iterator():
        recomputed[(tenant, metric_id, bucket(timestamp))].add(
            quantity, timestamp, unique_key, metric_id in unique_metrics
        )
    stored = {
        (row.tenant_id, row.metric_id, getattr(row, field)): row
        for row in stored_rows.iterator()  # composite pk: plain rows
    }
    differences = []
    for key in sorted(set(recomputed) | set(stored), key=str):
        roll, row = recomputed.get(key), stored.get(key)
        a = (
            (roll.total, roll.maximum, roll.count, roll.latest_at, roll.latest_value)
            if roll
            else None
        )
        b = (
            (row.sum_value, row.max_value, row.event_count, row.latest_at, row.latest_value)
            if row
            else None
        )
        if a != b:
            differences.append((kind, *key, _fmt(a) if a else None, _fmt(b) if b else None))
    return differences, recomputed


def reconcile(*, tenant_id, start, end) -> list[tuple]:
    """(kind, tenant, metric, hour or day, from_events, from_rollups) for every hourly or daily
    rollup that differs from its raw events, recomputed in Python (over the whole UTC hours,
    resp. days, touching [start, end))."""
    filters = {}
    if tenant_id is not None:
        filters["tenant_id"] = tenant_id
    unique_metrics = set(
        Metric.objects.filter(aggregation="unique_count").values_list("id", flat=True)
    )
    start_h, end_h = _bounds(start, end, _hour, timedelta(hours=1))
    differences, recomputed = _diff_rollups(
        "hourly", _hour, UsageHourly, "hour", filters, start_h, end_h, unique_metrics
    )
    start_d, end_d = _bounds(start, end, _day, timedelta(days=1))
    daily_differences, _ = _diff_rollups(
        "daily", _day, UsageDaily, "day", filters, start_d, end_d, set()
    )
    differences.extend(daily_differences)
    hourly_unique = UsageHourlyUnique.objects.filter(**filters)
    if start_h is not None:
        hourly_unique = hourly_unique.filter(hour__gte=start_h)
    if end_h is not None:
        hourly_unique = hourly_unique.filter(hour__lt=end_h)
    keys_from_events = {
        (*key, unique_key) for key, roll in recomputed.items() for unique_key in roll.unique_keys
    }
    keys_stored = set(hourly_unique.values_list("tenant_id", "metric_id", "hour", "unique_key"))
    for tenant, metric_id, hour, unique_key in sorted(keys_from_events ^ keys_stored, key=str):
        present = (tenant, metric_id, hour, unique_key) in keys_from_events
        differences.append(
            (
                "unique",
                tenant,
                metric_id,
                hour,
                unique_key if present else None,
                None if present else unique_key,
            )
        )
    return differences
