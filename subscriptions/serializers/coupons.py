"""Request and response shapes for `coupons`."""

from decimal import Decimal

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from subscriptions.models import Coupon
from subscriptions.models.subscriptions import CouponDuration
from subscriptions.serializers.fields import CurrencyField, PercentField


class CouponCreateSerializer(serializers.Serializer):
    code = StrictCharField(max_length=64)
    name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    percent_off = PercentField(
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
    currency = CurrencyField(max_length=3, required=False, allow_null=True)
    duration = serializers.ChoiceField(choices=CouponDuration.choices)
    duration_in_months = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=120
    )
    max_redemptions = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**9
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


# The request's documented shape: a percentage or an amount (exactly one), and months only for a
# repeating coupon, as CouponTerms requires. CouponCreateSerializer validates.
class _CouponRequestBase(serializers.Serializer):
    code = StrictCharField(max_length=64)
    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    max_redemptions = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**9
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="In the future."
    )


def _duration(pattern: str, description: str):
    return extend_schema_field({"type": "string", "pattern": pattern, "description": description})(
        type("DurationField", (serializers.CharField,), {})
    )()


class _PercentOff(_CouponRequestBase):
    percent_off = PercentField(max_digits=5, decimal_places=2)


class _AmountOff(_CouponRequestBase):
    amount_off = serializers.IntegerField(min_value=1, max_value=10**12)
    currency = CurrencyField(required=False, allow_null=True, help_text="Default usd.")


class PercentOffCoupon(_PercentOff):
    duration = _duration("^(once|forever)$", "once or forever")


class PercentOffRepeatingCoupon(_PercentOff):
    duration = _duration("^repeating$", "repeating")
    duration_in_months = serializers.IntegerField(min_value=1, max_value=120)


class AmountOffCoupon(_AmountOff):
    duration = _duration("^(once|forever)$", "once or forever")


class AmountOffRepeatingCoupon(_AmountOff):
    duration = _duration("^repeating$", "repeating")
    duration_in_months = serializers.IntegerField(min_value=1, max_value=120)


COUPON_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="CouponCreate",
    serializers=[
        PercentOffCoupon,
        PercentOffRepeatingCoupon,
        AmountOffCoupon,
        AmountOffRepeatingCoupon,
    ],
    resource_type_field_name=None,
)


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
