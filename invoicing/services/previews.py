"""Previews: the next invoice as the cycle would issue it, and what a plan change would bill.

Each runs the very services that bill (period advance, trial end, plan change, invoice issue)
inside a transaction that is always rolled back, so a preview equals to the cent what would be
issued, and nothing stays: no invoice, no change record, no number (the sequence row is locked
until the rollback, which returns the number), no outbox row, no closed usage period. The
answers are built before the rollback, with `id` and `number` left out (they never existed).
"""

from datetime import datetime

from django.db import transaction

from billing_project.shared.errors import NotFound
from invoicing.models import Invoice
from invoicing.serializers import invoice_data, iso
from invoicing.services.generation import invoice_period_advance, invoice_trial_end
from invoicing.services.subscription_billing import subscription_change_plan_and_invoice
from subscriptions.models import Plan, Subscription
from subscriptions.models.subscriptions import SubscriptionStatus
from subscriptions.selectors import subscription_live_for_tenant
from subscriptions.services.subscriptions import (
    subscription_advance_period,
    subscription_end_trial,
)


class _Preview(Exception):
    """Carries the answer out of the transaction it rolls back."""

    def __init__(self, answer):
        super().__init__("preview")
        self.answer = answer


def _rolled_back(run):
    try:
        with transaction.atomic():
            raise _Preview(run())
    except _Preview as preview:
        return preview.answer


def _data(invoice: Invoice | None) -> dict | None:
    if invoice is None:
        return None
    data = invoice_data(invoice)
    data["id"] = None
    data["number"] = None
    data["contract_version"] = (
        invoice.contract_version.version if invoice.contract_version_id else None
    )
    for line in data["lines"]:
        line["id"] = None
    return data


def _next_invoice(*, subscription: Subscription, now: datetime) -> Invoice | None:
    """Inside the preview's transaction: issue the subscription's next invoice at the moment
    the cycle would (a trial ending inside the period first, else the period's end)."""
    sub = Subscription.objects.select_related("tenant").get(pk=subscription.pk)
    if sub.status == SubscriptionStatus.CANCELLED:
        return None
    if (
        sub.status == SubscriptionStatus.TRIALING
        and sub.trial_end is not None
        and sub.trial_end < sub.current_period_end
    ):
        at = max(now, sub.trial_end)
        ended = subscription_end_trial(subscription=sub, now=at)
        invoice = invoice_trial_end(ended=ended, now=at, deliver=False) if ended else None
        if invoice is not None:
            return invoice
    at = max(now, sub.current_period_end)
    advance = subscription_advance_period(subscription=sub, now=at)
    if advance is None:
        return None
    return invoice_period_advance(advance=advance, now=at, deliver=False)


def invoice_upcoming(*, tenant_id, now: datetime) -> dict:
    """The tenant's next invoice (fee, usage so far, contract terms, discounts) as it would be
    issued; `invoice` is None when nothing would be owed."""
    sub = subscription_live_for_tenant(tenant_id=tenant_id)
    if sub is None:
        raise NotFound("The tenant has no live subscription.", code="no_subscription")

    def run():
        invoice = _next_invoice(subscription=sub, now=now)
        return {"tenant_id": str(tenant_id), "subscription_id": str(sub.pk),
                "invoice": _data(invoice)}  # fmt: skip

    return _rolled_back(run)


def subscription_change_preview(
    *, subscription: Subscription, plan: Plan, prorate: bool, now: datetime, actor: str = ""
) -> dict:
    """What `PATCH subscriptions/{id} {plan_id, prorate}` would do now: the change, its
    proration invoice (None when none) and the next period invoice after it. The same refusals
    (409 same plan, suspended account, ...) as the change itself."""

    def run():
        sub, change, proration = subscription_change_plan_and_invoice(
            subscription=subscription, plan=plan, prorate=prorate, now=now, actor=actor
        )
        return {
            "subscription_id": str(sub.pk),
            "change": {
                "kind": change.kind,
                "from_plan_id": str(change.from_plan_id) if change.from_plan_id else None,
                "to_plan_id": str(change.to_plan_id) if change.to_plan_id else None,
                "effective_at": iso(change.effective_at),
            },
            "proration_invoice": _data(proration),
            "next_invoice": _data(_next_invoice(subscription=sub, now=now)),
        }

    return _rolled_back(run)
