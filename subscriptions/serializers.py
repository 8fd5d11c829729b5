from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField, StrictEmailField, StrictSlugField
from subscriptions.models import Plan, Tenant
from subscriptions.models.tenants import PaymentTerms, ServiceLevel, TenantStatus


def plain_number(value: Decimal):
    """Decimals as JSON numbers: integers where whole (10000), else exact (0.5)."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


class TenantCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    email = StrictEmailField(max_length=254)
    country = StrictCharField(max_length=2, min_length=2)
    state = StrictCharField(max_length=10, required=False, allow_blank=True, allow_null=True)
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    address_line1 = StrictCharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    city = StrictCharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    vat_id = StrictCharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    timezone = StrictCharField(max_length=64, required=False, allow_null=True)
    currency = StrictCharField(max_length=3, required=False, allow_null=True)
    payment_terms = serializers.ChoiceField(
        choices=PaymentTerms.choices, required=False, allow_null=True
    )
    tax_exempt = serializers.BooleanField(required=False, allow_null=True)
    tax_exempt_reason = StrictCharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    parent_id = serializers.UUIDField(required=False, allow_null=True)

    def to_service_kwargs(self) -> dict:
        """Absent and null optional fields take the service's defaults."""
        return {k: v for k, v in self.validated_data.items() if v is not None}


class TenantUpdateSerializer(TenantCreateSerializer):
    name = StrictCharField(max_length=200, required=False)
    email = StrictEmailField(max_length=254, required=False)
    country = StrictCharField(max_length=2, min_length=2, required=False)
    status = serializers.ChoiceField(choices=TenantStatus.choices, required=False)
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, required=False)

    def to_service_kwargs(self) -> dict:
        blank_if_null = {
            "state",
            "postal_code",
            "address_line1",
            "city",
            "vat_id",
            "tax_exempt_reason",
        }
        data = {}
        for key, value in self.validated_data.items():
            if value is None and key in blank_if_null:
                value = ""
            if value is None and key != "parent_id":
                continue
            data[key] = value
        return data


class TenantSerializer(serializers.ModelSerializer):
    parent_id = serializers.UUIDField(allow_null=True, read_only=True)
    state = StrictCharField(allow_null=True)
    postal_code = StrictCharField(allow_null=True)
    vat_id = StrictCharField(allow_null=True)
    stripe_customer_id = StrictCharField(allow_null=True)

    class Meta:
        model = Tenant
        fields = [
            "id",
            "name",
            "email",
            "address_line1",
            "city",
            "country",
            "state",
            "postal_code",
            "vat_id",
            "timezone",
            "currency",
            "payment_terms",
            "tax_exempt",
            "tax_exempt_reason",
            "parent_id",
            "status",
            "service_level",
            "stripe_customer_id",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for field in ("state", "postal_code", "vat_id", "stripe_customer_id"):
            data[field] = data[field] or None
        return data


class PlanMetricInputSerializer(serializers.Serializer):
    metric_type = StrictCharField(max_length=64)
    limit = serializers.DecimalField(max_digits=20, decimal_places=6, min_value=Decimal(0))
    unit_price_cents = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=Decimal(0)
    )


class PlanCreateSerializer(serializers.Serializer):
    slug = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=100)
    description = StrictCharField(required=False, allow_blank=True, default="")
    amount = serializers.IntegerField(min_value=0, max_value=10**12)
    currency = StrictCharField(max_length=3, default="usd")
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
