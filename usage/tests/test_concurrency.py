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


def test_a_late_event_waiting_on_a_period_close_is_refused_after_it(
    transactional_db, make_tenant, token_for
):
    """The close holds the tenant's lock exclusively; an event for the closing period waits for
    it, then must see the committed close (its statement's snapshot is taken after the lock)."""
    import time
    from datetime import UTC, datetime, timedelta

    from django.db import transaction

    from usage.services import usage_period_close

    tenant = make_tenant()
    token = token_for("tenant_admin", tenant)
    now = datetime.now(UTC)
    period_start, period_end = now - timedelta(days=30), now - timedelta(hours=1)
    closing, answer = threading.Event(), {}

    def close():
        try:
            with transaction.atomic():
                usage_period_close(
                    tenant_id=tenant.id, period_start=period_start, period_end=period_end, now=now
                )
                closing.set()
                time.sleep(1.0)  # the event below is now waiting on the lock
        finally:
            connections.close_all()

    def post():
        try:
            closing.wait(10)
            late = (period_end - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
            answer["response"] = BillingClient(token).post(
                "usage", {"metric_type": "api_calls", "quantity": 1, "timestamp": late}
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close), threading.Thread(target=post)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answer["response"].status_code == 400, answer["response"].content
    assert not UsageEvent.objects.exists()


def test_overlapping_batches_in_opposite_orders_never_fail(
    transactional_db, make_tenant, token_for
):
    """Two batches of one tenant whose keys overlap in opposite orders: inserted in arrival
    order they deadlock on usage_event's unique index (one answered 500); in key order, with
    a retry on deadlock, every round stores each key once and both answer 2xx."""
    tenant = make_tenant()
    token = token_for("tenant_admin", tenant)
    rounds, size = 6, 400
    for r in range(rounds):
        keys = [f"r{r}-k{j:04d}" for j in range(size)]

        def post(i, keys=keys):
            ordered = keys if i == 0 else keys[::-1]
            records = [
                {"metric_type": "api_calls", "quantity": 1, "idempotency_key": key}
                for key in ordered
            ]
            response = BillingClient(token).post("usage/batch", {"records": records})
            return response.status_code, response.json()

        results = _race(2, post)
        assert all(code in (200, 201) for code, _ in results), results
        assert sum(body["accepted"] for _, body in results) == size
    assert UsageEvent.objects.count() == rounds * size
    assert UsageHourly.objects.get().event_count == rounds * size
