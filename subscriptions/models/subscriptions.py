import uuid

from django.db import models
from django.db.models.functions import Lower


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


LIVE_STATUSES = ("trialing", "active", "past_due", "suspended")


class SubscriptionQuerySet(models.QuerySet):
    def live(self):
        """Every subscription that is not cancelled (the one-per-tenant rule's condition)."""
        return self.exclude(status=SubscriptionStatus.CANCELLED)


class Subscription(models.Model):
    """A tenant on a plan. Periods are calendar months from `started_at` in the tenant's tz."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey("subscriptions.Plan", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices, db_index=True)
    started_at = models.DateTimeField(help_text="Anchor of the monthly periods")
    period_index = models.PositiveIntegerField(default=0)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField(db_index=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancellation_reason = models.CharField(max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    pending_plan = models.ForeignKey(
        "subscriptions.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=~models.Q(status="cancelled"),
                name="one_live_subscription_per_tenant",
            ),
            models.CheckConstraint(
                name="subscription_period_ordered",
                condition=models.Q(current_period_end__gt=models.F("current_period_start")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} on {self.plan} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status != SubscriptionStatus.CANCELLED


class ChangeKind(models.TextChoices):
    CREATED = "created"
    UPGRADED = "upgraded"
    DOWNGRADE_SCHEDULED = "downgrade_scheduled"
    DOWNGRADE_APPLIED = "downgrade_applied"
    DOWNGRADE_CANCELLED = "downgrade_cancelled"
    CANCEL_SCHEDULED = "cancel_scheduled"
    REACTIVATED = "reactivated"
    CANCELLED = "cancelled"
    TRIAL_ENDED = "trial_ended"
    PERIOD_ADVANCED = "period_advanced"
    STATUS_CHANGED = "status_changed"


class SubscriptionChange(models.Model):
    """Append-only history. A proration invoice is unique per change (invoicing)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=30, choices=ChangeKind.choices)
    from_plan = models.ForeignKey(
        "subscriptions.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_plan = models.ForeignKey(
        "subscriptions.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    effective_at = models.DateTimeField()
    prorate = models.BooleanField(default=False)
    proration_numerator = models.PositiveIntegerField(null=True, blank=True)
    proration_denominator = models.PositiveIntegerField(null=True, blank=True)
    proration_amount = models.BigIntegerField(null=True, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.effective_at:%Y-%m-%d}"

    @property
    def proration_fraction(self) -> str | None:
        if self.proration_numerator is None:
            return None
        return f"{self.proration_numerator}/{self.proration_denominator}"


class CouponDuration(models.TextChoices):
    ONCE = "once"
    REPEATING = "repeating"
    FOREVER = "forever"


class Coupon(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    percent_off = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    amount_off = models.BigIntegerField(null=True, blank=True, help_text="minor units")
    currency = models.CharField(max_length=3, blank=True)
    duration = models.CharField(max_length=10, choices=CouponDuration.choices)
    duration_in_months = models.PositiveIntegerField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="coupon_code_unique_ci"),
            models.CheckConstraint(
                name="coupon_percent_xor_amount",
                condition=(
                    models.Q(percent_off__isnull=False, amount_off__isnull=True)
                    | models.Q(percent_off__isnull=True, amount_off__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    subscription = models.OneToOneField(
        Subscription, on_delete=models.CASCADE, related_name="coupon_redemption"
    )
    tenant = models.ForeignKey("subscriptions.Tenant", on_delete=models.CASCADE, related_name="+")
    first_period_index = models.PositiveIntegerField(default=0)
    redeemed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.coupon} on {self.subscription_id}"
