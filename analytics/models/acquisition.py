"""Figures staff enter for the unit economics: acquisition spend per month and currency (for
CAC) and the cost of serving one subscriber of a plan per month (for gross margin by plan)."""

import uuid

from django.core.validators import MinValueValidator
from django.db import models

__all__ = ["AcquisitionSpend", "PlanCost"]


class AcquisitionSpend(models.Model):
    """What was spent acquiring customers in one month, in one currency (marketing, sales).
    One row per (month, currency): entering the month again replaces the amount."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    month = models.DateField(help_text="The month's first day")
    currency = models.CharField(max_length=3, default="usd")
    amount = models.BigIntegerField(
        validators=[MinValueValidator(0)], help_text="Minor units (cents)"
    )
    note = models.CharField(max_length=300, blank=True)
    entered_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-month", "currency"]
        verbose_name = "acquisition spend"
        verbose_name_plural = "acquisition spend"
        constraints = [
            models.UniqueConstraint(fields=["month", "currency"], name="acquisition_spend_month"),
            models.CheckConstraint(
                name="acquisition_spend_first_day", condition=models.Q(month__day=1)
            ),
            models.CheckConstraint(
                name="acquisition_spend_non_negative", condition=models.Q(amount__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.amount} {self.currency}"


class PlanCost(models.Model):
    """The cost of serving one subscriber of `plan` for a month (hosting, support, fees), in the
    plan's currency: gross margin by plan = its MRR - subscribers x this cost."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.OneToOneField(
        "subscriptions.Plan", on_delete=models.CASCADE, related_name="analytics_cost"
    )
    amount = models.BigIntegerField(
        validators=[MinValueValidator(0)],
        help_text="Cost per subscriber per month, minor units (cents)",
    )
    currency = models.CharField(max_length=3, default="usd")
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["plan__amount", "plan__slug"]
        constraints = [
            models.CheckConstraint(
                name="plan_cost_non_negative", condition=models.Q(amount__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.slug}: {self.amount} {self.currency} per subscriber-month"
