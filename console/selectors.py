"""Reads for the tenant page: the customer's whole story, from every app's own rows and
selectors (console sits above them all and writes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from billing_project.shared.money import format_money
from dunning.models import DunningCase, DunningEvent
from invoicing.ar_reports import BUCKETS, ar_aging
from invoicing.models import CreditNote, Invoice, ManualPayment
from ledger.selectors import receivable_for_tenant
from payments.models import PaymentAttempt, Refund
from subscriptions.models import CouponRedemption, SubscriptionChange, Tenant

TIMELINE_LIMIT = 100


def tenant_balance(*, tenant: Tenant) -> dict[str, int]:
    """The ledger's receivable per currency (the tenant's own currency always present)."""
    balance = receivable_for_tenant(tenant_id=tenant.pk)
    balance.setdefault(tenant.currency, 0)
    return dict(sorted(balance.items()))


def tenant_open_due(*, tenant: Tenant) -> dict[str, int]:
    """What the open invoices say is due, per currency (equal to the balance: ledger_check)."""
    due: dict[str, int] = {}
    for currency, amount in Invoice.objects.filter(
        tenant=tenant, status="open", amount_due__gt=0
    ).values_list("currency", "amount_due"):
        due[currency] = due.get(currency, 0) + amount
    return due


def tenant_aging(*, tenant: Tenant, as_of: date) -> list[dict]:
    """The AR aging report's row of this tenant, per currency ({bucket: amount, total})."""
    rows = []
    for report in ar_aging(as_of=as_of, tenant_id=tenant.pk):
        for row in report["tenants"]:
            rows.append({"currency": report["currency"], **row})
    return rows


AGING_BUCKETS = BUCKETS


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    text: str
    url_name: str = ""
    url_arg: object = None


def _money(amount, currency) -> str:
    return format_money(amount or 0, currency)


def tenant_timeline(*, tenant: Tenant, limit: int = TIMELINE_LIMIT) -> list[TimelineItem]:
    """What happened, newest first: subscription changes and coupons, invoices (issued, paid,
    void, written off), payments (transfers, card attempts, refunds), credit notes, dunning
    events and staff actions on the tenant (the admin's log). At most `limit` of each kind are
    read, then the newest `limit` of them all kept."""
    items: list[TimelineItem] = []

    def add(at, kind, text, url_name="", url_arg=None):
        if at is not None:
            items.append(TimelineItem(at, kind, text, url_name, url_arg))

    sub_url, invoice_url = (
        "admin:subscriptions_subscription_change",
        "admin:invoicing_invoice_change",
    )
    changes = SubscriptionChange.objects.filter(subscription__tenant=tenant)
    for c in changes.select_related("from_plan", "to_plan").order_by("-created_at")[:limit]:
        text = c.get_kind_display()
        plans = " to ".join(str(p) for p in (c.from_plan, c.to_plan) if p is not None)
        text += f": {plans}" if plans else ""
        if c.proration_amount:
            text += f", proration {_money(c.proration_amount, tenant.currency)}"
        text += f" by {c.actor}" if c.actor else ""
        add(c.created_at, "subscription", text, sub_url, c.subscription_id)
    redemptions = CouponRedemption.objects.filter(tenant=tenant).select_related("coupon")
    for r in redemptions.order_by("-redeemed_at")[:limit]:
        add(r.redeemed_at, "coupon", f"Coupon {r.coupon.code} applied", sub_url, r.subscription_id)
    invoices = Invoice.objects.filter(tenant=tenant).exclude(issued_at=None)
    for inv in invoices.order_by("-issued_at")[:limit]:
        total = _money(inv.total, inv.currency)
        add(
            inv.issued_at,
            "invoice",
            f"Invoice {inv.number} issued ({inv.kind}): {total}",
            invoice_url,
            inv.pk,
        )
        add(inv.paid_at, "invoice", f"Invoice {inv.number} paid", invoice_url, inv.pk)
        add(inv.voided_at, "invoice", f"Invoice {inv.number} voided", invoice_url, inv.pk)
        add(
            inv.uncollectible_at,
            "invoice",
            f"Invoice {inv.number} written off",
            invoice_url,
            inv.pk,
        )
    payments = ManualPayment.objects.filter(invoice__tenant=tenant).select_related("invoice")
    for p in payments.order_by("-created_at")[:limit]:
        text = f"{p.get_method_display()} of {_money(p.amount, p.invoice.currency)}"
        text += f" on {p.invoice.number}, received {p.paid_on}"
        text += f", ref {p.reference}" if p.reference else ""
        text += f", by {p.recorded_by}" if p.recorded_by else ""
        add(p.created_at, "payment", text, invoice_url, p.invoice_id)
    attempts = PaymentAttempt.objects.filter(tenant=tenant).select_related("invoice")
    for a in attempts.order_by("-created_at")[:limit]:
        text = f"Card charge {a.number} of {_money(a.amount, a.currency)} on {a.invoice.number}"
        text += f": {a.status}"
        text += f" ({a.decline_code or a.failure_code})" if a.status == "failed" else ""
        add(a.created_at, "payment", text, "admin:payments_paymentattempt_change", a.pk)
    refunds = Refund.objects.filter(tenant=tenant).select_related("invoice")
    for f in refunds.order_by("-created_at")[:limit]:
        text = f"Refund of {_money(f.amount, f.currency)} on {f.invoice.number}: {f.status}"
        add(f.created_at, "payment", text, "admin:payments_refund_change", f.pk)
    notes = CreditNote.objects.filter(tenant=tenant).select_related("invoice")
    for n in notes.order_by("-issued_at")[:limit]:
        text = f"Credit note {n.number} of {_money(n.total, n.currency)} on {n.invoice.number}"
        text += f": {n.reason}" if n.reason else ""
        add(n.issued_at, "credit note", text, "admin:invoicing_creditnote_change", n.pk)
    events = DunningEvent.objects.filter(case__tenant=tenant).select_related("case__invoice")
    for e in events.order_by("-at")[:limit]:
        text = f"Dunning {e.get_kind_display().lower()} on {e.case.invoice.number}"
        text += f": {e.outcome}" if e.outcome else ""
        text += f" by {e.actor}" if e.actor else ""
        add(e.at, "dunning", text, "admin:dunning_dunningcase_change", e.case_id)
    logs = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Tenant), object_id=str(tenant.pk)
    ).select_related("user")
    for log in logs.order_by("-action_time")[:limit]:
        text = f"{log.get_change_message() or 'Changed'} ({log.user.get_username()})"
        add(log.action_time, "staff", text)
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def tenant_cases(*, tenant: Tenant):
    return (
        DunningCase.objects.filter(tenant=tenant).select_related("invoice").order_by("-opened_at")
    )
