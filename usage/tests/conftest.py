from datetime import UTC, datetime, timedelta

import pytest

from subscriptions.models import Plan, Subscription


@pytest.fixture
def subscribe(db):
    """Create a live subscription directly (the subscription services are not used here)."""

    def make(tenant, *, plan="developer", start=None, end=None, started_at=None, status="active"):
        start = start or datetime.now(UTC) - timedelta(days=3)
        end = end or start + timedelta(days=30)
        return Subscription.objects.create(
            tenant=tenant,
            plan=Plan.objects.get(slug=plan),
            status=status,
            started_at=started_at or start,
            current_period_start=start,
            current_period_end=end,
            created_at=start,
            updated_at=start,
        )

    return make


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
