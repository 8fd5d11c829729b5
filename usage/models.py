"""Usage events, their hourly, daily and edge rollups and the record of invoiced (closed)
periods.

Table names are fixed (`db_table`) because the ingestion path writes them with SQL (`usage.sql`
composes its statements from these names; the migrations hold the SQL function's text).
"""

import uuid

from django.db import models

QUANTITY_MAX_DIGITS = 24
QUANTITY_DECIMALS = 6


class UsageEvent(models.Model):
    """One reported quantity of a metric at an instant. Append-only.

    The foreign keys carry no database constraint: per-row referential checks would double the
    cost of batch ingestion. Integrity still holds in the database, because every event insert
    upserts its hourly rollup row in the same statement, and `UsageHourly` keeps both
    constraints (an unknown tenant or metric fails the whole statement).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "subscriptions.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    metric = models.ForeignKey(
        "subscriptions.Metric",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    quantity = models.DecimalField(max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_DECIMALS)
    timestamp = models.DateTimeField()
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    unique_key = models.CharField(max_length=255, null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        db_table = "usage_event"
        ordering = ["-timestamp", "id"]
        indexes = [
            models.Index(
                fields=["tenant", "metric", "timestamp"], name="usage_event_tenant_metric_ts"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="usage_event_idempotency_key_unique",
            ),
            models.CheckConstraint(
                name="usage_event_quantity_not_negative", condition=models.Q(quantity__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.quantity} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"


class _PerMetric(models.Model):
    """A row of one tenant's metric (the rollups' composite keys start with both)."""

    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    metric = models.ForeignKey(
        "subscriptions.Metric", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        abstract = True


class _RollupAggregates(_PerMetric):
    """The columns every rollup keeps for one (tenant, metric, time bucket)."""

    sum_value = models.DecimalField(max_digits=34, decimal_places=QUANTITY_DECIMALS)
    max_value = models.DecimalField(max_digits=QUANTITY_MAX_DIGITS, decimal_places=6)
    event_count = models.BigIntegerField()
    latest_at = models.DateTimeField()
    latest_value = models.DecimalField(max_digits=QUANTITY_MAX_DIGITS, decimal_places=6)

    class Meta:
        abstract = True


class UsageHourly(_RollupAggregates):
    """Aggregates of the events of one (tenant, metric, UTC hour), maintained at ingestion.

    `latest_value` is the value of the newest event by timestamp; when several share that
    timestamp, the largest of their values (a rule that does not depend on arrival order).
    """

    pk = models.CompositePrimaryKey("tenant_id", "metric_id", "hour")
    hour = models.DateTimeField()

    class Meta:
        db_table = "usage_hourly"

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.metric_id}@{self.hour:%Y-%m-%d %H:00}"


class UsageDaily(_RollupAggregates):
    """The same aggregates per (tenant, metric, UTC day), maintained at ingestion in the same
    statement as the hourly ones: a long period reads one row per whole day. `day` is the UTC
    midnight that starts the day."""

    pk = models.CompositePrimaryKey("tenant_id", "metric_id", "day")
    day = models.DateTimeField()

    class Meta:
        db_table = "usage_daily"

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.metric_id}@{self.day:%Y-%m-%d}"


class UsageHourlyUnique(_PerMetric):
    """The distinct `unique_key`s of a unique_count metric per (tenant, metric, UTC hour)."""

    pk = models.CompositePrimaryKey("tenant_id", "metric_id", "hour", "unique_key")
    hour = models.DateTimeField()
    unique_key = models.CharField(max_length=255)

    class Meta:
        db_table = "usage_hourly_unique"

    def __str__(self) -> str:
        return f"{self.unique_key}@{self.hour:%Y-%m-%d %H:00}"


class UsageBoundary(models.Model):
    """An instant inside an hour at which a read period starts or ends (a subscription period's
    boundary, say 16:23:45). From its registration on, the events of its hour are also kept in
    two halves, before and after it (`UsageEdge`): a period read takes its partial edge hours
    from there, whatever the number of events in them."""

    pk = models.CompositePrimaryKey("tenant_id", "boundary")
    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    boundary = models.DateTimeField()

    class Meta:
        db_table = "usage_boundary"

    def __str__(self) -> str:
        return f"{self.tenant_id}@{self.boundary:%Y-%m-%d %H:%M:%S}"


class UsageEdge(_RollupAggregates):
    """Aggregates of the events of a boundary's hour on one side of it: `after` is
    [boundary, next hour), else [hour, boundary). Maintained at ingestion with the hourly ones."""

    pk = models.CompositePrimaryKey("tenant_id", "metric_id", "boundary", "after")
    boundary = models.DateTimeField()
    after = models.BooleanField()

    class Meta:
        db_table = "usage_edge"

    def __str__(self) -> str:
        side = "after" if self.after else "before"
        return f"{self.tenant_id}/{self.metric_id} {side} {self.boundary:%Y-%m-%d %H:%M:%S}"


class UsageEdgeUnique(_PerMetric):
    """The distinct `unique_key`s of a unique_count metric on one side of a boundary."""

    pk = models.CompositePrimaryKey("tenant_id", "metric_id", "boundary", "after", "unique_key")
    boundary = models.DateTimeField()
    after = models.BooleanField()
    unique_key = models.CharField(max_length=255)

    class Meta:
        db_table = "usage_edge_unique"

    def __str__(self) -> str:
        return f"{self.unique_key}@{self.boundary:%Y-%m-%d %H:%M:%S}"


class UsagePeriodClose(models.Model):
    """A period whose usage was invoiced: no event may be recorded before its end any more."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey("subscriptions.Tenant", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    closed_at = models.DateTimeField()

    class Meta:
        db_table = "usage_period_close"
        ordering = ["tenant", "-period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "period_start"], name="usage_period_close_unique"
            ),
            models.CheckConstraint(
                name="usage_period_close_ordered",
                condition=models.Q(period_end__gt=models.F("period_start")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} closed until {self.period_end:%Y-%m-%d %H:%M}"
