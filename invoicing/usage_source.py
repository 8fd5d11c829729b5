"""Adapter to the usage app: per-metric totals of a period and closing a period once invoiced."""

from datetime import datetime
from decimal import Decimal


def usage_totals(*, tenant_id, start: datetime, end: datetime) -> dict[str, Decimal]:
    try:
        from usage import selectors
    except ImportError:  # FALLBACK until usage.selectors lands: no usage, no overages
        return {}
    return selectors.usage_totals(tenant_id=tenant_id, start=start, end=end)


def usage_period_close(*, tenant_id, period_start: datetime, period_end: datetime, now) -> None:
    try:
        from usage import services
    except ImportError:  # FALLBACK until usage.services lands
        return
    services.usage_period_close(
        tenant_id=tenant_id, period_start=period_start, period_end=period_end, now=now
    )
