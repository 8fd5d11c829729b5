"""Payment JSON: plain functions build it; the serializer classes describe it (OpenAPI) and
validate input."""

from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from invoicing.serializers import InvoiceSerializer, iso
from payments.models import PaymentAttemptStatus, RefundStatus
from subscriptions.serializers.subscriptions import PaymentMethodRefField


def attempt_data(attempt) -> dict:
    return {
        "id": str(attempt.id),
        "number": attempt.number,
        "amount": attempt.amount,
        "currency": attempt.currency,
        "status": attempt.status,
        "stripe_payment_intent_id": attempt.stripe_payment_intent_id or None,
        "stripe_charge_id": attempt.stripe_charge_id or None,
        "failure_code": attempt.failure_code or None,
        "decline_code": attempt.decline_code or None,
        "failure_message": attempt.failure_message or None,
        "next_retry_at": iso(attempt.next_retry_at),
        "created_at": iso(attempt.created_at),
        "updated_at": iso(attempt.updated_at),
    }


def refund_data(refund) -> dict:
    return {
        "id": str(refund.id),
        "invoice_id": str(refund.invoice_id),
        "number": refund.number,
        "amount": refund.amount,
        "currency": refund.currency,
        "reason": refund.reason,
        "method": refund.method,
        "status": refund.status,
        "stripe_refund_id": refund.stripe_refund_id or None,
        "credit_note_id": str(refund.credit_note_id),
        "credit_note_number": refund.credit_note.number,
        "created_at": iso(refund.created_at),
    }


class PaymentAttemptSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.IntegerField()
    amount = serializers.IntegerField()
    currency = StrictCharField()
    status = serializers.ChoiceField(choices=PaymentAttemptStatus.choices)
    stripe_payment_intent_id = StrictCharField(allow_null=True)
    stripe_charge_id = StrictCharField(allow_null=True)
    failure_code = StrictCharField(allow_null=True)
    decline_code = StrictCharField(allow_null=True)
    failure_message = StrictCharField(allow_null=True)
    next_retry_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class InvoicePaymentSerializer(InvoiceSerializer):
    """The invoice plus its payment attempts (oldest first; the last one is the latest)."""

    payment_attempts = PaymentAttemptSerializer(many=True)


class PayRequestSerializer(serializers.Serializer):
    payment_method_id = PaymentMethodRefField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=255,
        help_text="Our payment method id (UUID) or a Stripe pm_... id; default card when absent.",
    )


class RefundCreateSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, help_text="Minor units; at most what was paid")
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=480)


class RefundSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    invoice_id = serializers.UUIDField()
    number = serializers.IntegerField()
    amount = serializers.IntegerField()
    currency = StrictCharField()
    reason = StrictCharField()
    method = StrictCharField()
    status = serializers.ChoiceField(choices=RefundStatus.choices)
    stripe_refund_id = StrictCharField(allow_null=True)
    credit_note_id = serializers.UUIDField()
    credit_note_number = StrictCharField()
    created_at = serializers.DateTimeField()
