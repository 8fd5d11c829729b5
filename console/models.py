"""The audit trail's event tables (django-pghistory), one per tracked finance model.

PostgreSQL triggers on each tracked table write a full snapshot of the row on every insert,
update (when a tracked field changes) and delete, so a `queryset.update()` inside a service is
recorded as surely as an admin form save. Each event links to the request's context (the staff
user and the URL, from `billing_project.shared.audit.AuditContextMiddleware`). The console app
sits at the top layer, so it may name every app's models; the tracked apps know nothing of it.

Not tracked, on purpose: high-volume tables (usage events and rollups), the ledger (journal
entries are immutable already), invoice and credit-note lines (written with their document, which
is tracked), and stores of outside events (webhooks, idempotency records, the outbox).
"""

import pghistory
from django.contrib.admin.models import LogEntry

from dunning import models as dunning
from invoicing import models as invoicing
from payments import models as payments
from subscriptions import models as subscriptions
from tax import models as tax

_MODULES = {
    "subscriptions": subscriptions,
    "invoicing": invoicing,
    "payments": payments,
    "dunning": dunning,
    "tax": tax,
}

# (app_label.Model, fields left out of the snapshot). Secrets and hashes never enter the trail.
TRACKED: list[tuple[str, tuple[str, ...]]] = [
    ("subscriptions.Tenant", ()),
    ("subscriptions.Subscription", ()),
    ("subscriptions.Plan", ()),
    ("subscriptions.PlanMetric", ()),
    ("subscriptions.Metric", ()),
    ("subscriptions.Coupon", ()),
    ("subscriptions.Contract", ()),
    ("subscriptions.PaymentMethod", ()),
    ("subscriptions.ApiToken", ("token_hash",)),
    ("invoicing.Invoice", ()),
    ("invoicing.CreditNote", ()),
    ("invoicing.ManualPayment", ()),
    ("invoicing.InvoiceSettings", ()),
    ("payments.PaymentAttempt", ()),
    ("payments.Refund", ()),
    ("dunning.DunningCase", ()),
    ("dunning.DunningPolicy", ()),
    ("dunning.DunningStep", ()),
    ("dunning.TenantDunningPolicy", ()),
    ("tax.TaxRate", ()),
    ("tax.TaxRegistration", ()),
]


def _event_model(label: str, exclude: tuple[str, ...]):
    app_label, _, name = label.partition(".")
    tracked = getattr(_MODULES[app_label], name)
    return pghistory.create_event_model(
        tracked,
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=list(exclude),
        # "+": no reverse accessor on the tracked model (DunningCase already has `events`).
        obj_field=pghistory.ObjForeignKey(related_name="+", related_query_name="+"),
        model_name=f"{tracked.__name__}Event",
        app_label="console",
        abstract=False,
        meta={"verbose_name": f"{tracked._meta.verbose_name} event"},
    )


EVENT_MODELS = {label: _event_model(label, exclude) for label, exclude in TRACKED}


class AuditTrail(LogEntry):
    """The admin's "Audit trail" page (a proxy: no table). Its changelist merges the trigger
    events above with Django's admin LogEntry rows (what admin forms and actions write)."""

    class Meta:
        proxy = True
        verbose_name = "audit trail"
        verbose_name_plural = "audit trail"
        default_permissions = ("view",)
