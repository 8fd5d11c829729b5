"""Request and response shapes for `contracts` (the guide's "Custom Pricing & Contracts")."""

from datetime import datetime
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from subscriptions.models import Contract, ContractVersion
from subscriptions.pricing import contract_active_at, contract_term_end
from subscriptions.pricing.contracts import PAYMENT_TERMS

_RATE = {
    "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d{1,6})?$"}]
}


# --- request (documented nested; the service parses and names each bad field) ---------------


class OverageRatesField(serializers.DictField):
    pass


class CustomPricingRequest(serializers.Serializer):
    base_price = serializers.IntegerField(
        min_value=0, help_text="Cents per month (replaces the plan fee)."
    )
    user_price = serializers.DecimalField(
        max_digits=18, decimal_places=6, min_value=Decimal(0),
        help_text="Cents per active user (the period's active_users) per month.",
    )  # fmt: skip
    overage_rates = extend_schema_field(
        {
            "type": "object",
            "additionalProperties": _RATE,
            "description": "metric_type -> cents per unit above the plan's included quantity.",
        }
    )(OverageRatesField)(required=False)


class VolumeDiscountRequest(serializers.Serializer):
    threshold = serializers.IntegerField(min_value=0, help_text="Pre-tax invoice subtotal, cents.")
    discount = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0.01"), max_value=Decimal(100),
        help_text="Percent off the invoice's subtotal.",
    )  # fmt: skip


@extend_schema_field(
    {
        "type": "string",
        "description": 'net_30, net_60, due_on_receipt, or "Net 30"/"Net 60"',
        "example": "Net 60",
    }
)
class PaymentTermsField(StrictCharField):
    pass


class ContractTermsRequest(serializers.Serializer):
    annual_minimum = serializers.IntegerField(
        min_value=0, required=False, help_text="Cents per contract year."
    )
    custom_pricing = CustomPricingRequest()
    payment_terms = PaymentTermsField(required=False)
    auto_renewal = serializers.BooleanField(required=False)
    volume_discounts = VolumeDiscountRequest(many=True, required=False)


class ContractCreateRequest(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    contract_terms = ContractTermsRequest()
    start_date = serializers.DateField(required=False, allow_null=True, help_text="Default: now.")
    end_date = serializers.DateField(
        required=False, allow_null=True,
        help_text="First day after the term (tenant's time zone). Default: a year after the start.",
    )  # fmt: skip


class ContractUpdateRequest(serializers.Serializer):
    contract_terms = ContractTermsRequest(
        required=False, partial=True, help_text="The fields that change (a new version)."
    )
    end_date = serializers.DateField(required=False, allow_null=True)
    note = StrictCharField(max_length=500, required=False, allow_blank=True)


class ContractCreateSerializer(serializers.Serializer):
    """What the view reads; `contract_terms` is parsed by the service (exact field errors)."""

    tenant_id = serializers.UUIDField()
    contract_terms = serializers.JSONField()
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class ContractUpdateSerializer(serializers.Serializer):
    contract_terms = serializers.JSONField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    FIXED = ("tenant_id", "start_date")

    def validate(self, attrs):
        # Unknown fields are ignored (README, API); these exist and may not change.
        fixed = [name for name in self.FIXED if name in self.initial_data]
        if fixed:
            raise serializers.ValidationError({name: ["Cannot be changed."] for name in fixed})
        return attrs


# --- response --------------------------------------------------------------------------------


def _number(text) -> Decimal:
    return Decimal(str(text))


def terms_out(terms: dict) -> dict:
    """Stored terms (decimals as strings) as JSON numbers."""
    pricing = terms["custom_pricing"]
    return {
        "annual_minimum": terms["annual_minimum"],
        "custom_pricing": {
            "base_price": pricing["base_price"],
            "user_price": _number(pricing["user_price"]),
            "overage_rates": {m: _number(r) for m, r in pricing["overage_rates"].items()},
        },
        "payment_terms": terms["payment_terms"],
        "auto_renewal": terms["auto_renewal"],
        "volume_discounts": [
            {"threshold": d["threshold"], "discount": _number(d["discount"])}
            for d in terms["volume_discounts"]
        ],
    }


class ContractTermsOut(serializers.Serializer):
    annual_minimum = serializers.IntegerField()
    custom_pricing = serializers.DictField()
    payment_terms = serializers.ChoiceField(choices=PAYMENT_TERMS)
    auto_renewal = serializers.BooleanField()
    volume_discounts = serializers.ListField(child=serializers.DictField())


class ContractVersionSerializer(serializers.ModelSerializer):
    contract_terms = serializers.SerializerMethodField()

    class Meta:
        model = ContractVersion
        fields = ["version", "contract_terms", "end_date", "note", "created_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field(ContractTermsOut)
    def get_contract_terms(self, version) -> dict:
        return terms_out(version.terms)


class ContractSerializer(serializers.ModelSerializer):
    tenant_id = serializers.UUIDField(read_only=True)
    status = serializers.SerializerMethodField()
    current_term_end = serializers.SerializerMethodField()
    contract_terms = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "id",
            "tenant_id",
            "status",
            "version",
            "start_date",
            "end_date",
            "starts_at",
            "current_term_end",
            "contract_terms",
            "versions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _now(self) -> datetime:
        return self.context["now"]

    def _current(self, contract) -> ContractVersion:
        return next(v for v in contract.versions.all() if v.version == contract.version)

    def _term(self, contract) -> dict:
        return {
            "starts_at": contract.starts_at,
            "ends_at": contract.ends_at,
            "auto_renewal": bool(self._current(contract).terms.get("auto_renewal")),
            "tz": contract.tenant.timezone,
        }

    @extend_schema_field({"type": "string", "enum": ["scheduled", "active", "ended"]})
    def get_status(self, contract) -> str:
        now = self._now()
        if now < contract.starts_at:
            return "scheduled"
        return "active" if contract_active_at(**self._term(contract), at=now) else "ended"

    def get_current_term_end(self, contract) -> datetime:
        end = contract_term_end(**self._term(contract), at=max(self._now(), contract.starts_at))
        return serializers.DateTimeField().to_representation(end)

    @extend_schema_field(ContractTermsOut)
    def get_contract_terms(self, contract) -> dict:
        return terms_out(self._current(contract).terms)

    @extend_schema_field(ContractVersionSerializer(many=True))
    def get_versions(self, contract) -> list:
        versions = sorted(contract.versions.all(), key=lambda v: v.version)
        return ContractVersionSerializer(versions, many=True).data
