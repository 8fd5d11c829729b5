"""Invoice JSON. `InvoiceSerializer` is the one definition of an invoice answer (the OpenAPI
schema shows it). Answers are built by the fast paths that follow it: `invoice_data` here and,
for the list, PostgreSQL (`invoicing.sql`); invoicing/tests/test_invoice_list.py holds both to
it field by field and checks every answer against the schema. The input serializers say what
the services accept."""

from datetime import UTC, datetime
from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from invoicing.models import InvoiceKind, InvoiceStatus, LineKind
from invoicing.models.invoices import PaymentMethodKind
from invoicing.services.custom import MAX_CUSTOM_FIELDS, MAX_LINES, CustomLine


def iso(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def number(value: Decimal):
    value = Decimal(value)
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def line_data(line) -> dict:
    return {
        "id": str(line.id),
        "kind": line.kind,
        "description": line.description,
        "quantity": number(line.quantity),
        "unit_price": number(line.unit_price),
        "amount": line.amount,
        "period_start": iso(line.period_start),
        "period_end": iso(line.period_end),
        "explanation": line.explanation or {},
        "section_id": str(line.section_id) if line.section_id else None,
    }


def invoice_data(invoice) -> dict:
    return {
        "id": str(invoice.id),
        "number": invoice.number,
        "tenant_id": str(invoice.tenant_id),
        "subscription_id": str(invoice.subscription_id) if invoice.subscription_id else None,
        "kind": invoice.kind,
        "status": invoice.status,
        "currency": invoice.currency,
        "period_start": iso(invoice.period_start),
        "period_end": iso(invoice.period_end),
        "subtotal": invoice.subtotal,
        "discount": invoice.discount,
        "tax": invoice.tax,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "amount_due": invoice.amount_due,
        "issued_at": iso(invoice.issued_at),
        "due_at": iso(invoice.due_at),
        "paid_at": iso(invoice.paid_at),
        "voided_at": iso(invoice.voided_at),
        "custom_fields": invoice.custom_fields or [],
        "tax_decision": invoice.tax_decision,
        "lines": [line_data(line) for line in invoice.lines.all() if line.amount != 0],
    }


def credit_note_data(note) -> dict:
    return {
        "id": str(note.id),
        "number": note.number,
        "invoice_id": str(note.invoice_id),
        "tenant_id": str(note.tenant_id),
        "currency": note.currency,
        "total": note.total,
        "tax": note.tax,
        "reason": note.reason,
        "issued_at": iso(note.issued_at),
        "lines": [
            {"id": str(li.id), "description": li.description, "amount": li.amount}
            for li in note.lines.all()
        ],
    }


# --- schema / input -----------------------------------------------------------------------------


class CustomFieldSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    value = StrictCharField(max_length=300, allow_blank=True)


class InvoiceLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=LineKind.choices)
    description = StrictCharField()
    quantity = serializers.DecimalField(max_digits=24, decimal_places=6, coerce_to_string=False)
    unit_price = serializers.DecimalField(max_digits=24, decimal_places=6, coerce_to_string=False)
    amount = serializers.IntegerField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    explanation = serializers.DictField()
    section_id = serializers.UUIDField(
        allow_null=True,
        help_text="On a consolidated invoice: the child's section (`tax_decision.sections`)",
    )


class InvoiceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = StrictCharField(allow_null=True)
    tenant_id = serializers.UUIDField()
    subscription_id = serializers.UUIDField(allow_null=True)
    kind = serializers.ChoiceField(choices=InvoiceKind.choices)
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    currency = StrictCharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    subtotal = serializers.IntegerField()
    discount = serializers.IntegerField()
    tax = serializers.IntegerField()
    total = serializers.IntegerField()
    amount_paid = serializers.IntegerField()
    amount_due = serializers.IntegerField()
    issued_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    voided_at = serializers.DateTimeField(allow_null=True)
    custom_fields = CustomFieldSerializer(many=True)
    tax_decision = serializers.DictField(allow_null=True)
    lines = InvoiceLineSerializer(many=True)


class BillingPeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


# Input shapes say what the services accept, so the schema is no looser than the validation:
# what the schema cannot say (a total equal to quantity x unit_price, the tenant's currency, a
# due date not in the past) is a 400 from the service.
# Line items are checked by the service (errors keyed `line_items[i]`); these fields only tell
# the schema what it accepts.
@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"})
class _LineDescriptionField(StrictCharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^(?=\.?\d)(?=.*[1-9])\d{0,18}(?:\.\d{0,6})?$",
    }
)
class _PositiveDecimalField(serializers.DecimalField):
    pass


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^(?=\.?\d)\d{0,18}(?:\.\d{0,6})?$"}
)
class _NonNegativeDecimalField(serializers.DecimalField):
    pass


class CustomLineSerializer(serializers.Serializer):
    description = _LineDescriptionField(max_length=500, allow_blank=True)
    quantity = _PositiveDecimalField(max_digits=24, decimal_places=6)
    unit_price = _NonNegativeDecimalField(max_digits=24, decimal_places=6)
    total = serializers.IntegerField(min_value=-(10**15), max_value=10**15)

    def validate(self, attrs):
        # A PATCH is partial, and DRF lets that reach nested items: a line is always whole.
        missing = [name for name in self.fields if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs


def _line_items(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=CustomLineSerializer(),
        min_length=1,
        max_length=MAX_LINES,
        error_messages={
            "min_length": "At least one line item is required.",
            "max_length": f"At most {MAX_LINES} line items.",
        },
        **kwargs,
    )


class CustomInvoiceUpdateSerializer(serializers.Serializer):
    billing_period = BillingPeriodSerializer(required=False, allow_null=True)
    line_items = _line_items(required=False)
    due_date = serializers.DateTimeField(required=False, allow_null=True)
    # A ListField, not `many=True`: DRF passes a list's allow_null on to its items.
    custom_fields = serializers.ListField(
        child=CustomFieldSerializer(),
        max_length=MAX_CUSTOM_FIELDS,
        required=False,
        allow_null=True,
        error_messages={"max_length": f"At most {MAX_CUSTOM_FIELDS} custom fields."},
    )
    notes = StrictCharField(required=False, allow_blank=True, allow_null=True)
    currency = StrictCharField(
        max_length=3,
        required=False,
        allow_null=True,
        validators=[RegexValidator(r"^[A-Za-z]{3}$", "A three-letter currency code.")],
        help_text="The tenant's currency (ISO 4217), if given.",
    )

    def to_service_data(self) -> dict:
        data = dict(self.validated_data)
        if "line_items" in data:
            data["line_items"] = [
                CustomLine(
                    description=item["description"],
                    quantity=item["quantity"],
                    unit_price=item["unit_price"],
                    total=item["total"],
                )
                for item in data["line_items"]
            ]
        if data.get("custom_fields") is not None:
            data["custom_fields"] = [dict(field) for field in data["custom_fields"]]
        return data


class CustomInvoiceCreateSerializer(CustomInvoiceUpdateSerializer):
    tenant_id = serializers.UUIDField()
    line_items = _line_items()

    def to_service_data(self) -> dict:
        data = super().to_service_data()
        data.pop("tenant_id")
        return data


class PaymentCreateSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=10**15)
    method = serializers.ChoiceField(choices=PaymentMethodKind.choices, default="bank_transfer")
    reference = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    date = serializers.DateField(required=False, allow_null=True)
    received_on = serializers.DateField(
        required=False, allow_null=True, help_text="The day the money arrived (same as `date`)."
    )

    def validate(self, attrs):
        given = {attrs.get("date"), attrs.get("received_on")} - {None}
        if len(given) > 1:
            raise serializers.ValidationError({"received_on": ["Differs from date."]})
        attrs["date"] = given.pop() if given else None
        return attrs


class CreditNoteLineInputSerializer(serializers.Serializer):
    description = StrictCharField(
        max_length=500, validators=[RegexValidator(r"\S", "May not be blank.")]
    )
    amount = serializers.IntegerField(min_value=1, max_value=10**15)


class CreditNoteCreateSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=CreditNoteLineInputSerializer(),
        min_length=1,
        error_messages={"min_length": "At least one line is required."},
    )
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")


class CreditNoteLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    description = StrictCharField()
    amount = serializers.IntegerField()


class CreditNoteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = StrictCharField()
    invoice_id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    currency = StrictCharField()
    total = serializers.IntegerField()
    tax = serializers.IntegerField(help_text="The part of `total` that reverses tax")
    reason = StrictCharField()
    issued_at = serializers.DateTimeField()
    lines = CreditNoteLineSerializer(many=True)
