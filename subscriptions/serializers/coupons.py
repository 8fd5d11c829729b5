"""Request and response shapes for `coupons`."""

from decimal import Decimal

from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from subscriptions.models import Coupon
from subscriptions.models.subscriptions import CouponDuration


class CouponCreateSerializer(serializers.Serializer):
    code = StrictCharField(max_length=64)
    name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    percent_off = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
    )
    amount_off = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**12
    )
    currency = StrictCharField(max_length=3, required=False, allow_null=True)
    duration = serializers.ChoiceField(choices=CouponDuration.choices)
    duration_in_months = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=120
    )
    max_redemptions = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**9
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class CouponSerializer(serializers.ModelSerializer):
    percent_off = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False
    )
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Coupon
        fields = [
            "id",
            "code",
            "name",
            "percent_off",
            "amount_off",
            "currency",
            "duration",
            "duration_in_months",
            "max_redemptions",
            "times_redeemed",
            "expires_at",
            "active",
            "created_at",
        ]
        read_only_fields = fields

    def get_currency(self, coupon) -> str | None:
        return coupon.currency or None
