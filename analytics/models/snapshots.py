"""MRR facts: the daily MRR of every subscription, stored run-length encoded.

A `MrrSegment` says: from `valid_from` (inclusive) to `valid_to` (exclusive) this subscription
contributed `mrr` (minor units, monthly) in `currency` on `plan`. Only segments with MRR > 0 are
stored; a subscription with none in a period had no MRR then (trial, suspended, cancelled). One
row per run of equal days instead of one per day: 100,000 subscriptions x 24 months is a few
hundred thousand rows instead of 73 million. Segments are a function of the subscription change
history (`analytics_snapshot` rebuilds them); `MrrDirty` rows, written by database triggers on
the history tables, name the subscriptions whose segments must be recomputed before a read.
"""

from django.db import models

OPEN_END = "9999-12-31T00:00:00Z"  # valid_to of a segment still running


class MrrSegment(models.Model):
    id = models.BigAutoField(primary_key=True)
    subscription_id = models.UUIDField()
    tenant_id = models.UUIDField()
    plan_id = models.UUIDField()
    currency = models.CharField(max_length=3)
    mrr = models.BigIntegerField(help_text="Monthly recurring revenue in minor units")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(help_text=f"Exclusive; {OPEN_END} while it runs")

    class Meta:
        indexes = [
            models.Index(fields=["subscription_id"], name="mrrseg_subscription"),
            models.Index(fields=["valid_from"], name="mrrseg_valid_from"),
            models.Index(fields=["valid_to"], name="mrrseg_valid_to"),
            models.Index(fields=["tenant_id", "valid_from"], name="mrrseg_tenant_from"),
        ]
        constraints = [
            models.CheckConstraint(
                name="mrrseg_ordered", condition=models.Q(valid_to__gt=models.F("valid_from"))
            ),
            models.CheckConstraint(name="mrrseg_positive", condition=models.Q(mrr__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.mrr} {self.currency} from {self.valid_from:%Y-%m-%d}"


class MrrDirty(models.Model):
    """A subscription (or every subscription of a tenant) whose history changed since its
    segments were computed. Written by triggers (migration 0002), consumed by reads."""

    id = models.BigAutoField(primary_key=True)
    subscription_id = models.UUIDField(null=True)
    tenant_id = models.UUIDField(null=True)

    def __str__(self) -> str:
        return str(self.subscription_id or self.tenant_id)


class SnapshotRun(models.Model):
    """One run of `analytics_snapshot` (or of the beat task): what it rebuilt and how long."""

    id = models.BigAutoField(primary_key=True)
    started_at = models.DateTimeField()
    from_date = models.DateField()
    to_date = models.DateField()
    subscriptions = models.PositiveIntegerField(default=0)
    segments = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"snapshot {self.from_date}..{self.to_date}"
