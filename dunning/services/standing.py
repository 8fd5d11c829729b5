"""Staff changes to a tenant's standing: suspend, restore, cancel (the admin's tenant actions).

A tenant's status and service level are otherwise dunning's to set (`status.py`, from its
cases); these are the only other writers, through the same service (`tenants_billing_status_set`
in subscriptions), so the live subscription follows the tenant as it does under dunning.

- suspend: `suspended` / `degraded` (the live subscription `suspended`); refused on a cancelled
  tenant. It holds until restored, or until dunning recomputes the tenant's status from its
  cases (one of them moving on, or being paid): dunning's status is the one of record.
- restore: back to what the tenant's open dunning cases say (`active` / `full` without any),
  i.e. a staff suspension is lifted; refused on a cancelled tenant (start a new subscription).
- cancel: the live subscription ends now (its final invoice bills the cut period's overages,
  as dunning's cancel step does), then `cancelled` / `none`.

An action whose outcome already holds returns the tenant unchanged; one the state forbids raises
Conflict (409 `invalid_tenant_status`).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from billing_project.shared.errors import Conflict
from dunning.services.status import tenants_status_refresh
from invoicing.services.subscription_billing import subscription_cancel_now_and_invoice
from subscriptions.models import Subscription, Tenant
from subscriptions.models.tenants import ServiceLevel, TenantStatus
from subscriptions.services.billing_status import tenants_billing_status_set


def _locked(tenant_id) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant_id)


def _refuse(action: str, tenant: Tenant) -> Conflict:
    return Conflict(
        f"Cannot {action} a tenant whose status is {tenant.status}.", code="invalid_tenant_status"
    )


def tenant_suspend(*, tenant_id, now: datetime, actor: str = "") -> Tenant:
    with transaction.atomic():
        tenant = _locked(tenant_id)
        if tenant.status == TenantStatus.SUSPENDED:
            return tenant
        if tenant.status == TenantStatus.CANCELLED:
            raise _refuse("suspend", tenant)
        tenants_billing_status_set(
            statuses={tenant.pk: (TenantStatus.SUSPENDED, ServiceLevel.DEGRADED)}, now=now
        )
    return Tenant.objects.get(pk=tenant_id)


def tenant_restore(*, tenant_id, now: datetime, actor: str = "") -> Tenant:
    """Lift a staff suspension: the status its open dunning cases give (none: active/full).
    A tenant that dunning itself suspended stays suspended: pause, retry or write off its case."""
    with transaction.atomic():
        tenant = _locked(tenant_id)
        if tenant.status == TenantStatus.CANCELLED:
            raise _refuse("restore", tenant)
        tenants_status_refresh(tenant_ids=[tenant.pk], now=now)
    return Tenant.objects.get(pk=tenant_id)


def tenant_cancel(*, tenant_id, reason: str, now: datetime, actor: str = "") -> Tenant:
    """End the live subscription now (final invoice for the cut period's arrears) and mark the
    tenant `cancelled` / `none`."""
    with transaction.atomic():
        tenant = _locked(tenant_id)
        if tenant.status == TenantStatus.CANCELLED:
            return tenant
        for sub_id in (
            Subscription.objects.live().filter(tenant_id=tenant.pk).values_list("pk", flat=True)
        ):
            subscription_cancel_now_and_invoice(
                subscription_id=sub_id,
                reason=reason or "cancelled by staff",
                now=now,
                actor=actor,
            )
        tenants_billing_status_set(
            statuses={tenant.pk: (TenantStatus.CANCELLED, ServiceLevel.NONE)}, now=now
        )
    return Tenant.objects.get(pk=tenant_id)
