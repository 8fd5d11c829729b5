"""Request and response shapes for `payment-methods`."""

from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from subscriptions.models import PaymentMethod


class PaymentMethodCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["card"], default="card", help_text="Only `card` is accepted."
    )
    stripe_payment_method_id = StrictCharField(
        max_length=255, help_text="A Stripe PaymentMethod id, e.g. pm_..."
    )
    tenant_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Staff only: the tenant to attach it to."
    )


class PaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = [
            "id",
            "type",
            "brand",
            "last4",
            "exp_month",
            "exp_year",
            "is_default",
            "stripe_payment_method_id",
            "created_at",
        ]
        read_only_fields = fields
