import subprocess
from datetime import UTC, datetime
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def usage_feed(monkeypatch):
    """Usage totals per (tenant, period start). The usage app's selectors are not on main yet:
    this stands in for `usage.selectors.usage_totals` behind invoicing.usage_source (replace with
    real usage events once it lands)."""
    feed: dict = {}
    closed: list = []
    failing: set = set()

    def totals(*, tenant_id, start, end):
        if tenant_id in failing:
            raise RuntimeError("usage store unavailable for this tenant")
        return {k: Decimal(v) for k, v in feed.get((tenant_id, start), {}).items()}

    def close(*, tenant_id, period_start, period_end, now):
        closed.append((tenant_id, period_start, period_end))

    from invoicing import usage_source

    monkeypatch.setattr(usage_source, "usage_totals", totals)
    monkeypatch.setattr(usage_source, "usage_period_close", close)

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
    from invoicing.services.use_cases import subscription_start_and_invoice

    return subscription_start_and_invoice(tenant=tenant, plan=plan(slug), now=at(when), **kwargs)
