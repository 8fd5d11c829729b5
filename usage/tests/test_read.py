"""GET usage/current and GET usage/events."""

from datetime import UTC, datetime, timedelta

import pytest

from usage.tests.conftest import iso

pytestmark = pytest.mark.django_db


def _post(client, metric, quantity, ts=None, **extra):
    body = {"metric_type": metric, "quantity": quantity, **extra}
    if ts is not None:
        body["timestamp"] = iso(ts)
    response = client.post("usage", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_current_usage_in_the_guides_shape(tenant, tenant_admin_client, subscribe):
    now = datetime.now(UTC)
    start = now - timedelta(days=3, minutes=17, seconds=13)
    subscribe(tenant, start=start, end=start + timedelta(days=31))
    _post(tenant_admin_client, "api_calls", 10_500, now - timedelta(days=1))
    _post(tenant_admin_client, "api_calls", 1, start)  # the first instant of the period counts
    _post(tenant_admin_client, "storage_gb", 12.5, now - timedelta(hours=5))
    _post(tenant_admin_client, "storage_gb", 3, now - timedelta(hours=1))
    _post(tenant_admin_client, "active_users", 4)
    _post(tenant_admin_client, "ai_requests", "0.25")
    response = tenant_admin_client.get("usage/current")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tenant_id"] == str(tenant.id) and body["currency"] == "usd"
    assert body["current_period"] == {"start": iso(start), "end": iso(start + timedelta(days=31))}
    metrics = body["usage_metrics"]
    assert metrics["api_calls"] == {
        "current": 10_501,
        "limit": 10_000,
        "overages": 501,
        "unit_price_cents": 1,
    }
    assert metrics["storage_gb"] == {
        "current": 12.5,
        "limit": 10,
        "overages": 2.5,
        "unit_price_cents": 500,
    }
    assert metrics["active_users"]["overages"] == 1
    assert metrics["ai_requests"]["current"] == 0.25
    assert metrics["concurrent_sessions"]["current"] == 0
    assert body["projected_overage_cost"] == 501 + 1250 + 1000
    assert isinstance(body["projected_overage_cost"], int)
    assert b'"limit":10000,' in response.content


def test_overage_cost_rounds_half_up_per_metric(tenant, tenant_admin_client, subscribe):
    from subscriptions.models import PlanMetric

    subscription = subscribe(tenant)
    PlanMetric.objects.filter(plan=subscription.plan, metric__metric_type="api_calls").update(
        overage_unit_price="0.5"
    )
    _post(tenant_admin_client, "api_calls", 10_001)  # 1 over at 0.5 cents: rounds to 1
    body = tenant_admin_client.get("usage/current").json()
    assert body["usage_metrics"]["api_calls"]["unit_price_cents"] == 0.5
    assert body["projected_overage_cost"] == 1


def test_usage_before_the_period_is_not_current(tenant, tenant_admin_client, subscribe):
    now = datetime.now(UTC)
    subscribe(tenant, start=now - timedelta(hours=2), started_at=now - timedelta(days=40))
    _post(tenant_admin_client, "api_calls", 7, now - timedelta(hours=3))
    _post(tenant_admin_client, "api_calls", 2, now - timedelta(minutes=30))
    body = tenant_admin_client.get("usage/current").json()
    assert body["usage_metrics"]["api_calls"]["current"] == 2


def test_no_live_subscription_is_409_but_events_are_accepted(
    tenant, tenant_admin_client, subscribe
):
    _post(tenant_admin_client, "api_calls", 1)
    response = tenant_admin_client.get("usage/current")
    assert response.status_code == 409
    assert response.json()["code"] == "no_live_subscription"
    subscribe(tenant, status="cancelled")
    assert tenant_admin_client.get("usage/current").status_code == 409


def test_member_reads_current_and_staff_names_the_tenant(
    tenant, other_tenant, tenant_member_client, staff_client, subscribe, admin_client_for
):
    subscribe(tenant)
    _post(tenant_member_client, "api_calls", 3)
    assert (
        tenant_member_client.get("usage/current").json()["usage_metrics"]["api_calls"]["current"]
        == 3
    )
    assert staff_client.get("usage/current").status_code == 400
    staff = staff_client.get("usage/current", {"tenant_id": str(tenant.id)})
    assert staff.status_code == 200 and staff.json()["tenant_id"] == str(tenant.id)
    unknown = staff_client.get(
        "usage/current", {"tenant_id": "00000000-0000-0000-0000-000000000001"}
    )
    assert unknown.status_code == 404
    other = admin_client_for(other_tenant).get("usage/current", {"tenant_id": str(tenant.id)})
    assert other.status_code == 404


def test_event_list_scoping_and_filters(
    tenant, other_tenant, tenant_admin_client, admin_client_for, staff_client
):
    now = datetime.now(UTC)
    mine = [
        _post(tenant_admin_client, "api_calls", 1, now - timedelta(hours=3)),
        _post(tenant_admin_client, "storage_gb", 2, now - timedelta(hours=2)),
        _post(tenant_admin_client, "api_calls", 3, now - timedelta(hours=1)),
    ]
    theirs = _post(admin_client_for(other_tenant), "api_calls", 9)
    response = tenant_admin_client.get("usage/events")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [e["id"] for e in body["results"]] == [e["id"] for e in reversed(mine)]
    assert theirs["id"] not in {e["id"] for e in body["results"]}
    only_api = tenant_admin_client.get("usage/events", {"metric": "api_calls"}).json()
    assert only_api["count"] == 2
    window = tenant_admin_client.get(
        "usage/events",
        {"from": iso(now - timedelta(hours=2)), "to": iso(now - timedelta(hours=1))},
    ).json()
    assert [e["id"] for e in window["results"]] == [mine[1]["id"]]
    assert tenant_admin_client.get("usage/events", {"from": "soon"}).status_code == 400
    assert (
        tenant_admin_client.get("usage/events", {"tenant_id": str(other_tenant.id)}).status_code
        == 404
    )
    assert staff_client.get("usage/events").json()["count"] == 4
    staff_one = staff_client.get("usage/events", {"tenant_id": str(other_tenant.id)}).json()
    assert [e["id"] for e in staff_one["results"]] == [theirs["id"]]
    paged = tenant_admin_client.get("usage/events", {"page_size": 2}).json()
    assert paged["count"] == 3 and paged["next"].startswith("http")


def test_admin_pages(tenant, tenant_admin_client, subscribe, admin_client):
    subscribe(tenant)
    _post(tenant_admin_client, "api_calls", 12_000, idempotency_key="adm-1")
    assert admin_client.get("/admin/usage/usageevent/").status_code == 200
    assert admin_client.get("/admin/usage/usageevent/?q=adm-1").status_code == 200
    summary = admin_client.get("/admin/usage/usageevent/summary/")
    assert summary.status_code == 200
    assert tenant.name in summary.content.decode() and "12000" in summary.content.decode()
    assert admin_client.get("/admin/usage/usageperiodclose/").status_code == 200
