"""Subscription lifecycle. Every service locks the subscription row and takes `now`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction

from billing_project.shared.errors import Conflict, ValidationFailed
from subscriptions.models import Plan, Subscription, SubscriptionChange, Tenant
from subscriptions.models.subscriptions import ChangeKind, SubscriptionStatus
from subscriptions.models.tenants import TenantStatus
from subscriptions.pricing import Period, billing_period, period_days, price_upgrade
from subscriptions.pricing.proration import remaining_days
from subscriptions.selectors import contracted_tenant_ids, plan_terms
from subscriptions.services.coupons import coupon_for_period, coupon_for_periods, coupon_redeem

MAX_TRIAL_DAYS = 730

__all__ = [
    "PeriodAdvance",
    "TrialEnded",
    "account_suspended_refuse",
    "coupon_for_period",
    "coupon_for_periods",
    "subscription_advance_period",
    "subscription_advance_periods_plain",
    "subscription_cancel",
    "subscription_cancel_now",
    "subscription_change_plan",
    "subscription_create",
    "subscription_create_check",
    "subscription_end_trial",
    "subscription_reactivate",
    "subscriptions_lock_due",
]


@dataclass(frozen=True)
class TrialEnded:
    subscription: Subscription
    period: Period
    period_index: int
    plan: Plan
    remaining_days: int
    period_days: int
    ended_at: datetime


@dataclass(frozen=True)
class PeriodAdvance:
    subscription: Subscription
    ended_period: Period
    ended_period_index: int
    plan_at_end: Plan
    new_period: Period | None
    new_period_index: int | None
    new_plan: Plan | None
    cancelled: bool
    trialing: bool


def _record(subscription, kind, now, actor="", **fields) -> SubscriptionChange:
    return SubscriptionChange.objects.create(
        subscription=subscription,
        kind=kind,
        effective_at=fields.pop("effective_at", now),
        actor=actor,
        created_at=now,
        **fields,
    )


def _locked(subscription: Subscription) -> Subscription:
    # Lock without joins: PostgreSQL re-checks a joined FOR UPDATE row against the old join
    # partner after a concurrent update of plan_id and would drop it. Read relations afterwards.
    Subscription.objects.select_for_update().filter(pk=subscription.pk).values_list("pk").get()
    return Subscription.objects.select_related("plan", "tenant", "pending_plan").get(
        pk=subscription.pk
    )


def _current_period(subscription: Subscription) -> Period:
    return Period(start=subscription.current_period_start, end=subscription.current_period_end)


def _live_exists() -> Conflict:
    return Conflict("The tenant already has a live subscription.", code="subscription_exists")


def account_suspended_refuse(*, tenant: Tenant) -> None:
    """While dunning has the tenant suspended, no new subscription and no plan change (paying,
    adding a card and recording usage still work)."""
    if tenant.status == TenantStatus.SUSPENDED:
        raise Conflict(
            "The account is suspended for non-payment: pay the open invoice (POST "
            "invoices/{id}/pay) or add a card to restore it.",
            code="account_suspended",
        )


def subscription_live_refuse(*, tenant: Tenant) -> None:
    """One live subscription per tenant (checked again under the tenant's lock on create)."""
    if Subscription.objects.live().filter(tenant_id=tenant.pk).exists():
        raise _live_exists()


def subscription_create_check(
    *, tenant: Tenant, plan: Plan, trial_period_days: int | None = None
) -> int:
    """What subscription_create would refuse, without writing: returns the trial days."""
    account_suspended_refuse(tenant=tenant)
    trial_days = plan.trial_period_days if trial_period_days is None else trial_period_days
    if (
        isinstance(trial_days, bool)
        or not isinstance(trial_days, int)
        or not (0 <= trial_days <= MAX_TRIAL_DAYS)
    ):
        raise ValidationFailed(
            f"trial_period_days must be between 0 and {MAX_TRIAL_DAYS}.",
            errors={"trial_period_days": [f"Must be between 0 and {MAX_TRIAL_DAYS}."]},
        )
    if not plan.active:
        raise ValidationFailed("This plan is not available.", errors={"plan_id": ["Inactive."]})
    if plan.currency != tenant.currency:
        raise ValidationFailed(
            f"The plan is billed in {plan.currency}, the tenant in {tenant.currency}.",
            errors={"plan_id": ["Currency does not match the tenant's."]},
        )
    return trial_days


def subscription_create(
    *,
    tenant: Tenant,
    plan: Plan,
    now: datetime,
    actor: str = "",
    trial_period_days: int | None = None,
    coupon_code: str | None = None,
) -> Subscription:
    trial_days = subscription_create_check(
        tenant=tenant, plan=plan, trial_period_days=trial_period_days
    )
    period = billing_period(anchor=now, tz=tenant.timezone, index=0)
    try:
        with transaction.atomic():
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            subscription_live_refuse(tenant=tenant)
            subscription = Subscription.objects.create(
                tenant=tenant,
                plan=plan,
                status=SubscriptionStatus.TRIALING if trial_days else SubscriptionStatus.ACTIVE,
                started_at=now,
                period_index=0,
                current_period_start=period.start,
                current_period_end=period.end,
                trial_end=now + timedelta(days=trial_days) if trial_days else None,
                created_at=now,
                updated_at=now,
            )
            if coupon_code:
                coupon_redeem(
                    code=coupon_code, subscription=subscription, now=now, currency=plan.currency
                )
            _record(
                subscription,
                ChangeKind.CREATED,
                now,
                actor,
                to_plan=plan,
                period_start=period.start,
                period_end=period.end,
            )
    except IntegrityError:
        raise _live_exists() from None
    return subscription


def subscription_change_plan(
    *, subscription: Subscription, plan: Plan, prorate: bool, now: datetime, actor: str = ""
) -> tuple[Subscription, SubscriptionChange]:
    """Upgrade at once (prorated charge recorded when asked); downgrade at period end."""
    with transaction.atomic():
        sub = _locked(subscription)
        if sub.status == SubscriptionStatus.CANCELLED:
            raise Conflict("The subscription is cancelled.", code="subscription_cancelled")
        account_suspended_refuse(tenant=sub.tenant)
        if plan.pk == sub.plan_id:
            if sub.pending_plan_id is None:
                raise Conflict("The subscription is already on this plan.", code="same_plan")
            # Asking for the current plan while a downgrade waits: stay, drop the downgrade.
            change = _record(
                sub,
                ChangeKind.DOWNGRADE_CANCELLED,
                now,
                actor,
                from_plan=sub.pending_plan,
                to_plan=plan,
            )
            sub.pending_plan = None
            sub.updated_at = now
            sub.save(update_fields=["pending_plan", "updated_at"])
            return sub, change
        if plan.currency != sub.plan.currency:
            raise ValidationFailed(
                "The new plan is in another currency.",
                errors={"plan_id": ["Currency does not match."]},
            )
        if not plan.active:
            raise ValidationFailed("This plan is not available.", errors={"plan_id": ["Inactive."]})
        old = sub.plan
        period = _current_period(sub)
        if plan.amount > old.amount:
            fields = {
                "from_plan": old,
                "to_plan": plan,
                "prorate": prorate,
                "period_start": period.start,
                "period_end": period.end,
            }
            if prorate and sub.status != SubscriptionStatus.TRIALING:
                tz = sub.tenant.timezone
                line = price_upgrade(
                    old=plan_terms(old), new=plan_terms(plan), period=period, at=now, tz=tz
                )
                fields.update(
                    proration_numerator=remaining_days(period=period, at=now, tz=tz),
                    proration_denominator=period_days(period=period, tz=tz),
                    proration_amount=line.amount,
                )
            sub.plan = plan
            sub.pending_plan = None
            sub.updated_at = now
            sub.save(update_fields=["plan", "pending_plan", "updated_at"])
            change = _record(sub, ChangeKind.UPGRADED, now, actor, **fields)
        else:
            sub.pending_plan = plan
            sub.updated_at = now
            sub.save(update_fields=["pending_plan", "updated_at"])
            change = _record(
                sub,
                ChangeKind.DOWNGRADE_SCHEDULED,
                now,
                actor,
                from_plan=old,
                to_plan=plan,
                effective_at=sub.current_period_end,
                period_start=period.start,
                period_end=period.end,
            )
    return sub, change


def subscription_cancel(
    *, subscription: Subscription, now: datetime, reason: str = "", actor: str = ""
) -> Subscription:
    """Cancel at period end: service continues to current_period_end; a pending downgrade drops."""
    with transaction.atomic():
        sub = _locked(subscription)
        if sub.status == SubscriptionStatus.CANCELLED:
            raise Conflict("The subscription is already cancelled.", code="subscription_cancelled")
        if sub.cancel_at_period_end:
            return sub
        sub.cancel_at_period_end = True
        sub.cancellation_reason = reason or ""
        sub.pending_plan = None
        sub.updated_at = now
        sub.save(
            update_fields=[
                "cancel_at_period_end",
                "cancellation_reason",
                "pending_plan",
                "updated_at",
            ]
        )
        _record(
            sub,
            ChangeKind.CANCEL_SCHEDULED,
            now,
            actor,
            from_plan=sub.plan,
            effective_at=sub.current_period_end,
            note=reason[:500] if reason else "",
        )
    return sub


def _cancel(sub: Subscription, *, ended: Period, at: datetime, now: datetime, actor: str = ""):
    """Mark the locked subscription cancelled at `at`: the PeriodAdvance that bills `ended`'s
    arrears in a final invoice."""
    plan_at_end = sub.plan
    sub.status = SubscriptionStatus.CANCELLED
    sub.cancelled_at = at
    sub.updated_at = now
    sub.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancel_at_period_end",
            "cancellation_reason",
            "pending_plan",
            "updated_at",
        ]
    )
    _record(
        sub,
        ChangeKind.CANCELLED,
        now,
        actor,
        effective_at=at,
        from_plan=plan_at_end,
        note=sub.cancellation_reason[:500],
    )
    return PeriodAdvance(
        sub, ended, sub.period_index, plan_at_end, None, None, None, cancelled=True, trialing=False
    )


def subscription_cancel_now(
    *, subscription: Subscription, now: datetime, reason: str, actor: str = ""
) -> PeriodAdvance | None:
    """Cancel at once (dunning's cancel step): service ends now, the current period is cut at
    `now` for its arrears (the fee was billed in advance). None when already cancelled, or cut
    at its first instant (no arrears)."""
    with transaction.atomic():
        sub = _locked(subscription)
        if sub.status == SubscriptionStatus.CANCELLED:
            return None
        end = min(max(now, sub.current_period_start), sub.current_period_end)
        sub.cancel_at_period_end = False
        sub.cancellation_reason = reason
        sub.pending_plan = None
        if end <= sub.current_period_start:
            _cancel(sub, ended=_current_period(sub), at=now, now=now, actor=actor)
            return None
        return _cancel(
            sub, ended=Period(start=sub.current_period_start, end=end), at=now, now=now, actor=actor
        )


def subscription_reactivate(
    *, subscription: Subscription, now: datetime, actor: str = ""
) -> Subscription:
    with transaction.atomic():
        sub = _locked(subscription)
        if sub.status == SubscriptionStatus.CANCELLED or now >= sub.current_period_end:
            raise Conflict(
                "The subscription has ended; start a new one.", code="subscription_ended"
            )
        if not sub.cancel_at_period_end:
            return sub
        sub.cancel_at_period_end = False
        sub.cancellation_reason = ""
        sub.updated_at = now
        sub.save(update_fields=["cancel_at_period_end", "cancellation_reason", "updated_at"])
        _record(sub, ChangeKind.REACTIVATED, now, actor, to_plan=sub.plan)
    return sub


def subscription_end_trial(*, subscription: Subscription, now: datetime) -> TrialEnded | None:
    """Move a trial whose end has passed to `active`; says what remains of its period."""
    with transaction.atomic():
        sub = _locked(subscription)
        if sub.status != SubscriptionStatus.TRIALING or sub.trial_end is None:
            return None
        period = _current_period(sub)
        # A trial ending at or after this period's end is settled by the period boundary.
        if now < sub.trial_end or not period.contains(sub.trial_end):
            return None
        tz = sub.tenant.timezone
        sub.status = SubscriptionStatus.ACTIVE
        sub.updated_at = now
        sub.save(update_fields=["status", "updated_at"])
        _record(
            sub,
            ChangeKind.TRIAL_ENDED,
            now,
            effective_at=sub.trial_end,
            to_plan=sub.plan,
            period_start=period.start,
            period_end=period.end,
        )
        return TrialEnded(
            subscription=sub,
            period=period,
            period_index=sub.period_index,
            plan=sub.plan,
            remaining_days=remaining_days(period=period, at=sub.trial_end, tz=tz),
            period_days=period_days(period=period, tz=tz),
            ended_at=sub.trial_end,
        )


def subscription_advance_period(
    *, subscription: Subscription, now: datetime
) -> PeriodAdvance | None:
    """Advance one period if it has ended at `now`: cancel, apply a downgrade, or roll over."""
    with transaction.atomic():
        sub = _locked(subscription)
        if sub.status == SubscriptionStatus.CANCELLED or now < sub.current_period_end:
            return None
        ended = _current_period(sub)
        ended_index = sub.period_index
        plan_at_end = sub.plan
        if sub.cancel_at_period_end:
            return _cancel(sub, ended=ended, at=ended.end, now=now)
        new_index = ended_index + 1
        new_period = billing_period(anchor=sub.started_at, tz=sub.tenant.timezone, index=new_index)
        if sub.pending_plan_id:
            _record(
                sub,
                ChangeKind.DOWNGRADE_APPLIED,
                now,
                effective_at=new_period.start,
                from_plan=sub.plan,
                to_plan=sub.pending_plan,
            )
            sub.plan = sub.pending_plan
            sub.pending_plan = None
        trialing = sub.status == SubscriptionStatus.TRIALING and (
            sub.trial_end is not None and sub.trial_end > new_period.start
        )
        if sub.status == SubscriptionStatus.TRIALING and not trialing:
            sub.status = SubscriptionStatus.ACTIVE
            _record(sub, ChangeKind.TRIAL_ENDED, now, effective_at=sub.trial_end, to_plan=sub.plan)
        sub.period_index = new_index
        sub.current_period_start = new_period.start
        sub.current_period_end = new_period.end
        sub.updated_at = now
        sub.save()
        return PeriodAdvance(
            sub,
            ended,
            ended_index,
            plan_at_end,
            new_period,
            new_index,
            sub.plan,
            cancelled=False,
            trialing=trialing,
        )


def subscriptions_lock_due(*, subscription_ids, now: datetime) -> list:
    """Lock, for the caller's transaction, those of `subscription_ids` that are due at `now`
    (live, period ended), skipping rows another transaction holds: two billing cycles never wait
    for each other, and the one that skipped a row finds it billed when it retries it later."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("subscriptions_lock_due must run inside a transaction")
    return list(
        Subscription.objects.live()
        .select_for_update(skip_locked=True)
        .filter(pk__in=subscription_ids, current_period_end__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


_ADVANCE_MANY_SQL = f"""
UPDATE {Subscription._meta.db_table} AS s
   SET period_index = v.period_index, current_period_start = v.period_start,
       current_period_end = v.period_end, updated_at = %(now)s
  FROM unnest(%(id)s::uuid[], %(index)s::int[], %(start)s::timestamptz[],
              %(end)s::timestamptz[]) AS v(id, period_index, period_start, period_end)
 WHERE s.id = v.id
"""  # noqa: S608


def subscription_advance_periods_plain(
    *, subscription_ids, now: datetime
) -> tuple[list[PeriodAdvance], list]:
    """Advance, in bulk, the plain roll-overs among subscriptions the caller has locked: live,
    not trialing, no cancellation or downgrade pending, exactly one period boundary due. Each is
    what `subscription_advance_period` would make of it (no change record: nothing but the
    period changes); a contracted tenant is not plain (its invoice is priced by the contract).
    Returns the advances, in id order, and the ids left for
    `subscription_advance_period` one by one (the other cases, and catch-up)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "subscription_advance_periods_plain must run inside the lock's transaction"
        )
    subs = (
        Subscription.objects.select_related("plan", "tenant")
        .filter(pk__in=subscription_ids)
        .order_by("pk")
    )
    advances: list[PeriodAdvance] = []
    rest = []
    subs = list(subs)
    contracted = contracted_tenant_ids(tenant_ids={sub.tenant_id for sub in subs})
    for sub in subs:
        if sub.tenant_id in contracted or sub.tenant.parent_id is not None:
            # contract pricing (and true-ups), and a child's charge (a section of its parent's
            # consolidated invoice), go one by one
            rest.append(sub.pk)
            continue
        if (
            sub.status in (SubscriptionStatus.CANCELLED, SubscriptionStatus.TRIALING)
            or now < sub.current_period_end
        ):
            rest.append(sub.pk)  # cancelled or not due: the one-by-one path says so and stops
            continue
        if sub.cancel_at_period_end or sub.pending_plan_id:
            rest.append(sub.pk)
            continue
        new_index = sub.period_index + 1
        new_period = billing_period(anchor=sub.started_at, tz=sub.tenant.timezone, index=new_index)
        if new_period.end <= now:
            rest.append(sub.pk)  # catch-up: more than one boundary
            continue
        ended = _current_period(sub)
        ended_index = sub.period_index
        sub.period_index = new_index
        sub.current_period_start = new_period.start
        sub.current_period_end = new_period.end
        sub.updated_at = now
        advances.append(
            PeriodAdvance(
                sub,
                ended,
                ended_index,
                sub.plan,
                new_period,
                new_index,
                sub.plan,
                cancelled=False,
                trialing=False,
            )
        )
    if advances:
        with connection.cursor() as cursor:
            cursor.execute(
                _ADVANCE_MANY_SQL,
                {
                    "now": now,
                    "id": [a.subscription.pk for a in advances],
                    "index": [a.new_period_index for a in advances],
                    "start": [a.new_period.start for a in advances],
                    "end": [a.new_period.end for a in advances],
                },
            )
    return advances, rest
