"""Response shapes of AR aging and the tenant statement (amounts in cents)."""

from rest_framework import serializers


class AgingBucketsSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    days_1_30 = serializers.IntegerField()
    days_31_60 = serializers.IntegerField()
    days_61_90 = serializers.IntegerField()
    days_over_90 = serializers.IntegerField()
    total = serializers.IntegerField()


class AgingTenantSerializer(AgingBucketsSerializer):
    tenant_id = serializers.UUIDField()
    tenant_name = serializers.CharField()
    invoices = serializers.IntegerField(help_text="Open invoices counted")


class ArAgingSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField()
    tenants = AgingTenantSerializer(many=True)
    totals = AgingBucketsSerializer()


class StatementLineSerializer(serializers.Serializer):
    date = serializers.DateField()
    document_type = serializers.CharField()
    document_id = serializers.CharField()
    number = serializers.CharField(allow_blank=True)
    description = serializers.CharField()
    debit = serializers.IntegerField()
    credit = serializers.IntegerField()
    balance = serializers.IntegerField()


class StatementSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    currency = serializers.CharField()
    # `from` is a keyword: declared below.
    to = serializers.DateField()
    opening_balance = serializers.IntegerField()
    lines = StatementLineSerializer(many=True)
    closing_balance = serializers.IntegerField()


StatementSerializer._declared_fields["from"] = serializers.DateField()
