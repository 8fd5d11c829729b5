"""Concurrent twins against real PostgreSQL: one event stored."""

import threading

from django.db import connections

from conftest import BillingClient
from usage.models import UsageEvent, UsageHourly


def _race(n, make_request):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = make_request(i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# `transactional_db` by name (not the marker): the root conftest then reloads the default catalog
# that the flush after the test removes.
def test_same_key_at_the_same_moment_stores_one_event(transactional_db, make_tenant, token_for):
    tenant = make_tenant()
    token = token_for("tenant_admin", tenant)
    body = {"metric_type": "api_calls", "quantity": 3, "idempotency_key": "twin"}

    def post(_):
        response = BillingClient(token).post("usage", body)
        return response.status_code, response.json()["id"]

    results = _race(6, post)
    assert sorted(code for code, _ in results) == [200] * 5 + [201]
    assert len({event_id for _, event_id in results}) == 1
    assert UsageEvent.objects.count() == 1
    hourly = UsageHourly.objects.get()
    assert hourly.event_count == 1 and hourly.sum_value == 3


def test_concurrent_batches_with_overlapping_keys(transactional_db, make_tenant, token_for):
    tenant = make_tenant()
    token = token_for("tenant_admin", tenant)

    def post(i):
        records = [
            {"metric_type": "api_calls", "quantity": 1, "idempotency_key": f"k{j}"}
            for j in range(i * 50, i * 50 + 100)
        ]
        response = BillingClient(token).post("usage/batch", {"records": records})
        assert response.status_code in (200, 201), response.content
        return response.json()

    results = _race(4, post)
    assert sum(r["accepted"] for r in results) == 250
    assert sum(r["duplicates"] for r in results) == 150
    assert UsageEvent.objects.count() == 250
    assert UsageHourly.objects.get().event_count == 250
