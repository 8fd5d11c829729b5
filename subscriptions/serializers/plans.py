"""Request and response shapes for `plans`."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField, StrictSlugField
from subscriptions.models import Plan
from subscriptions.serializers.fields import CurrencyField, QuantityField


def plain_number(value: Decimal):
    """Decimals as JSON numbers: integers where whole (10000), else exact (0.5)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


class PlanMetricInputSerializer(serializers.Serializer):
    metric_type = StrictCharField(max_length=64)
    limit = QuantityField(max_digits=20, decimal_places=6, min_value=Decimal(0))
    unit_price_cents = QuantityField(max_digits=20, decimal_places=6, min_value=Decimal(0))


class PlanCreateSerializer(serializers.Serializer):
    slug = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=100)
    description = StrictCharField(required=False, allow_blank=True, default="")
    amount = serializers.IntegerField(min_value=0, max_value=10**12)
    currency = CurrencyField(max_length=3, default="usd")
    interval = serializers.ChoiceField(choices=["month"], default="month")
    trial_period_days = serializers.IntegerField(min_value=0, max_value=730, default=0)
    metrics = PlanMetricInputSerializer(many=True, required=False, default=list)

    def to_internal_value(self, data):
        # Accept metrics as a list or as a {metric_type: {limit, unit_price_cents}} mapping.
        metrics = data.get("metrics") if isinstance(data, dict) else None
        if isinstance(metrics, dict):
            data = {
                **data,
                "metrics": [
                    {"metric_type": k, **v} if isinstance(v, dict) else {"metric_type": k}
                    for k, v in metrics.items()
                ],
            }
        return super().to_internal_value(data)


class PlanMetricSerializer(serializers.Serializer):
    limit = serializers.DecimalField(max_digits=20, decimal_places=6, coerce_to_string=False)
    unit_price_cents = serializers.DecimalField(
        max_digits=20, decimal_places=6, coerce_to_string=False
    )
    aggregation = StrictCharField()
    name = StrictCharField()
    unit = StrictCharField()


class PlanSerializer(serializers.ModelSerializer):
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "amount",
            "currency",
            "interval",
            "trial_period_days",
            "active",
            "metrics",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=PlanMetricSerializer()))
    def get_metrics(self, plan):
        return {
            pm.metric.metric_type: {
                "limit": plain_number(pm.included_quantity),
                "unit_price_cents": plain_number(pm.overage_unit_price),
                "aggregation": pm.metric.aggregation,
                "name": pm.metric.name,
                "unit": pm.metric.unit,
            }
            for pm in plan.plan_metrics.all()
        }
