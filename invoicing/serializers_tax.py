"""Request and response shapes of `tax/calculate` and the tax reports."""

from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from invoicing.services.taxation import PRODUCT_TYPES
from subscriptions.serializers.fields import CurrencyField
from tax.decision import KINDS


class CustomerAddressSerializer(serializers.Serializer):
    country = StrictCharField(
        max_length=2,
        min_length=2,
        help_text="ISO 3166-1 alpha-2 (any case); the guide's `UK` is accepted as GB.",
    )
    state = StrictCharField(
        max_length=6,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Required for US addresses: the state, e.g. CA",
    )
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True, allow_null=True)


class TaxCalculateSerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        min_value=0, max_value=10**15, help_text="Net amount in minor units (cents)"
    )
    currency = CurrencyField(max_length=3)
    customer_address = CustomerAddressSerializer()
    product_type = serializers.ChoiceField(
        choices=PRODUCT_TYPES, required=False, default="saas_subscription"
    )
    customer_vat_id = StrictCharField(
        max_length=32, required=False, allow_blank=True, allow_null=True
    )
    tax_exempt = serializers.BooleanField(required=False, default=False)
    tax_exempt_reason = StrictCharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    date = serializers.DateField(
        required=False, allow_null=True, help_text="The supply date (default: today, UTC)"
    )

    def to_service_kwargs(self) -> dict:
        data = self.validated_data
        address = data["customer_address"]
        return {
            "amount": data["amount"],
            "currency": data["currency"],
            "country": address["country"],
            "state": address.get("state") or "",
            "postal_code": address.get("postal_code") or "",
            "vat_id": data.get("customer_vat_id") or "",
            "tax_exempt": data.get("tax_exempt") or False,
            "tax_exempt_reason": data.get("tax_exempt_reason") or "",
            "product_type": data.get("product_type") or "saas_subscription",
            "on": data.get("date"),
        }


class TaxCalculationSerializer(serializers.Serializer):
    tax_rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, coerce_to_string=False, help_text="Percent, e.g. 8.25"
    )
    tax_amount = serializers.IntegerField()
    total = serializers.IntegerField()
    currency = StrictCharField()
    jurisdiction = StrictCharField()
    kind = serializers.ChoiceField(choices=KINDS)
    reverse_charge = serializers.BooleanField()
    exempt = serializers.BooleanField()
    reason = StrictCharField()
    legal_mention = StrictCharField(allow_blank=True)


class TaxReportRowSerializer(serializers.Serializer):
    jurisdiction = StrictCharField()
    kind = StrictCharField()
    rate = StrictCharField()
    currency = StrictCharField()
    taxable = serializers.IntegerField()
    tax = serializers.IntegerField()
    invoices = serializers.IntegerField()
    credit_notes = serializers.IntegerField()


class OssRowSerializer(TaxReportRowSerializer):
    country = StrictCharField()


class UsRowSerializer(TaxReportRowSerializer):
    state = StrictCharField()


class TaxTotalSerializer(serializers.Serializer):
    currency = StrictCharField()
    taxable = serializers.IntegerField()
    tax = serializers.IntegerField()


class OssReportSerializer(serializers.Serializer):
    quarter = StrictCharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    rows = OssRowSerializer(many=True)
    totals = TaxTotalSerializer(many=True)


class UsReportSerializer(serializers.Serializer):
    month = StrictCharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    rows = UsRowSerializer(many=True)
    totals = TaxTotalSerializer(many=True)
