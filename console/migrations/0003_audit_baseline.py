"""A baseline for the audit trail: one `snapshot` event per row that existed before the triggers
did, so the first change of an old row shows its before/after like any other. Historical models
only (each event table's columns at this point of the history)."""

from django.db import migrations

# The event models of 0001, frozen here (console.models.TRACKED may grow later).
EVENT_MODELS = (
    "TenantEvent", "SubscriptionEvent", "PlanEvent", "PlanMetricEvent", "MetricEvent",
    "CouponEvent", "ContractEvent", "PaymentMethodEvent", "ApiTokenEvent", "InvoiceEvent",
    "CreditNoteEvent", "ManualPaymentEvent", "InvoiceSettingsEvent", "PaymentAttemptEvent",
    "RefundEvent", "DunningCaseEvent", "DunningPolicyEvent", "DunningStepEvent",
    "TenantDunningPolicyEvent", "TaxRateEvent", "TaxRegistrationEvent",
)  # fmt: skip


def snapshot(apps, schema_editor):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for name in EVENT_MODELS:
        event_model = apps.get_model("console", name)
        tracked = event_model._meta.get_field("pgh_obj").related_model
        columns = [
            f.column for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")
        ]
        listed = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(event_model._meta.db_table)} "
                f"({listed}, pgh_created_at, pgh_label, pgh_obj_id) "
                f"SELECT {listed}, NOW(), 'snapshot', {quote(tracked._meta.pk.column)} "
                f"FROM {quote(tracked._meta.db_table)}"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0002_staff_roles"),
        ("dunning", "0003_audit_events"),
        ("invoicing", "0008_audit_events"),
        ("payments", "0003_audit_events"),
        ("subscriptions", "0007_audit_events"),
        ("tax", "0003_audit_events"),
    ]

    operations = [migrations.RunPython(snapshot, migrations.RunPython.noop)]
