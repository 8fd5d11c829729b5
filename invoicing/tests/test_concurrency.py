"""Two cycles at once, concurrent finalizations: real transactions and threads."""

import threading

from django.db import connection

from invoicing.models import Invoice
from invoicing.tests.conftest import at, start

# Real transactions via the `transactional_db` fixture in each signature, not the marker: the
# marker's database fixture is torn down (flushed) after the root conftest has restored the
# default catalog, which would leave later tests without plans.


def run_in_threads(count, target):
    barrier = threading.Barrier(count)
    errors = []

    def worker(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_two_cycles_at_once_make_one_invoice(transactional_db, tenant, usage_feed):
    from invoicing.services.cycle import billing_cycle_run

    sub, _ = start(tenant)
    run_in_threads(2, lambda i: billing_cycle_run(now=at("2026-02-01T00:00:00Z"), deliver=False))
    assert (
        Invoice.objects.filter(subscription=sub, period_start=at("2026-02-01T00:00:00Z")).count()
        == 1
    )
    assert Invoice.objects.count() == 2


def test_numbering_is_gapless_under_concurrent_finalization(transactional_db, tenant):
    from invoicing.services.custom import CustomLine, invoice_custom_create
    from invoicing.services.lifecycle import invoice_finalize

    now = at("2026-03-01T00:00:00Z")
    ids = [
        invoice_custom_create(
            tenant_id=tenant.pk,
            data={"line_items": [CustomLine("x", 1, 100, 100)]},
            now=now,
        ).pk
        for _ in range(12)
    ]
    run_in_threads(12, lambda i: invoice_finalize(invoice_id=ids[i], now=now, deliver=False))
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 13)]
    assert connection.vendor == "postgresql"
