"""Use cases that span subscriptions and invoicing: start a subscription and bill its first
period; change its plan and bill the proration. One transaction each: a failure leaves nothing
(except a card attached at Stripe, which no rollback undoes: everything that can refuse the
start is checked before it)."""

from datetime import datetime

from django.db import transaction

from billing_project.shared.errors import NotFound
from invoicing.models import Invoice
from invoicing.services.generation import (
    invoice_first_period,
    invoice_period_advance,
    invoice_upgrade,
)
from subscriptions.models import Plan, Subscription, SubscriptionChange, Tenant
from subscriptions.models.subscriptions import ChangeKind, SubscriptionStatus
from subscriptions.pricing import Period
from subscriptions.selectors import contracts_for_tenant
from subscriptions.services import coupons as coupon_services
from subscriptions.services import subscriptions as subscription_services
from subscriptions.services.payment_methods import (
    payment_method_resolve,
    payment_method_set_default,
)


def _payment_method_make_default(*, tenant: Tenant, ref: str, now: datetime) -> None:
    """`ref` (our id or a Stripe pm_... id) becomes the tenant's default card."""
    method = payment_method_resolve(tenant=tenant, ref=ref, now=now, attach=True, make_default=True)
    if method is None:
        raise NotFound("Payment method not found.")
    payment_method_set_default(payment_method=method, now=now)


def subscription_start_and_invoice(
    *,
    tenant: Tenant,
    plan: Plan,
    now: datetime,
    actor: str = "",
    trial_period_days: int | None = None,
    coupon_code: str | None = None,
    payment_method_ref: str | None = None,
) -> tuple[Subscription, Invoice | None]:
    """`POST subscriptions`. `payment_method_ref` (our id or a Stripe pm_... id) becomes the
    tenant's default card, once everything else that can refuse the request was checked."""
    subscription_services.account_suspended_refuse(tenant=tenant)
    subscription_services.subscription_live_refuse(tenant=tenant)
    if payment_method_ref:
        if coupon_code:
            coupon_services.coupon_check(code=coupon_code, now=now, currency=plan.currency)
        subscription_services.subscription_create_check(
            tenant=tenant, plan=plan, trial_period_days=trial_period_days
        )
        _payment_method_make_default(tenant=tenant, ref=payment_method_ref, now=now)
    with transaction.atomic():
        subscription = subscription_services.subscription_create(
            tenant=tenant,
            plan=plan,
            now=now,
            actor=actor,
            trial_period_days=trial_period_days,
            coupon_code=coupon_code,
        )
        invoice = None
        if subscription.status != SubscriptionStatus.TRIALING:
            subscription.tenant = tenant
            subscription.plan = plan
            invoice = invoice_first_period(subscription=subscription, now=now)
    return subscription, invoice


def _fee_under_contract(subscription: Subscription) -> bool:
    """A contract prices the current period's fee (its base price replaced the plan's)."""
    sub = Subscription.objects.select_related("tenant").get(pk=subscription.pk)
    period = Period(start=sub.current_period_start, end=sub.current_period_end)
    return any(
        contract.covers_fee(period)
        for contract in contracts_for_tenant(tenant_id=sub.tenant_id, tz=sub.tenant.timezone)
    )


def subscription_change_plan_and_invoice(
    *, subscription: Subscription, plan: Plan, prorate: bool, now: datetime, actor: str = ""
) -> tuple[Subscription, SubscriptionChange, Invoice | None]:
    """Change the plan and bill the upgrade's proration; under a contract that priced this
    period's fee the plan's price difference is not owed (the contract's base price replaced
    the plan fee), so nothing is prorated: the new plan's included quantities apply at once."""
    if prorate and _fee_under_contract(subscription):
        prorate = False
    with transaction.atomic():
        subscription, change = subscription_services.subscription_change_plan(
            subscription=subscription, plan=plan, prorate=prorate, now=now, actor=actor
        )
        invoice = None
        if change.kind == ChangeKind.UPGRADED and change.proration_amount:
            invoice = invoice_upgrade(subscription=subscription, change=change, now=now)
    return subscription, change, invoice


def subscription_cancel_now_and_invoice(
    *, subscription_id, reason: str, now: datetime, actor: str = ""
) -> tuple[bool, Invoice | None]:
    """Cancel a live subscription at once (dunning's cancel step) and bill what the cut period
    owes in arrears: a `final` invoice with its overages, only if any. Returns (cancelled now,
    the final invoice or None); (False, None) when it was already cancelled."""
    with transaction.atomic():
        subscription = Subscription(pk=subscription_id)
        was_live = Subscription.objects.live().filter(pk=subscription_id).exists()
        advance = subscription_services.subscription_cancel_now(
            subscription=subscription, now=now, reason=reason, actor=actor
        )
        invoice = None
        if advance is not None:
            invoice = invoice_period_advance(advance=advance, now=now)
    return was_live, invoice
