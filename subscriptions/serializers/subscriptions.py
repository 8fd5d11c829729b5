from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from subscriptions.models import Coupon, Subscription, SubscriptionChange

PAYMENT_METHOD_REF_PATTERN = (
    r"^(pm_[A-Za-z0-9_]{1,252}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12})$"
)


@extend_schema_field(
    {"type": "string", "maxLength": 255, "pattern": PAYMENT_METHOD_REF_PATTERN, "nullable": True}
)
class PaymentMethodRefField(StrictCharField):
    """Our payment-method id or a Stripe `pm_...` id (`payment_method_resolve` reads it); any
    other string is a 400 there."""


class SubscriptionCreateSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField(required=False, allow_null=True)
    plan_id = StrictCharField(max_length=64, help_text="Plan UUID or slug")
    payment_method_id = PaymentMethodRefField(
        max_length=255,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Our payment-method id or a Stripe pm_... id",
    )
    trial_period_days = serializers.IntegerField(
        min_value=0, max_value=730, required=False, allow_null=True
    )
    coupon_code = StrictCharField(max_length=64, required=False, allow_null=True, allow_blank=True)


class SubscriptionUpdateSerializer(serializers.Serializer):
    plan_id = StrictCharField(max_length=64, required=False, allow_null=True)
    prorate = serializers.BooleanField(required=False, allow_null=True)
    cancel_at_period_end = serializers.BooleanField(required=False, allow_null=True)
    cancellation_reason = StrictCharField(
        max_length=500, required=False, allow_blank=True, allow_null=True
    )

    def validate(self, attrs):
        # Optional fields may be absent or null (product.md section 5): null means absent.
        attrs = {key: value for key, value in attrs.items() if value is not None}
        changing = "plan_id" in attrs
        cancelling = "cancel_at_period_end" in attrs
        if changing == cancelling:
            raise serializers.ValidationError(
                "Send either plan_id (with prorate) or cancel_at_period_end."
            )
        attrs.setdefault("prorate", True)
        return attrs


class SubscriptionUpdateSchema(OpenApiSerializerExtension):
    """The schema says what `validate` does: exactly one of `plan_id` and
    `cancel_at_period_end` is given (not null)."""

    target_class = SubscriptionUpdateSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["oneOf"] = [
            {"required": ["plan_id"], "properties": {"plan_id": {"type": "string"}}},
            {
                "required": ["cancel_at_period_end"],
                "properties": {"cancel_at_period_end": {"type": "boolean"}},
            },
        ]
        return schema


class CouponSummarySerializer(serializers.Serializer):
    code = StrictCharField()
    percent_off = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False
    )
    amount_off = serializers.IntegerField(allow_null=True)
    currency = StrictCharField(allow_null=True)
    duration = StrictCharField()
    duration_in_months = serializers.IntegerField(allow_null=True)


class ProrationSerializer(serializers.Serializer):
    fraction = StrictCharField()
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    amount = serializers.IntegerField()
    currency = StrictCharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()


def coupon_summary(coupon: Coupon) -> dict:
    return {
        "code": coupon.code,
        "percent_off": _plain(coupon.percent_off),
        "amount_off": coupon.amount_off,
        "currency": coupon.currency or None,
        "duration": coupon.duration,
        "duration_in_months": coupon.duration_in_months,
    }


def _plain(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


class SubscriptionSerializer(serializers.ModelSerializer):
    tenant_id = serializers.UUIDField(read_only=True)
    plan_id = serializers.UUIDField(read_only=True)
    plan = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    pending_plan_id = serializers.UUIDField(read_only=True, allow_null=True)
    stripe_customer_id = serializers.SerializerMethodField()
    coupon = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "id",
            "tenant_id",
            "plan_id",
            "plan",
            "status",
            "current_period_start",
            "current_period_end",
            "trial_end",
            "cancel_at_period_end",
            "cancellation_reason",
            "cancelled_at",
            "pending_plan_id",
            "stripe_customer_id",
            "coupon",
            "created_at",
        ]
        read_only_fields = fields

    def get_stripe_customer_id(self, sub) -> str | None:
        return sub.tenant.stripe_customer_id or None

    @extend_schema_field(CouponSummarySerializer(allow_null=True))
    def get_coupon(self, sub):
        redemption = getattr(sub, "coupon_redemption", None)
        return coupon_summary(redemption.coupon) if redemption else None


class SubscriptionChangeResultSerializer(SubscriptionSerializer):
    proration = serializers.SerializerMethodField()

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "proration"]
        read_only_fields = fields

    @extend_schema_field(ProrationSerializer(allow_null=True))
    def get_proration(self, sub):
        change: SubscriptionChange | None = self.context.get("change")
        if change is None or change.proration_amount is None:
            return None
        return {
            "fraction": change.proration_fraction,
            "numerator": change.proration_numerator,
            "denominator": change.proration_denominator,
            "amount": change.proration_amount,
            "currency": sub.plan.currency,
            "period_start": serializers.DateTimeField().to_representation(change.period_start),
            "period_end": serializers.DateTimeField().to_representation(change.period_end),
        }
