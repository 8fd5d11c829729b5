"""MRR facts: the daily MRR of every subscription, stored run-length encoded.

A `MrrSegment` says: from `valid_from` (inclusive) to `valid_to` (exclusive) this subscription
contributed `mrr` (minor units, monthly) in `currency` on `plan`. Only segments with MRR > 0 are
stored; a subscription with none in a period had no MRR then (trial, suspended, cancelled). One
row per run of equal days instead of one per day: 100,000 subscriptions x 24 months is a few
hundred thousand rows instead of 73 million. Segments are a function of the subscription change
history (`analytics_snapshot` rebuilds them); `MrrDirty` rows, written by database triggers on
the history tables, name the subscriptions whose segments must be recomputed before a read.
"""

from django.contrib.postgres.fields import ArrayField, DateTimeRangeField
from django.contrib.postgres.indexes import GistIndex
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


class MrrDaily(models.Model):
    """Per day, currency and plan: the MRR and the number of paying subscriptions at 00:00 UTC
    of `day` (the segments added up; a checkpoint the reads start from). Days without a row
    hold nothing. `MrrDailyRange` says which days are built."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    plan_id = models.UUIDField()
    mrr = models.BigIntegerField(default=0)
    subscribers = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "currency", "plan_id"], name="mrrdaily_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency} {self.mrr}"


class MrrDailyRange(models.Model):
    """The one row saying which days `MrrDaily` holds: [first_day, last_day]."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    first_day = models.DateField()
    last_day = models.DateField()

    def __str__(self) -> str:
        return f"{self.first_day}..{self.last_day}"


class MrrTimeline(models.Model):
    """A tenant's total MRR in one currency as steps: from `ats[i]` on it is `mrrs[i]` (on
    plan `plans[i]`), until the next step; before `ats[1]` it had none. Built from the segments;
    the MRR at any instant is one `width_bucket` away, so movements between two instants are
    one pass over the tenants whose MRR moved."""

    id = models.BigAutoField(primary_key=True)
    tenant_id = models.UUIDField()
    currency = models.CharField(max_length=3)
    ats = ArrayField(models.DateTimeField())
    mrrs = ArrayField(models.BigIntegerField())
    plans = ArrayField(models.UUIDField(null=True))
    first_at = models.DateTimeField(help_text="When it first had MRR")
    first_mrr = models.BigIntegerField(help_text="Its MRR then")
    last_at = models.DateTimeField(help_text="Its last step")

    class Meta:
        indexes = [
            models.Index(fields=["last_at"], name="mrrtl_last_at"),
            models.Index(fields=["tenant_id"], name="mrrtl_tenant"),
            # the tenants with MRR by an instant that moved after it: span @> instant
            GistIndex(
                models.Func(
                    "first_at",
                    "last_at",
                    models.Value("[)"),
                    function="tstzrange",
                    output_field=DateTimeRangeField(),
                ),
                name="mrrtl_span",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "currency"], name="mrrtl_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.currency}"


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
