"""The default catalog (product.md section 4) and POST plans."""

from decimal import Decimal

import pytest

from subscriptions.models import Metric, Plan, PlanMetric

pytestmark = pytest.mark.django_db

INCLUDED = {
    "developer": {
        "api_calls": 10_000,
        "storage_gb": 10,
        "ai_requests": 500,
        "active_users": 3,
        "concurrent_sessions": 5,
    },
    "team": {
        "api_calls": 100_000,
        "storage_gb": 100,
        "ai_requests": 5_000,
        "active_users": 25,
        "concurrent_sessions": 50,
    },
    "enterprise": {
        "api_calls": 1_000_000,
        "storage_gb": 1_000,
        "ai_requests": 50_000,
        "active_users": 200,
        "concurrent_sessions": 500,
    },
}
PRICES = {
    "api_calls": 1,
    "storage_gb": 500,
    "ai_requests": 2,
    "active_users": 1000,
    "concurrent_sessions": 200,
}
AGGREGATIONS = {
    "api_calls": "sum",
    "storage_gb": "max",
    "ai_requests": "sum",
    "active_users": "max",
    "concurrent_sessions": "max",
}
AMOUNTS = {"developer": 5000, "team": 20000, "enterprise": 80000}


def test_default_catalog_in_the_database():
    assert dict(Metric.objects.values_list("metric_type", "aggregation")) == AGGREGATIONS
    assert dict(Plan.objects.values_list("slug", "amount")) == AMOUNTS
    assert set(Plan.objects.values_list("currency", "interval", "trial_period_days")) == {
        ("usd", "month", 0)
    }
    for pm in PlanMetric.objects.select_related("plan", "metric"):
        assert pm.included_quantity == INCLUDED[pm.plan.slug][pm.metric.metric_type]
        assert pm.overage_unit_price == PRICES[pm.metric.metric_type]
    assert PlanMetric.objects.count() == 15


def test_get_plans_lists_the_catalog_exactly(tenant_member_client):
    response = tenant_member_client.get("plans")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [p["slug"] for p in body["results"]] == ["developer", "team", "enterprise"]
    for plan in body["results"]:
        slug = plan["slug"]
        assert plan["amount"] == AMOUNTS[slug]
        assert (plan["currency"], plan["interval"]) == ("usd", "month")
        assert plan["name"] == slug.capitalize()
        assert plan["active"] is True
        assert set(plan["metrics"]) == set(AGGREGATIONS)
        for metric_type, metric in plan["metrics"].items():
            assert metric["limit"] == INCLUDED[slug][metric_type]
            assert type(metric["limit"]) is int  # whole numbers are JSON integers
            assert metric["unit_price_cents"] == PRICES[metric_type]
            assert type(metric["unit_price_cents"]) is int
            assert metric["aggregation"] == AGGREGATIONS[metric_type]


def test_get_plan_by_id_and_by_slug(tenant_admin_client):
    plan = Plan.objects.get(slug="team")
    by_id = tenant_admin_client.get(f"plans/{plan.id}")
    by_slug = tenant_admin_client.get("plans/team")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    assert by_id.json()["id"] == str(plan.id)
    assert by_id.json()["metrics"]["storage_gb"]["limit"] == 100


def test_inactive_plans_are_hidden_from_the_list_but_readable(tenant_member_client):
    Plan.objects.filter(slug="team").update(active=False)
    slugs = [p["slug"] for p in tenant_member_client.get("plans").json()["results"]]
    assert slugs == ["developer", "enterprise"]
    assert tenant_member_client.get("plans/team").json()["active"] is False


# --- POST plans ------------------------------------------------------------------------------


def _plan(**overrides):
    return {
        "slug": "startup",
        "name": "Startup",
        "amount": 9900,
        "metrics": [
            {"metric_type": "api_calls", "limit": 50_000, "unit_price_cents": "0.5"},
            {"metric_type": "storage_gb", "limit": 20, "unit_price_cents": 400},
        ],
        **overrides,
    }


def test_staff_creates_a_plan(staff_client):
    response = staff_client.post("plans", _plan())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "startup"
    assert (body["amount"], body["currency"], body["interval"]) == (9900, "usd", "month")
    assert body["metrics"] == {
        "api_calls": {
            "limit": 50000,
            "unit_price_cents": 0.5,
            "aggregation": "sum",
            "name": "API calls",
            "unit": "calls",
        },
        "storage_gb": {
            "limit": 20,
            "unit_price_cents": 400,
            "aggregation": "max",
            "name": "Storage",
            "unit": "GB",
        },
    }
    plan = Plan.objects.get(slug="startup")
    assert str(plan.id) == body["id"]
    stored = {pm.metric.metric_type: pm.overage_unit_price for pm in plan.plan_metrics.all()}
    assert stored == {"api_calls": Decimal("0.5"), "storage_gb": Decimal(400)}
    listed = staff_client.get("plans").json()
    assert [p["slug"] for p in listed["results"]] == ["developer", "startup", "team", "enterprise"]
    assert staff_client.get("plans/startup").json() == body


def test_fractional_unit_price_as_json_number(staff_client):
    body = _plan(metrics=[{"metric_type": "ai_requests", "limit": 10, "unit_price_cents": 0.5}])
    response = staff_client.post("plans", body)
    assert response.status_code == 201
    assert response.json()["metrics"]["ai_requests"]["unit_price_cents"] == 0.5


def test_metrics_as_a_mapping(staff_client):
    body = _plan(metrics={"active_users": {"limit": 5, "unit_price_cents": 900}})
    response = staff_client.post("plans", body)
    assert response.status_code == 201
    assert response.json()["metrics"]["active_users"]["unit_price_cents"] == 900


def test_plan_without_metrics(staff_client):
    response = staff_client.post("plans", _plan(metrics=[]))
    assert response.status_code == 201
    assert response.json()["metrics"] == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"metrics": [{"metric_type": "bitcoins", "limit": 1, "unit_price_cents": 1}]},
            "metrics[0]",
        ),
        (
            {
                "metrics": [
                    {"metric_type": "api_calls", "limit": 1, "unit_price_cents": 1},
                    {"metric_type": "api_calls", "limit": 2, "unit_price_cents": 1},
                ]
            },
            "metrics[1]",
        ),
        (
            {"metrics": [{"metric_type": "api_calls", "limit": -1, "unit_price_cents": 1}]},
            "metrics",
        ),
        (
            {"metrics": [{"metric_type": "api_calls", "limit": 1, "unit_price_cents": -1}]},
            "metrics",
        ),
        (
            {"metrics": [{"metric_type": "api_calls", "limit": 1, "unit_price_cents": "x"}]},
            "metrics",
        ),
        ({"metrics": [{"limit": 1, "unit_price_cents": 1}]}, "metrics"),
        ({"metrics": "api_calls"}, "metrics"),
        ({"amount": -1}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": 10**13}, "amount"),
        ({"currency": "zzz"}, "currency"),
        ({"interval": "year"}, "interval"),
        ({"trial_period_days": -1}, "trial_period_days"),
        ({"slug": "not a slug"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"name": ""}, "name"),
    ],
)
def test_invalid_plan_is_400_and_stores_nothing(staff_client, overrides, field):
    response = staff_client.post("plans", _plan(**overrides))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"], body
    assert not Plan.objects.filter(slug=_plan(**overrides)["slug"] or "startup").exists()
    assert Plan.objects.count() == 3
    assert PlanMetric.objects.count() == 15


def test_missing_required_plan_fields(staff_client):
    response = staff_client.post("plans", {})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"slug", "name", "amount"}


def test_duplicate_slug_is_409(staff_client):
    assert staff_client.post("plans", _plan()).status_code == 201
    response = staff_client.post("plans", _plan(name="Again", amount=1))
    assert response.status_code == 409
    assert response.json() == {
        "code": "plan_exists",
        "message": "A plan with slug 'startup' exists.",
    }
    assert Plan.objects.get(slug="startup").amount == 9900


def test_duplicate_slug_race_is_409_not_500(staff_client, monkeypatch):
    """Two concurrent creates both pass the exists() check; the unique index decides."""
    from subscriptions.services import catalog

    assert staff_client.post("plans", _plan()).status_code == 201
    real_filter = Plan.objects.filter

    class NoPreCheck:
        def filter(self, **kwargs):
            if kwargs == {"slug": "startup"}:
                return Plan.objects.none()
            return real_filter(**kwargs)

        def __getattr__(self, name):
            return getattr(Plan._default_manager, name)

    monkeypatch.setattr(catalog.Plan, "objects", NoPreCheck())
    response = staff_client.post("plans", _plan(name="Racer"))
    monkeypatch.undo()
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "plan_exists"
    assert Plan.objects.filter(slug="startup").count() == 1
