"""Alert rules as data, and their firings (one per rule and period bucket)."""

import uuid

from django.db import models

__all__ = ["AlertAction", "AlertComparison", "AlertFiring", "AlertMetric", "AlertRule"]


class AlertMetric(models.TextChoices):
    PAYMENT_FAILURE_RATE = "payment_failure_rate", "Payment failure rate (%)"
    WEBHOOK_FAILURE_RATE = "webhook_failure_rate", "Webhook failure rate (%)"
    INVOICE_GENERATION_TIME = "invoice_generation_time", "Invoice generation time (s)"
    USAGE_ACCURACY = "usage_accuracy", "Usage tracking accuracy (%)"


class AlertComparison(models.TextChoices):
    GT = "gt", ">"
    GTE = "gte", ">="
    LT = "lt", "<"
    LTE = "lte", "<="


class AlertAction(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (signed POST)"
    LOG = "log", "Log"


class AlertRule(models.Model):
    """`metric <comparison> threshold` over the trailing `period`, evaluated by beat every 5
    minutes; fires at most once per period bucket. `target`: an email address (email) or an
    http(s) URL (webhook); blank means the setting's (ALERT_BILLING_TEAM_EMAIL,
    ALERT_ONCALL_WEBHOOK_URL), and a log line when that is unset too."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    metric = models.CharField(max_length=40, choices=AlertMetric.choices)
    comparison = models.CharField(
        max_length=3, choices=AlertComparison.choices, default=AlertComparison.GT
    )
    threshold = models.DecimalField(
        max_digits=12, decimal_places=4, help_text="Percent (rates) or seconds (generation time)"
    )
    period = models.CharField(max_length=8, help_text='"15m", "1h", "1d"')
    action = models.CharField(max_length=10, choices=AlertAction.choices)
    target = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertFiring(models.Model):
    """A rule over its threshold in one period bucket: recorded once, delivered once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    window_start = models.DateTimeField(help_text="The trailing window the value covers")
    window_end = models.DateTimeField()
    value = models.DecimalField(max_digits=16, decimal_places=4)
    threshold = models.DecimalField(max_digits=12, decimal_places=4)
    fired_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "period_start"], name="alert_firing_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} at {self.period_start:%Y-%m-%d %H:%M}"
