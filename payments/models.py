"""The payment rail: charge attempts, refunds, the Stripe webhook inbox, mirror failures.

`PaymentAttempt` rows are the facts dunning reads: a `failed` attempt is a failed collection
(day 0 of a dunning case is the first failed attempt of an invoice).
"""

import uuid

from django.db import models


class PaymentAttemptStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class PaymentAttemptTrigger(models.TextChoices):
    AUTO = "auto", "At finalization"
    PAY = "pay", "POST invoices/{id}/pay"
    DUNNING = "dunning", "Dunning retry"


class PaymentAttempt(models.Model):
    """One charge of an invoice through Stripe. The row is committed (pending) before Stripe is
    called, so a crash leaves a pending row that `payments.retry_pending` resolves by re-reading
    Stripe (stored PaymentIntent id) or re-sending with the same idempotency key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="payment_attempts"
    )
    tenant = models.ForeignKey("subscriptions.Tenant", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10,
        choices=PaymentAttemptStatus.choices,
        default=PaymentAttemptStatus.PENDING,
        db_index=True,
    )
    trigger = models.CharField(
        max_length=10, choices=PaymentAttemptTrigger.choices, default=PaymentAttemptTrigger.AUTO
    )
    stripe_customer_id = models.CharField(max_length=255)
    stripe_payment_method_id = models.CharField(max_length=255)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=100, blank=True)
    decline_code = models.CharField(max_length=100, blank=True, db_index=True)
    failure_message = models.TextField(blank=True)
    last_error = models.TextField(blank=True, help_text="Last transient error (Stripe down)")
    retries = models.PositiveIntegerField(default=0, help_text="Transient retries so far")
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failure_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the one 'payment failed' email was sent"
    )
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["invoice", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "number"], name="payment_attempt_number_per_invoice"
            ),
            # Never two charges in flight for one invoice.
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(status="pending"),
                name="payment_attempt_one_pending_per_invoice",
            ),
            models.CheckConstraint(
                name="payment_attempt_positive", condition=models.Q(amount__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} attempt {self.number} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"invoice:{self.invoice_id}:attempt:{self.number}"


class RefundStatus(models.TextChoices):
    """Stripe's refund statuses (a manual refund is `succeeded` when recorded)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class Refund(models.Model):
    """Money given back on a paid invoice, with its credit note. Card payments are refunded on
    their PaymentIntent at Stripe; others (transfers) are returned outside and recorded here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    tenant = models.ForeignKey("subscriptions.Tenant", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    attempt = models.ForeignKey(
        PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    credit_note = models.OneToOneField(
        "invoicing.CreditNote", on_delete=models.PROTECT, related_name="refund"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500, blank=True)
    method = models.CharField(max_length=20, default="card", help_text="card | manual")
    status = models.CharField(
        max_length=20, choices=RefundStatus.choices, default=RefundStatus.SUCCEEDED
    )
    stripe_refund_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["invoice", "number"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "number"], name="refund_number_per_invoice"),
            models.CheckConstraint(name="refund_positive", condition=models.Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"refund {self.number} of {self.invoice}"

    @property
    def idempotency_key(self) -> str:
        return f"invoice:{self.invoice_id}:refund:{self.number}"


class WebhookEventStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class WebhookEvent(models.Model):
    """A verified Stripe event, stored once by its id before the 2xx answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10,
        choices=WebhookEventStatus.choices,
        default=WebhookEventStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    result = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class MirrorFailure(models.Model):
    """A dj-stripe mirror sync that failed (logged, counted, never blocking billing)."""

    object_type = models.CharField(max_length=50)
    stripe_id = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=100, blank=True)
    error = models.TextField()
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.object_type} {self.stripe_id}"
