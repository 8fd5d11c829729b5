"""Dunning: the policy as data, one case per unpaid invoice, one event per action taken.

A case is opened by the first failed collection of an invoice (a failed `PaymentAttempt`,
payments' fact); day 0 is that failure. Every step a pass runs is a `DunningEvent` unique per
(case, key) — `day:N` for the policy's steps — so a second pass for the same moment, or a pass
resumed after a worker died, finds the row and does not act twice.
"""

import uuid

from django.db import models


class Notice(models.TextChoices):
    NONE = "", "No email"
    REMINDER = "reminder", "Payment reminder"
    SUSPENSION_WARNING = "suspension_warning", "Suspension warning"
    SUSPENDED = "suspended", "Account suspended"
    CANCELLED = "cancelled", "Cancelled (data retention notice)"


class DunningPolicy(models.Model):
    """A schedule of steps. The default one (product.md section 9) is a data migration; another
    may be assigned to a tenant (`TenantDunningPolicy`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)
    grace_period_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days after the failure during which the tenant stays active"
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=4, help_text="Automatic retries at most (the guide's max_attempts)"
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "dunning policies"
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="dunning_one_default_policy",
            )
        ]

    def __str__(self) -> str:
        return self.name + (" (default)" if self.is_default else "")


class DunningStep(models.Model):
    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="steps")
    day = models.PositiveSmallIntegerField(help_text="Days after the first failed collection")
    retry = models.BooleanField(default=False, help_text="Retry the payment")
    notice = models.CharField(max_length=30, choices=Notice.choices, blank=True, default="")
    suspend = models.BooleanField(default=False, help_text="Suspend (service degraded)")
    cancel = models.BooleanField(
        default=False, help_text="Cancel the subscription (service none), reason non_payment"
    )
    mark_uncollectible = models.BooleanField(default=False)

    class Meta:
        ordering = ["policy", "day"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "day"], name="dunning_step_day_per_policy"),
        ]

    def __str__(self) -> str:
        return f"day {self.day}"


class TenantDunningPolicy(models.Model):
    tenant = models.OneToOneField(
        "subscriptions.Tenant", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "tenant dunning policy"

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.policy}"


class DeclineKind(models.TextChoices):
    SOFT = "soft", "Soft (retry)"
    HARD = "hard", "Hard (no automatic retry; a new card is needed)"


class DeclineCode(models.Model):
    """Stripe decline codes and whether a retry is worth it. Codes not listed are soft."""

    code = models.CharField(max_length=100, primary_key=True)
    kind = models.CharField(max_length=4, choices=DeclineKind.choices)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.kind})"


class CaseStatus(models.TextChoices):
    OPEN = "open"
    RECOVERED = "recovered"
    EXHAUSTED = "exhausted"
    WRITTEN_OFF = "written_off"
    PAUSED = "paused"


class CaseStage(models.TextChoices):
    GRACE = "grace", "Grace period (active)"
    PAST_DUE = "past_due", "Past due"
    SUSPENDED = "suspended", "Suspended (degraded)"
    CANCELLED = "cancelled", "Cancelled (none)"


class DunningCase(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "subscriptions.Tenant", on_delete=models.PROTECT, related_name="dunning_cases"
    )
    invoice = models.OneToOneField(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="dunning_case"
    )
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="cases")
    first_attempt = models.ForeignKey(
        "payments.PaymentAttempt", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True
    )
    stage = models.CharField(max_length=10, choices=CaseStage.choices, default=CaseStage.GRACE)
    opened_at = models.DateTimeField(help_text="Day 0: the first failed collection")
    next_action_at = models.DateTimeField(null=True, blank=True)
    shift_days = models.PositiveIntegerField(default=0, help_text="Days spent paused")
    paused_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)
    last_decline_code = models.CharField(max_length=100, blank=True)
    retry_skipped_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(
                fields=["next_action_at"],
                condition=models.Q(status="open"),
                name="dunning_case_due",
            ),
            models.Index(fields=["tenant", "status"], name="dunning_case_tenant_status"),
        ]

    def __str__(self) -> str:
        return f"dunning {self.invoice_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (CaseStatus.OPEN, CaseStatus.PAUSED)


class EventKind(models.TextChoices):
    OPENED = "opened"
    STEP = "step"
    RETRY = "retry", "Retry (staff or new card)"
    PAUSED = "paused"
    RESUMED = "resumed"
    RECOVERED = "recovered"
    WRITTEN_OFF = "written_off"


class NoticeStatus(models.TextChoices):
    NONE = "", "No email"
    PENDING = "pending"
    SENT = "sent"


class DunningEvent(models.Model):
    """One action taken on a case. `key` makes it unique: `day:N` for a policy step."""

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(DunningCase, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=80)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    day = models.IntegerField(null=True, blank=True)
    actions = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=300, blank=True)
    attempt = models.ForeignKey(
        "payments.PaymentAttempt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    done = models.BooleanField(default=False, help_text="Every action of the event applied")
    notice = models.CharField(max_length=30, blank=True)
    notice_status = models.CharField(
        max_length=8, choices=NoticeStatus.choices, blank=True, default=""
    )
    notice_subject = models.CharField(max_length=300, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_error = models.TextField(blank=True)
    actor = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["case", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="dunning_event_once_per_case"),
        ]
        indexes = [
            models.Index(
                fields=["at"],
                condition=models.Q(notice_status="pending"),
                name="dunning_event_notice_pending",
            ),
            models.Index(
                fields=["at"], condition=models.Q(done=False), name="dunning_event_unfinished"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.key}"
