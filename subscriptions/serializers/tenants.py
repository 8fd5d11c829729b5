"""Request and response shapes for `tenants`."""

from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField, StrictEmailField
from subscriptions.models import Tenant
from subscriptions.models.tenants import PaymentTerms, ServiceLevel, TenantStatus
from subscriptions.serializers.fields import CountryField, CurrencyField, TimezoneField


class TenantCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    email = StrictEmailField(max_length=254)
    country = CountryField(max_length=2, min_length=2)
    state = StrictCharField(max_length=10, required=False, allow_blank=True, allow_null=True)
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    address_line1 = StrictCharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    city = StrictCharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    vat_id = StrictCharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    timezone = TimezoneField(max_length=64, required=False, allow_null=True)
    currency = CurrencyField(max_length=3, required=False, allow_null=True)
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
    country = CountryField(max_length=2, min_length=2, required=False)
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
