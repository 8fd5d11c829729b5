import uuid

from django.db import models


class Aggregation(models.TextChoices):
    SUM = "sum"
    MAX = "max"
    LATEST = "latest"
    UNIQUE_COUNT = "unique_count"


class Metric(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    metric_type = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=30, blank=True)
    aggregation = models.CharField(max_length=20, choices=Aggregation.choices)

    class Meta:
        ordering = ["metric_type"]

    def __str__(self) -> str:
        return self.metric_type


class Plan(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    amount = models.BigIntegerField(help_text="Monthly fee in minor units (cents)")
    currency = models.CharField(max_length=3, default="usd")
    interval = models.CharField(max_length=10, default="month", choices=[("month", "month")])
    trial_period_days = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    metrics = models.ManyToManyField(Metric, through="PlanMetric", related_name="plans")

    class Meta:
        ordering = ["amount", "slug"]
        constraints = [
            models.CheckConstraint(
                name="plan_amount_not_negative", condition=models.Q(amount__gte=0)
            )
        ]

    def __str__(self) -> str:
        return self.name


class PlanMetric(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="plan_metrics")
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="plan_metrics")
    included_quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    overage_unit_price = models.DecimalField(
        max_digits=20, decimal_places=6, default=0, help_text="Cents per unit above the limit"
    )

    class Meta:
        ordering = ["plan", "metric__metric_type"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "metric"], name="plan_metric_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.slug}:{self.metric.metric_type}"
