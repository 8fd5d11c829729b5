"""A tenant's billing status follows its worst active dunning case.

`active`/`full` in the grace period, `past_due` after it, `suspended`/`degraded` from the
suspend step, `cancelled`/`none` once the cancel step ended its subscription (until it has a
live subscription again). Paused cases keep the stage they had; recovered, written-off and
exhausted cases no longer count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from dunning import policy as pure
from dunning.models import DunningCase
from dunning.selectors import ACTIVE
from subscriptions.models import Subscription
from subscriptions.services.billing_status import tenants_billing_status_set


def tenants_status_refresh(*, tenant_ids, now: datetime) -> int:
    """Recompute and store the status of each tenant: three queries plus one update per
    distinct status, whatever the number of tenants."""
    tenant_ids = set(tenant_ids)
    if not tenant_ids:
        return 0
    stages: dict = defaultdict(list)
    cancelled_by_dunning = set()
    rows = DunningCase.objects.filter(tenant_id__in=tenant_ids).values_list(
        "tenant_id", "status", "stage", "cancelled_at"
    )
    for tenant_id, status, stage, cancelled_at in rows:
        if status in ACTIVE:
            stages[tenant_id].append(stage)
        if cancelled_at is not None:
            cancelled_by_dunning.add(tenant_id)
    live = set(
        Subscription.objects.live()
        .filter(tenant_id__in=tenant_ids)
        .values_list("tenant_id", flat=True)
    )
    statuses = {}
    for tenant_id in tenant_ids:
        if tenant_id in cancelled_by_dunning and tenant_id not in live:
            stage = "cancelled"
        else:
            stage = pure.worst_stage(s for s in stages[tenant_id] if s != "cancelled") or "grace"
        statuses[tenant_id] = pure.STAGE_STATUS[stage]
    return tenants_billing_status_set(statuses=statuses, now=now)
