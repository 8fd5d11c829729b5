"""Response shapes of the ledger's reports (amounts in cents)."""

from rest_framework import serializers


class TrialBalanceAccountSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    debit = serializers.IntegerField()
    credit = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    debit = serializers.IntegerField()
    credit = serializers.IntegerField()


class TrialBalanceSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField()
    accounts = TrialBalanceAccountSerializer(many=True)
    totals = TotalsSerializer()


class EntryLineSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="The account's code")
    tenant_id = serializers.UUIDField(allow_null=True)
    debit = serializers.IntegerField()
    credit = serializers.IntegerField()
    currency = serializers.CharField()


class EntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    posted_at = serializers.DateTimeField()
    event = serializers.CharField()
    document_type = serializers.CharField()
    document_id = serializers.CharField()
    lines = EntryLineSerializer(many=True)
