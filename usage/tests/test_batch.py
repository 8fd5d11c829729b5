"""POST usage/batch: all or nothing, duplicates counted, daily records placed."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine

from usage.models import UsageEvent, UsageHourly
from usage.tests.conftest import iso

pytestmark = pytest.mark.django_db


def _rec(i, **extra):
    return {"metric_type": "api_calls", "quantity": 1, "idempotency_key": f"k{i}", **extra}


def test_batch_stores_everything_and_counts_duplicates(tenant, tenant_admin_client):
    assert tenant_admin_client.post("usage", _rec(0)).status_code == 201
    records = [_rec(i) for i in range(5)] + [
        _rec(3),
        {"metric_type": "storage_gb", "quantity": 7.5},
    ]
    response = tenant_admin_client.post("usage/batch", {"records": records})
    assert response.status_code == 201, response.content
    assert response.json() == {"received": 7, "accepted": 5, "duplicates": 2}
    assert UsageEvent.objects.count() == 6
    assert UsageEvent.objects.filter(idempotency_key="k3").count() == 1
    api = UsageHourly.objects.get(metric__metric_type="api_calls")
    assert api.sum_value == 5 and api.event_count == 5
    again = tenant_admin_client.post("usage/batch", {"records": [_rec(1), _rec(2)]})
    assert again.status_code == 200
    assert again.json() == {"received": 2, "accepted": 0, "duplicates": 2}
    assert UsageEvent.objects.count() == 6


def test_bad_records_are_listed_by_index_and_nothing_stored(tenant, tenant_admin_client):
    records = [
        _rec(0),
        {"metric_type": "nope", "quantity": 1},
        _rec(2),
        {"metric_type": "api_calls", "quantity": -3},
        "not an object",
        {"metric_type": "api_calls", "quantity": 1, "date": "2026-02-30"},
        {"metric_type": "api_calls", "quantity": 1, "date": "2026-01-01", "timestamp": "x"},
    ]
    response = tenant_admin_client.post("usage/batch", {"records": records})
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "validation_error"
    bad = error["errors"]["records"]
    assert set(bad) == {"1", "3", "4", "5", "6"}
    assert "metric_type" in bad["1"] and "quantity" in bad["3"]
    assert "non_field_errors" in bad["4"] and "date" in bad["5"]
    assert UsageEvent.objects.count() == 0 and UsageHourly.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"records": []},
        {"records": "[]"},
        {"records": {"0": {}}},
        {"records": None},
        {},
        {"records": [_rec(i) for i in range(10_001)]},
    ],
)
def test_bad_batch_shapes(tenant, tenant_admin_client, body):
    response = tenant_admin_client.post("usage/batch", body)
    assert response.status_code == 400, response.content
    assert "records" in response.json()["errors"]
    assert UsageEvent.objects.count() == 0


def test_batch_body_must_be_an_object(tenant, tenant_admin_client):
    response = tenant_admin_client.post("usage/batch", [_rec(1)])
    assert response.status_code == 400
    assert UsageEvent.objects.count() == 0


def test_max_batch_is_accepted(tenant, tenant_admin_client):
    records = [{"metric_type": "api_calls", "quantity": "0.5"} for _ in range(10_000)]
    response = tenant_admin_client.post("usage/batch", {"records": records})
    assert response.status_code == 201
    assert response.json()["accepted"] == 10_000
    assert UsageHourly.objects.get().sum_value == Decimal(5000)


def test_batch_that_fails_in_the_database_stores_nothing(tenant, tenant_admin_client, monkeypatch):
    from usage import sql

    broken = sql.BATCH.replace("SELECT count(*) FROM ins", "SELECT 1/0 FROM ins")
    monkeypatch.setattr(sql, "BATCH", broken)
    response = tenant_admin_client.post("usage/batch", {"records": [_rec(i) for i in range(10)]})
    assert response.status_code == 500
    assert UsageEvent.objects.count() == 0 and UsageHourly.objects.count() == 0


def test_staff_batch_and_member_batch(tenant, staff_client, tenant_member_client):
    body = {"records": [_rec(1)]}
    assert staff_client.post("usage/batch", body).status_code == 400
    assert (
        staff_client.post("usage/batch", {**body, "tenant_id": str(tenant.id)}).status_code == 201
    )
    unknown = {**body, "tenant_id": "00000000-0000-0000-0000-000000000001"}
    assert staff_client.post("usage/batch", unknown).status_code == 404
    assert tenant_member_client.post("usage/batch", {"records": [_rec(2)]}).status_code == 201


NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)  # 11:00 in New York (EDT, UTC-4)


@time_machine.travel(NOW, tick=False)
def test_date_placement(make_tenant, admin_client_for, subscribe):
    tenant = make_tenant(timezone="America/New_York")
    client = admin_client_for(tenant)
    # Period anchored at 16:23:45 New York time on 2026-03-05.
    start = datetime(2026, 3, 5, 20, 23, 45, tzinfo=UTC)
    subscribe(tenant, start=start, end=datetime(2026, 4, 5, 20, 23, 45, tzinfo=UTC))
    records = [
        {"metric_type": "api_calls", "quantity": 1, "date": "2026-03-05", "idempotency_key": "a"},
        {"metric_type": "api_calls", "quantity": 2, "date": "2026-03-06", "idempotency_key": "b"},
        {"metric_type": "api_calls", "quantity": 3, "date": "2026-03-20", "idempotency_key": "c"},
    ]
    response = client.post("usage/batch", {"records": records})
    assert response.status_code == 201, response.content
    placed = dict(UsageEvent.objects.values_list("idempotency_key", "timestamp"))
    assert placed["a"] == start  # the period's first day: clamped to its start
    assert placed["b"] == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)  # 12:00 EST
    assert placed["c"] == NOW  # 12:00 today is still ahead: now
    bad = client.post(
        "usage/batch",
        {"records": [{"metric_type": "api_calls", "quantity": 1, "date": "2026-03-21"}]},
    )
    assert bad.status_code == 400 and "date" in bad.json()["errors"]["records"]["0"]
    before = client.post(
        "usage/batch",
        {"records": [{"metric_type": "api_calls", "quantity": 1, "date": "2026-03-04"}]},
    )
    assert before.status_code == 400  # before the subscription started
    current = client.get("usage/current").json()
    assert current["usage_metrics"]["api_calls"]["current"] == 6


@time_machine.travel(NOW, tick=False)
def test_date_placement_without_subscription_uses_noon(make_tenant, admin_client_for):
    tenant = make_tenant(timezone="Asia/Tokyo")
    client = admin_client_for(tenant)
    record = {"metric_type": "api_calls", "quantity": 1, "date": "2026-03-19"}
    assert client.post("usage/batch", {"records": [record]}).status_code == 201
    assert UsageEvent.objects.get().timestamp == datetime(2026, 3, 19, 3, 0, tzinfo=UTC)
    assert date(2026, 3, 19) == UsageEvent.objects.get().timestamp.date()


def test_batch_timestamps_and_exact_numbers(tenant, tenant_admin_client):
    ts = datetime.now(UTC) - timedelta(minutes=30)
    records = [
        {"metric_type": "storage_gb", "quantity": 0.1, "timestamp": iso(ts)},
        {"metric_type": "storage_gb", "quantity": "0.2", "timestamp": iso(ts)},
    ]
    assert tenant_admin_client.post("usage/batch", {"records": records}).status_code == 201
    assert sorted(UsageEvent.objects.values_list("quantity", flat=True)) == [
        Decimal("0.1"),
        Decimal("0.2"),
    ]
    hourly = UsageHourly.objects.get()
    assert hourly.sum_value == Decimal("0.3") and hourly.max_value == Decimal("0.2")
    assert hourly.latest_value == Decimal("0.2")  # equal timestamps: the largest value


def test_batch_keeps_every_digit_and_instant(tenant, tenant_admin_client):
    """The records travel to PostgreSQL as JSON text: quantities as their decimal literal,
    instants with microseconds and offset, keys with any character."""
    ts = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=2)
    offset = ts.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    records = [
        {"metric_type": "api_calls", "quantity": "999999999999.999999", "timestamp": offset,
         "idempotency_key": 'k"\\é😀'},
        {"metric_type": "storage_gb", "quantity": 1e-06, "timestamp": iso(ts)},
    ]  # fmt: skip
    assert tenant_admin_client.post("usage/batch", {"records": records}).status_code == 201
    stored = dict(UsageEvent.objects.values_list("quantity", "timestamp"))
    assert stored == {Decimal("999999999999.999999"): ts, Decimal("0.000001"): ts}
    assert UsageEvent.objects.filter(idempotency_key='k"\\é😀').exists()


def test_both_insert_forms_count_the_same(tenant, tenant_admin_client):
    """A clean batch runs as a plain INSERT; one that meets a stored key falls back to ON
    CONFLICT (and the tenant's next batch goes there directly) until a clean batch again."""
    from usage import services

    def post(keys):
        response = tenant_admin_client.post("usage/batch", {"records": [_rec(i) for i in keys]})
        return response.json()

    services._REPEATING.discard(tenant.id)
    assert post(range(3)) == {"received": 3, "accepted": 3, "duplicates": 0}
    assert tenant.id not in services._REPEATING
    assert post(range(2, 5)) == {"received": 3, "accepted": 2, "duplicates": 1}
    assert tenant.id in services._REPEATING
    assert post(range(4, 6)) == {"received": 2, "accepted": 1, "duplicates": 1}
    assert post(range(6, 8)) == {"received": 2, "accepted": 2, "duplicates": 0}
    assert tenant.id not in services._REPEATING
    assert post(range(8)) == {"received": 8, "accepted": 0, "duplicates": 8}
    assert UsageEvent.objects.count() == 8
    api = UsageHourly.objects.get(metric__metric_type="api_calls")
    assert api.sum_value == 8 and api.event_count == 8
