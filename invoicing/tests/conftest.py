import subprocess
from datetime import UTC, datetime
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def usage_feed(monkeypatch):
    """Usage totals per (tenant, period start), standing in for the usage app's selectors and
    period closing behind invoicing.usage_source (single and `_many` forms alike);
    test_usage_to_invoice.py covers the real ones end to end."""
    feed: dict = {}
    closed: list = []
    failing: set = set()

    def totals(*, tenant_id, start, end):
        if tenant_id in failing:
            raise RuntimeError("usage store unavailable for this tenant")
        return {k: Decimal(v) for k, v in feed.get((tenant_id, start), {}).items()}

    def close(*, tenant_id, period_start, period_end, now):
        closed.append((tenant_id, period_start, period_end))

    def totals_many(*, requests):
        return [totals(tenant_id=t, start=s, end=e) for t, s, e in requests]

    def close_many(*, periods, now):
        for tenant_id, period_start, period_end in periods:
            close(tenant_id=tenant_id, period_start=period_start, period_end=period_end, now=now)

    from invoicing import usage_source

    monkeypatch.setattr(usage_source, "usage_totals", totals)
    monkeypatch.setattr(usage_source, "usage_period_close", close)
    monkeypatch.setattr(usage_source, "usage_totals_many", totals_many)
    monkeypatch.setattr(usage_source, "usage_periods_close", close_many)

    class Feed:
        def set(self, tenant, start, **metrics):
            feed[(tenant.pk, start)] = metrics

        def fail_for(self, tenant):
            failing.add(tenant.pk)

    feed_obj = Feed()
    feed_obj.closed = closed
    return feed_obj


def pdf_text(data: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def plan(slug: str):
    from subscriptions.models import Plan

    return Plan.objects.get(slug=slug)


def start(tenant, slug="developer", when="2026-01-01T00:00:00Z", **kwargs):
    from invoicing.services.subscription_billing import subscription_start_and_invoice

    return subscription_start_and_invoice(tenant=tenant, plan=plan(slug), now=at(when), **kwargs)
