"""A tenant's billing status and service level, as dunning decides them.

Dunning (above us) computes the status from its cases and calls this; the live subscription
follows the tenant (`past_due`, `suspended`, back to `active`), except a trial, which has
nothing to collect. Cancellation is a subscription service of its own (`subscription_cancel_now`).
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction

from subscriptions.models import Subscription, SubscriptionChange, Tenant
from subscriptions.models.subscriptions import ChangeKind, SubscriptionStatus
from subscriptions.models.tenants import ServiceLevel, TenantStatus

SUBSCRIPTION_STATUS = {
    TenantStatus.ACTIVE: SubscriptionStatus.ACTIVE,
    TenantStatus.PAST_DUE: SubscriptionStatus.PAST_DUE,
    TenantStatus.SUSPENDED: SubscriptionStatus.SUSPENDED,
}


def tenants_billing_status_set(*, statuses: dict, now: datetime) -> int:
    """`statuses`: tenant id -> (status, service_level). A constant number of queries whatever
    the number of tenants (one update per distinct pair, one per subscription status). Returns
    how many tenants changed."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for tenant_id, (status, level) in statuses.items():
        if status not in TenantStatus.values or level not in ServiceLevel.values:
            raise ValueError(f"unknown billing status {status}/{level}")
        groups[(status, level)].append(tenant_id)
    changed = 0
    with transaction.atomic():
        for (status, level), tenant_ids in groups.items():
            changed += (
                Tenant.objects.filter(pk__in=tenant_ids)
                .exclude(status=status, service_level=level)
                .update(status=status, service_level=level, updated_at=now)
            )
            sub_status = SUBSCRIPTION_STATUS.get(status)
            if sub_status is not None:
                following = (
                    Subscription.objects.live()
                    .filter(tenant_id__in=tenant_ids)
                    .exclude(status__in=(SubscriptionStatus.TRIALING, sub_status))
                )
                before = list(following.select_for_update().values_list("pk", "status"))
                following.filter(pk__in=[pk for pk, _ in before]).update(
                    status=sub_status, updated_at=now
                )
                # The history records each status change (analytics' MRR reads it).
                SubscriptionChange.objects.bulk_create(
                    SubscriptionChange(
                        subscription_id=pk,
                        kind=ChangeKind.STATUS_CHANGED,
                        effective_at=now,
                        actor="dunning",
                        note=f"{old} -> {sub_status}",
                        created_at=now,
                    )
                    for pk, old in before
                )
    return changed
