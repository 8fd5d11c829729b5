"""Request/response shapes of the usage API.

Requests are validated by `usage.validation` (plain Python, fast enough for 10,000-record
batches); the input serializers below describe exactly that for the OpenAPI schema. Responses
are built as plain dicts: quantities are exact JSON numbers (`orjson.Fragment` holding the
decimal literal, integers where whole), times ISO 8601 UTC with `Z`.
"""

from datetime import UTC, datetime
from decimal import Decimal

import orjson
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from usage import validation


def iso_z(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_number(value: Decimal):
    """An exact JSON number: an int where whole, else the decimal literal itself (0.1)."""
    if value == value.to_integral_value():
        return int(value)
    return orjson.Fragment(format(value.normalize(), "f").encode())


def event_data(event, *, metric_type: str | None = None) -> dict:
    """A stored event (model instance or services.StoredEvent) as the API shows it."""
    return {
        "id": str(event.id),
        "tenant_id": str(event.tenant_id),
        "metric_type": metric_type or event.metric_type,
        "quantity": json_number(event.quantity),
        "timestamp": iso_z(event.timestamp),
        "idempotency_key": event.idempotency_key,
        "unique_key": event.unique_key,
        "received_at": iso_z(event.received_at),
    }


class _Number(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=24, decimal_places=6, coerce_to_string=False, **kwargs)


# The input serializers below only describe requests for the OpenAPI schema; `usage.validation`
# parses them. Both are built from validation's constants, and a test walks the generated schema
# field by field against the parser (usage/tests/test_input_schema.py).


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "number",
                "minimum": 0,
                "maximum": int(validation.MAX_QUANTITY),
                "multipleOf": float(validation.QUANTUM),
            },
            {"type": "string", "pattern": f"^{validation.NUMERIC_TEXT}$"},
        ],
        "description": "A JSON number or a numeric string, kept exactly as written: >= 0, "
        "<= 10^12, at most 6 decimals. A JSON number with more than 15 significant digits "
        "is read exactly too.",
    }
)
class _Quantity(serializers.Field):
    pass


def _key(**kwargs):
    return serializers.CharField(
        min_length=1,
        max_length=validation.MAX_KEY_LENGTH,
        required=False,
        allow_null=True,
        **kwargs,
    )


class UsageBatchRecordSerializer(serializers.Serializer):
    metric_type = serializers.CharField(
        min_length=1,
        max_length=validation.METRIC_TYPE_MAX_LENGTH,
        help_text="A metric of the catalog (GET metrics); an unknown one answers 400.",
    )
    quantity = _Quantity()
    timestamp = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="ISO 8601 (default now; at most 5 minutes ahead; not before the tenant's "
        "oldest open period). Without an offset it is read as UTC.",
    )
    date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Instead of timestamp, a daily report: stored at 12:00 of the date in the "
        "tenant's timezone, clamped to now when that is in the future and to the current "
        "period's start when the date is that period's first day. Dates after today are "
        "rejected.",
    )
    idempotency_key = _key(
        help_text="Unique per tenant, forever: a repeat is the original event, counted once."
    )
    unique_key = _key(
        help_text="What a unique_count metric counts distinct values of (required there)."
    )


class UsageEventInputSerializer(UsageBatchRecordSerializer):
    date = None  # a single event has a timestamp only
    tenant_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Staff: the tenant (required). Tenant tokens: ignored when it is their own "
        "tenant, 404 when it names another.",
    )


class UsageBatchInputSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=UsageBatchRecordSerializer(),
        min_length=1,
        max_length=validation.MAX_BATCH,
        help_text="1 to 10,000 records; all are stored or none. A bad record answers 400 with "
        'errors {"records": {"<index>": {"<field>": ["reason"]}}}.',
    )
    tenant_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="Staff: the tenant (required)."
    )


class UsageBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(
        help_text="Records whose idempotency key was already stored or repeated in the batch."
    )


class UsageEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    metric_type = serializers.CharField()
    quantity = _Number()
    timestamp = serializers.DateTimeField()
    idempotency_key = serializers.CharField(allow_null=True)
    unique_key = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField()


class UsageEventRecordedSerializer(UsageEventSerializer):
    duplicate = serializers.BooleanField(
        help_text="True when the idempotency key was already used: this is the original event "
        "and nothing was counted."
    )
    message = serializers.CharField(required=False)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class MetricUsageSerializer(serializers.Serializer):
    current = _Number()
    limit = _Number()
    overages = _Number()
    unit_price_cents = _Number()


class CurrentUsageSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    currency = serializers.CharField()
    current_period = PeriodSerializer()
    usage_metrics = serializers.DictField(child=MetricUsageSerializer())
    projected_overage_cost = serializers.IntegerField(help_text="Cents.")


def current_usage_data(usage) -> dict:
    return {
        "tenant_id": str(usage.tenant_id),
        "currency": usage.currency,
        "current_period": {"start": iso_z(usage.period_start), "end": iso_z(usage.period_end)},
        "usage_metrics": {
            m.metric_type: {
                "current": json_number(m.current),
                "limit": json_number(m.limit),
                "overages": json_number(m.overages),
                "unit_price_cents": json_number(m.unit_price_cents),
            }
            for m in usage.metrics
        },
        "projected_overage_cost": usage.projected_overage_cost,
    }
