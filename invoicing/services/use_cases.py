"""Use cases that span subscriptions and invoicing: start a subscription and bill its first
period; change its plan and bill the proration. One transaction each: a failure leaves nothing."""

from datetime import datetime

from django.db import transaction

from invoicing.models import Invoice
from invoicing.services.generation import invoice_first_period, invoice_upgrade
from subscriptions.models import Plan, Subscription, SubscriptionChange, Tenant
from subscriptions.models.subscriptions import ChangeKind, SubscriptionStatus
from subscriptions.services import subscriptions as subscription_services


def subscription_start_and_invoice(
    *,
    tenant: Tenant,
    plan: Plan,
    now: datetime,
    actor: str = "",
    trial_period_days: int | None = None,
    coupon_code: str | None = None,
) -> tuple[Subscription, Invoice | None]:
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


def subscription_change_plan_and_invoice(
    *, subscription: Subscription, plan: Plan, prorate: bool, now: datetime, actor: str = ""
) -> tuple[Subscription, SubscriptionChange, Invoice | None]:
    with transaction.atomic():
        subscription, change = subscription_services.subscription_change_plan(
            subscription=subscription, plan=plan, prorate=prorate, now=now, actor=actor
        )
        invoice = None
        if change.kind == ChangeKind.UPGRADED and change.proration_amount:
            invoice = invoice_upgrade(subscription=subscription, change=change, now=now)
    return subscription, change, invoice
