"""Usage analytics, the usage forecast, acquisition spend and CAC, plan costs, over HTTP.

Expected figures are computed in the tests from the rows (events, plan metrics, subscriptions),
independently of the selectors, and a few are also written out by hand."""

from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine

from analytics.models import AcquisitionSpend, PlanCost
from analytics.selectors.insights import profitability_by_plan
from analytics.tests.insights_helpers import (
    NOW,
    _aggregate,
    _direct_usage,
    _half_up,
    _new_customers_direct,
    _plan_metrics,
)
from invoicing.tests.conftest import at
from subscriptions.models import Plan

pytestmark = pytest.mark.django_db


@time_machine.travel(NOW, tick=False)
def test_usage_report_per_tenant_and_metric_equals_the_events(history, staff_client):
    response = staff_client.get("analytics/usage", {"tenant_id": "all", "period": "30d"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tenant_id"] == "all"
    assert body["period"] == {
        "days": 30,
        "start": "2026-02-18T12:00:00Z",
        "end": "2026-03-20T12:00:00Z",
    }
    assert body["previous_period"] == {
        "start": "2026-01-19T12:00:00Z",
        "end": "2026-02-18T12:00:00Z",
    }
    rows = {row["tenant_name"]: row for row in body["tenants"]}
    assert set(rows) == {"Alpha", "Beta", "Gamma"}
    for name, tenant in history.items():
        row = rows[name.title()]
        expected = _direct_usage(tenant, 30)
        assert set(row["metrics"]) == set(expected)
        for metric, want in expected.items():
            got = row["metrics"][metric]
            assert Decimal(str(got["total"])) == want["total"], (name, metric)
            assert Fraction(Decimal(str(got["overage"]))) == want["overage"], (name, metric)
            assert got["overage_revenue"] == want["overage_revenue"], (name, metric)
            assert Decimal(str(got["trend"]["previous_total"])) == want["previous_total"]
            assert got["trend"]["previous_overage_revenue"] == want["previous_overage_revenue"]
        assert row["overage_revenue"] == sum(w["overage_revenue"] for w in expected.values())

    alpha = rows["Alpha"]["metrics"]
    # By hand: 16,000 API calls against 10,000 at 1 cent; 12 GB peak against 10 at 500 cents;
    # 600 AI requests against 500 at 2 cents.
    assert alpha["api_calls"]["total"] == 16000 and alpha["api_calls"]["limit"] == 10000
    assert alpha["api_calls"]["overage"] == 6000 and alpha["api_calls"]["overage_revenue"] == 6000
    assert alpha["api_calls"]["trend"] == {
        "previous_total": 6000,
        "previous_overage_revenue": 0,
        "change": 10000,
        "change_pct": 166.7,
    }
    assert alpha["storage_gb"]["total"] == 12 and alpha["storage_gb"]["overage_revenue"] == 1000
    assert alpha["storage_gb"]["trend"]["change_pct"] == 200.0
    assert alpha["ai_requests"]["overage_revenue"] == 200
    assert alpha["ai_requests"]["trend"]["change_pct"] is None
    assert rows["Alpha"]["overage_revenue"] == 7200
    assert rows["Beta"]["overage_revenue"] == 0  # 50,000 of Team's 100,000
    assert [row["tenant_name"] for row in body["tenants"]][0] == "Alpha"
    assert body["totals"]["usd"]["overage_revenue"] == 7200
    assert body["totals"]["usd"]["by_metric"]["api_calls"]["total"] == 16000 + 50000

    # A 10-day window: the sum limits scale to a third.
    ten = staff_client.get(
        "analytics/usage", {"tenant_id": str(history["alpha"].pk), "period": "10d"}
    ).json()
    assert [row["tenant_name"] for row in ten["tenants"]] == ["Alpha"]
    metrics = ten["tenants"][0]["metrics"]
    expected = _direct_usage(history["alpha"], 10)
    assert metrics["api_calls"]["total"] == 7000 == expected["api_calls"]["total"]
    assert Decimal(str(metrics["api_calls"]["limit"])) == Decimal("3333.333333")
    assert metrics["api_calls"]["overage_revenue"] == expected["api_calls"]["overage_revenue"]
    assert metrics["storage_gb"]["limit"] == 10


@time_machine.travel(NOW, tick=False)
def test_usage_report_input_and_access(history, staff_client, admin_client_for, anon_client):
    for bad in ("0d", "367d", "30", "abc", "-1d", "2w"):
        response = staff_client.get("analytics/usage", {"period": bad})
        assert response.status_code == 400, bad
        assert set(response.json()["errors"]) == {"period"}
    response = staff_client.get("analytics/usage", {"tenant_id": "nope"})
    assert response.status_code == 400 and "tenant_id" in response.json()["errors"]
    unknown = "00000000-0000-0000-0000-000000000001"
    assert staff_client.get("analytics/usage", {"tenant_id": unknown}).status_code == 404
    assert staff_client.get("analytics/usage").json()["period"]["days"] == 30
    tenant_client = admin_client_for(history["alpha"])
    for path in (
        "analytics/usage",
        "analytics/usage/forecast",
        "analytics/payment-health",
        "analytics/acquisition-spend",
        "analytics/cac",
        "analytics/plan-costs",
        "executive-dashboard",
    ):
        assert tenant_client.get(path).status_code == 403, path
        assert anon_client.get(path).status_code == 401, path
    assert tenant_client.post("analytics/acquisition-spend", {}).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_forecast_to_period_end_with_the_overage_it_implies(history, staff_client):
    response = staff_client.get("analytics/usage/forecast")
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {row["tenant_name"]: row for row in body["tenants"]}
    alpha = rows["Alpha"]
    # The cycle never advanced Alpha past January: the forecast still uses the period the
    # calendar says holds now.
    assert alpha["period"] == {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    period_start, period_end = at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")
    elapsed = Fraction(int((NOW - period_start).total_seconds()))
    length = Fraction(int((period_end - period_start).total_seconds()))
    _, metrics = _plan_metrics(history["alpha"])
    total_cost = 0
    for pm in metrics:
        metric, aggregation = pm.metric.metric_type, pm.metric.aggregation
        current = _aggregate(history["alpha"], metric, aggregation, period_start, NOW)
        want = Fraction(current) * length / elapsed if aggregation == "sum" else Fraction(current)
        got = alpha["metrics"][metric]
        assert Decimal(str(got["current"])) == current
        assert abs(Fraction(Decimal(str(got["forecast"]))) - want) <= Fraction(1, 10**6)
        over = max(
            Fraction(0), Fraction(Decimal(str(got["forecast"]))) - Fraction(pm.included_quantity)
        )
        assert got["forecast_overage_cost"] == _half_up(
            Decimal(over.numerator) / over.denominator * pm.overage_unit_price
        )
        total_cost += got["forecast_overage_cost"]
    # By hand: 16,000 calls in 19.5 of 31 days -> 25,435.897436 -> 15,436 cents over; storage
    # stays at its 12 GB peak (1,000); 600 AI requests -> 953.846154 -> 454 over x 2 = 908.
    assert alpha["metrics"]["api_calls"]["forecast"] == 25435.897436
    assert alpha["metrics"]["api_calls"]["forecast_overage_cost"] == 15436
    assert alpha["metrics"]["storage_gb"]["forecast"] == 12
    assert alpha["metrics"]["ai_requests"]["forecast_overage_cost"] == 908
    assert alpha["forecast_overage_cost"] == total_cost == 15436 + 1000 + 908
    assert alpha["overage_cost_now"] == 6000 + 1000 + 200
    assert alpha["metrics_over_limit"] == ["ai_requests", "api_calls", "storage_gb"]
    assert alpha["elapsed_pct"] == 62.9
    beta = rows["Beta"]["metrics"]["api_calls"]
    assert Decimal(str(beta["forecast"])) == Decimal("79487.179487")  # 50,000 x 31 / 19.5
    summary = body["summary"]["usd"]
    assert summary["tenants"] == 3 and summary["tenants_forecast_over_limit"] == 1
    assert summary["forecast_overage_cost"] == sum(
        r["forecast_overage_cost"] for r in body["tenants"]
    )
    assert body["tenants"][0]["tenant_name"] == "Alpha"
    one = staff_client.get("analytics/usage/forecast", {"tenant_id": str(history["beta"].pk)})
    assert [r["tenant_name"] for r in one.json()["tenants"]] == ["Beta"]


@time_machine.travel(NOW, tick=False)
def test_acquisition_spend_replaces_the_month_and_gives_cac(history, staff_client):
    response = staff_client.post(
        "analytics/acquisition-spend", {"month": "2026-03", "amount": 50000, "currency": "usd"}
    )
    assert response.status_code == 201, response.content
    first = response.json()
    # Beta joined in March; Gamma's trial has not ended: one new customer.
    assert first["month"] == "2026-03" and first["new_customers"] == 1 and first["cac"] == 50000
    assert first["entered_by"]
    again = staff_client.post(
        "analytics/acquisition-spend", {"month": "2026-03", "amount": 60000, "currency": "USD"}
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert again.json()["amount"] == 60000
    assert AcquisitionSpend.objects.count() == 1
    staff_client.post(
        "analytics/acquisition-spend", {"month": "2026-01", "amount": 30000, "currency": "usd"}
    )
    staff_client.post(
        "analytics/acquisition-spend", {"month": "2026-02", "amount": 9999, "currency": "eur"}
    )
    listed = staff_client.get("analytics/acquisition-spend").json()
    assert listed["count"] == 3
    assert [(r["month"], r["currency"]) for r in listed["results"]] == [
        ("2026-03", "usd"),
        ("2026-02", "eur"),
        ("2026-01", "usd"),
    ]
    direct = _new_customers_direct(NOW)
    for row in listed["results"]:
        new = direct.get((row["month"], row["currency"]), 0)
        assert row["new_customers"] == new
        assert row["cac"] == (_half_up(Decimal(row["amount"]) / new) if new else None)

    cac = staff_client.get("analytics/cac").json()
    assert set(cac) == {"usd", "eur"}
    usd = cac["usd"]
    assert len(usd["months"]) == 12 and usd["months"][-1]["month"] == "2026-03"
    assert usd["spend"] == 90000 and usd["new_customers_with_spend"] == 2
    assert usd["cac"] == 45000  # (30,000 + 60,000) / (Alpha in January + Beta in March)
    assert cac["eur"]["cac"] is None  # spend, nobody acquired

    bad = staff_client.post(
        "analytics/acquisition-spend", {"month": "2026-13", "amount": -1, "currency": "dollars"}
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"month", "amount", "currency"}
    for body in (
        {"month": "2026-03", "amount": 1.5, "currency": "usd"},
        {"month": "2026-03", "amount": True, "currency": "usd"},
        {"month": "2026-03", "amount": "100", "currency": "usd"},
        {"month": "2026-03", "currency": "usd"},
    ):
        response = staff_client.post("analytics/acquisition-spend", body)
        assert response.status_code == 400 and set(response.json()["errors"]) == {"amount"}
    assert staff_client.post("analytics/acquisition-spend", ["x"]).status_code == 400
    assert AcquisitionSpend.objects.get(currency="usd", month__month=3).amount == 60000
    assert staff_client.get("analytics/cac", {"months": "0"}).status_code == 400


def test_plan_costs_and_gross_margin(staff_client, db):
    response = staff_client.post("analytics/plan-costs", {"plan": "team", "amount": 4000})
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "usd"
    again = staff_client.post("analytics/plan-costs", {"plan": "team", "amount": 5000})
    assert again.status_code == 200 and PlanCost.objects.get().amount == 5000
    bad = staff_client.post(
        "analytics/plan-costs", {"plan": "nope", "amount": "x", "currency": "eur"}
    )
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"plan", "amount"}
    wrong = staff_client.post(
        "analytics/plan-costs", {"plan": "team", "amount": 1, "currency": "eur"}
    )
    assert wrong.status_code == 400 and set(wrong.json()["errors"]) == {"currency"}
    listed = staff_client.get("analytics/plan-costs").json()["results"]
    assert [(r["plan"], r["amount"]) for r in listed] == [("team", 5000)]

    rows = profitability_by_plan(
        by_plan={
            "developer": {"mrr": 25000, "subscribers": 5},
            "team": {"mrr": 60000, "subscribers": 3},
        }
    )
    by_slug = {r["plan"]: r for r in rows}
    assert by_slug["team"]["cost"] == 3 * 5000
    assert by_slug["team"]["gross_margin"] == 60000 - 15000
    assert by_slug["team"]["gross_margin_pct"] == 75.0
    assert by_slug["developer"]["cost"] is None and by_slug["developer"]["gross_margin"] is None
    assert Plan.objects.get(slug="team").currency == by_slug["team"]["currency"]
