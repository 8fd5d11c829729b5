"""Reads for payments (dunning reads failed attempts here: they are its facts)."""

from django.db.models import QuerySet

from payments.models import PaymentAttempt, PaymentAttemptStatus, Refund


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
