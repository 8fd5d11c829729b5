"""Reads for payments (dunning reads failed attempts here: they are its facts)."""

from django.db.models import Count, Q, QuerySet

from payments.models import (
    PaymentAttempt,
    PaymentAttemptStatus,
    Refund,
    WebhookEvent,
    WebhookEventStatus,
)


def attempt_list(*, invoice_id) -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.filter(invoice_id=invoice_id).order_by("number")


def failed_attempts(*, invoice_id=None, tenant_id=None) -> QuerySet[PaymentAttempt]:
    """Failed collections, oldest first: day 0 of a dunning case is the first of an invoice."""
    attempts = PaymentAttempt.objects.filter(status=PaymentAttemptStatus.FAILED)
    if invoice_id is not None:
        attempts = attempts.filter(invoice_id=invoice_id)
    if tenant_id is not None:
        attempts = attempts.filter(tenant_id=tenant_id)
    return attempts.order_by("created_at", "number")


def refund_list(*, invoice_id) -> QuerySet[Refund]:
    return Refund.objects.filter(invoice_id=invoice_id).select_related("credit_note")


def payment_attempt_outcomes(*, start, end) -> tuple[int, int]:
    """(succeeded, failed) attempts created in [start, end): monitoring's payment success rate.
    Pending attempts are not settled yet; an attempt failed because its invoice was paid or
    voided meanwhile (`invoice_not_collectable`) was never sent to Stripe: both are left out."""
    counts = (
        PaymentAttempt.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(failure_code="invoice_not_collectable")
        .aggregate(
            succeeded=Count("pk", filter=Q(status=PaymentAttemptStatus.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=PaymentAttemptStatus.FAILED)),
        )
    )
    return counts["succeeded"], counts["failed"]


def webhook_event_outcomes(*, start, end) -> tuple[int, int]:
    """(succeeded, failed) Stripe events received in [start, end): monitoring's webhook success
    rate. Succeeded: processed or ignored (a type we do not handle, acknowledged). Failed: given
    up (`failed`) or waiting for a retry after a failed handler (`pending` with attempts).
    Events not tried yet are in flight and left out."""
    counts = WebhookEvent.objects.filter(received_at__gte=start, received_at__lt=end).aggregate(
        succeeded=Count(
            "pk",
            filter=Q(status__in=(WebhookEventStatus.PROCESSED, WebhookEventStatus.IGNORED)),
        ),
        failed=Count(
            "pk",
            filter=Q(status=WebhookEventStatus.FAILED)
            | Q(status=WebhookEventStatus.PENDING, attempts__gt=0),
        ),
    )
    return counts["succeeded"], counts["failed"]
