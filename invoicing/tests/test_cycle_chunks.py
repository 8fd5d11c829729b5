"""The cycle's chunks with real usage: bulk roll-overs, the one-by-one cases in the same chunk,
the fallback when the bulk step fails, and a number of queries that does not grow per invoice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoicing.models import BillingRunFailure, Invoice
from invoicing.services import cycle
from invoicing.tests.conftest import at, start
from usage.catalog import CATALOG
from usage.models import UsagePeriodClose
from usage.services import usage_batch_record

pytestmark = pytest.mark.django_db

FEB = at("2026-02-01T00:00:00Z")


def use(tenant, **metrics):
    records = [
        {"metric_type": metric, "quantity": str(value), "timestamp": "2026-01-20T10:30:00Z"}
        for metric, value in metrics.items()
    ]
    usage_batch_record(tenant_id=tenant.pk, records=records, catalog=CATALOG, now=FEB)


def test_chunks_bill_plain_and_special_subscriptions(make_tenant, monkeypatch):
    from subscriptions.services.subscriptions import subscription_cancel

    monkeypatch.setattr(cycle, "CHUNK_SIZE", 2)
    tenants = [make_tenant() for _ in range(4)]
    kolkata = make_tenant(timezone="Asia/Kolkata")  # periods in another timezone
    subs = {t.pk: start(t)[0] for t in tenants}
    subs[kolkata.pk] = start(kolkata, when="2026-01-01T00:00:00Z")[0]
    subscription_cancel(subscription=subs[tenants[3].pk], reason="", now=at("2026-01-20T00:00:00Z"))
    for t in [*tenants, kolkata]:
        use(t, api_calls=12000, storage_gb=11)
    first_numbers = set(Invoice.objects.values_list("number", flat=True))

    result = cycle.billing_cycle_run(now=FEB, deliver=False)
    assert result.summary_line().endswith(
        "5 invoices, 0 trial ends, 5 periods advanced, 1 cancellation, 0 failures"
    )
    new = Invoice.objects.exclude(number__in=first_numbers)
    by_sub = {i.subscription_id: i for i in new}
    for t in tenants[:3]:
        assert by_sub[subs[t.pk].pk].total == 5000 + 2000 + 500
    assert by_sub[subs[tenants[3].pk].pk].kind == "final"
    assert by_sub[subs[tenants[3].pk].pk].total == 2500  # overages only
    kolkata_invoice = by_sub[subs[kolkata.pk].pk]
    assert kolkata_invoice.period_start == subs[kolkata.pk].current_period_end
    # numbers stay gapless across chunks
    values = sorted(
        int(n.rsplit("-", 1)[1]) for n in Invoice.objects.values_list("number", flat=True)
    )
    assert values == list(range(1, len(values) + 1))
    # each ended period closed
    assert UsagePeriodClose.objects.count() == 5
    # a second run finds nothing to do
    again = cycle.billing_cycle_run(now=FEB, deliver=False)
    assert again.invoices == 0 and again.periods == 0


def test_bulk_failure_falls_back_one_by_one(make_tenant, monkeypatch):
    from invoicing import usage_source

    tenants = [make_tenant() for _ in range(3)]
    for t in tenants:
        start(t)
        use(t, api_calls=11000)

    def broken(**kwargs):
        raise RuntimeError("chunk read failed")

    monkeypatch.setattr(usage_source, "usage_totals_many", broken)
    result = cycle.billing_cycle_run(now=FEB, deliver=False)
    assert (result.invoices, result.periods, result.failures) == (3, 3, 0)
    assert set(Invoice.objects.filter(period_start=FEB).values_list("total", flat=True)) == {6000}
    assert not BillingRunFailure.objects.exists()


def _queries_for(make_tenant, count: int, when: str) -> int:
    from subscriptions.models import Subscription

    Subscription.objects.update(status="cancelled")  # earlier cohorts are out of the way
    for _ in range(count):
        t = make_tenant()
        start(t, when=when)
        use_at = at(when) + timedelta(days=3)
        usage_batch_record(
            tenant_id=t.pk,
            records=[
                {"metric_type": "api_calls", "quantity": "11000", "timestamp": use_at.isoformat()}
            ],
            catalog=CATALOG,
            now=use_at,
        )
    with CaptureQueriesContext(connection) as queries:
        result = cycle.billing_cycle_run(now=at(when) + timedelta(days=31), deliver=False)
    assert result.invoices == count
    return len(queries)


def test_queries_do_not_grow_with_invoices(make_tenant):
    few = _queries_for(make_tenant, 2, "2026-03-01T00:00:00Z")
    many = _queries_for(make_tenant, 7, "2026-05-01T00:00:00Z")
    assert few == many
