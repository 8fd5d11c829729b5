"""`GET executive-dashboard` and `GET analytics/payment-health`: every value equals a direct
computation from the rows (subscriptions, plans, invoices, the ledger's journal lines, usage
events, payment attempts, dunning cases), made here without the selectors."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

import pytest
import time_machine

from analytics.selectors.insights import payment_health_report
from analytics.tests.insights_helpers import NOW, _aggregate, _half_up, _new_customers_direct
from dunning.models import DunningCase
from dunning.tests.conftest import declined  # noqa: F401 (a fixture)
from invoicing.models import Invoice
from invoicing.services import lifecycle
from invoicing.tests.conftest import at, start
from ledger.models import AccountRole, JournalLine
from payments.models import PaymentAttempt
from payments.tests.conftest import with_card  # noqa: F401 (a fixture)
from subscriptions.models import PlanMetric, Subscription, Tenant

pytestmark = pytest.mark.django_db


def _paying(sub, moment) -> bool:
    """Counted in MRR at `moment` (no coupons here): started, past any trial, not cancelled."""
    if sub.started_at > moment or sub.status not in ("active", "past_due"):
        return False
    return not (sub.trial_end and sub.trial_end > moment)


def _mrr_direct(moment) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for sub in Subscription.objects.select_related("plan"):
        if _paying(sub, moment):
            totals[sub.plan.currency] += sub.plan.amount
    return dict(totals)


def _open_invoices():
    return Invoice.objects.filter(status="open", amount_due__gt=0)


def _days_late(invoice, today: date) -> int:
    return max((today - (invoice.due_at or invoice.issued_at).date()).days, 0)


def _health_direct(tenant, now) -> int:
    failed = PaymentAttempt.objects.filter(
        tenant=tenant, status="failed", created_at__gt=now - timedelta(days=90)
    ).count()
    late = max(
        (_days_late(i, now.date()) for i in _open_invoices().filter(tenant=tenant)), default=0
    )
    cases = DunningCase.objects.filter(tenant=tenant, status__in=("open", "paused")).count()
    return 100 - min(30, 10 * failed) - min(40, late) - min(30, 15 * cases)


@time_machine.travel(NOW, tick=False)
def test_dashboard_values_equal_a_direct_computation(history, staff_client):
    for month, amount in (("2026-01", 30000), ("2026-03", 60000)):
        response = staff_client.post(
            "analytics/acquisition-spend", {"month": month, "amount": amount, "currency": "usd"}
        )
        assert response.status_code == 201, response.content
    assert (
        staff_client.post("analytics/plan-costs", {"plan": "team", "amount": 5000}).status_code
        == 201
    )

    response = staff_client.get("executive-dashboard")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["as_of"] == "2026-03-20T12:00:00Z"
    assert body["currencies"] == ["usd"]
    usd = body["by_currency"]["usd"]

    # MRR, ARR, ARPU: Alpha on Developer and Beta on Team pay; Gamma is in its trial.
    mrr = _mrr_direct(NOW)
    assert usd["mrr"] == mrr["usd"] == 5000 + 20000
    assert usd["arr"] == 12 * mrr["usd"]
    payers = sum(1 for s in Subscription.objects.all() if _paying(s, NOW))
    assert usd["arpu"] == _half_up(Fraction(mrr["usd"], payers)) == 12500
    # LTV: ARPU / February's revenue churn, which is 0 here: no LTV, so no LTV/CAC.
    assert usd["ltv"] is None and usd["ltv_to_cac"] is None

    # The trend: MRR at each of the last 12 month ends (this month: now).
    trend = body["mrr_trend"]["usd"]
    assert len(trend) == 12 and trend[-1]["month"] == "2026-03"
    for point in trend:
        year, month = map(int, point["month"].split("-"))
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        moment = min(datetime.combine(nxt - timedelta(days=1), time(23, 59, 59), UTC), NOW)
        assert point["mrr"] == _mrr_direct(moment).get("usd", 0), point
    assert [p["mrr"] for p in trend[-3:]] == [5000, 5000, 25000]

    # CAC over 12 months: spend / new customers of the months with spend entered.
    acquired = _new_customers_direct(NOW)
    new_with_spend = acquired.get(("2026-01", "usd"), 0) + acquired.get(("2026-03", "usd"), 0)
    assert new_with_spend == 2
    assert usd["cac"] == _half_up(Fraction(30000 + 60000, new_with_spend)) == 45000
    assert body["cac"]["usd"]["spend"] == 90000

    # Revenue and gross margin by plan: MRR by plan, subscribers x cost where entered.
    plans = {row["plan"]: row for row in body["profitability_by_plan"]}
    assert plans["team"]["mrr"] == 20000 and plans["team"]["subscribers"] == 1
    assert plans["team"]["cost"] == 5000 and plans["team"]["gross_margin"] == 15000
    assert plans["team"]["gross_margin_pct"] == 75.0
    assert plans["developer"]["mrr"] == 5000 and plans["developer"]["cost"] is None

    # AR aging and open receivables: the open invoices' amounts due, and the ledger's
    # receivable account says the same.
    open_due = sum(i.amount_due for i in _open_invoices())
    receivable = sum(
        line.debit - line.credit
        for line in JournalLine.objects.filter(account__role=AccountRole.RECEIVABLE)
    )
    assert usd["open_receivables"] == open_due == receivable > 0
    (aging,) = body["ar_aging"]
    assert aging["totals"]["total"] == open_due
    buckets: dict[str, int] = defaultdict(int)
    for invoice in _open_invoices():
        days = (NOW.date() - (invoice.due_at or invoice.issued_at).date()).days
        key = (
            "current"
            if days <= 0
            else "days_1_30"
            if days <= 30
            else "days_31_60"
            if days <= 60
            else "days_61_90"
            if days <= 90
            else "days_over_90"
        )
        buckets[key] += invoice.amount_due
    for key in ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"):
        assert aging["totals"][key] == buckets[key], key

    # Recognized revenue this month: Team's March fee, earned day by day through today
    # (Mar 1-20 of 31 days); Alpha's January fee belongs to January.
    recognized = usd["recognized_revenue_this_month"]
    assert abs(recognized - Fraction(20000 * 20, 31)) <= 1
    assert body["recognized_revenue"]["this_month"][0]["recognized"] == recognized
    assert usd["recognized_revenue_last_month"] == 0

    # The usage forecast: per tenant from the events, summed per currency.
    expected_cost = 0
    for tenant in history.values():
        sub = Subscription.objects.live().get(tenant=tenant)
        start = (
            sub.current_period_start
            if sub.current_period_end > NOW
            else datetime(2026, 3, 1, tzinfo=UTC)  # Alpha: the calendar's period
        )
        end = (
            sub.current_period_end
            if sub.current_period_end > NOW
            else datetime(2026, 4, 1, tzinfo=UTC)
        )
        share = Fraction(int((end - start).total_seconds()), int((NOW - start).total_seconds()))
        for pm in PlanMetric.objects.filter(plan=sub.plan).select_related("metric"):
            current = _aggregate(tenant, pm.metric.metric_type, pm.metric.aggregation, start, NOW)
            forecast = (
                Fraction(current) * share if pm.metric.aggregation == "sum" else Fraction(current)
            )
            forecast = Fraction(round(forecast * 10**6), 10**6)  # the forecast's 6 decimals
            over = max(Fraction(0), forecast - Fraction(pm.included_quantity))
            expected_cost += _half_up(over * Fraction(pm.overage_unit_price))
    summary = body["usage_forecast"]["summary"]["usd"]
    assert summary["forecast_overage_cost"] == expected_cost == usd["forecast_overage_cost"]
    assert summary["tenants"] == 3 and body["usage_forecast"]["tenant_count"] == 3

    # Payment health, worst first, each score from the rows.
    health = body["payment_health"]["tenants"]
    scores = [row["score"] for row in health]
    assert scores == sorted(scores)
    for row in health:
        tenant = Tenant.objects.get(pk=row["tenant_id"])
        assert row["score"] == _health_direct(tenant, NOW), row
    assert body["payment_health"]["summary"]["tenants"] == len(health) == 3
    alpha = next(r for r in health if r["tenant_name"] == "Alpha")
    assert alpha["parts"]["days_past_due"]["penalty"] == 40  # January's invoice, unpaid


def test_payment_health_from_a_declined_card_and_days_past_due(
    declined,  # noqa: F811
    make_tenant,
    staff_client,
):
    tenant, invoice, case = declined
    calm = make_tenant(name="Calm Corp")
    _, paid = start(calm, "developer", "2026-01-01T00:00:00Z")
    lifecycle.invoice_payment_record(
        invoice_id=paid.pk,
        amount=paid.amount_due,
        method="bank_transfer",
        paid_on=date(2026, 1, 2),
        now=at("2026-01-02T00:00:00Z"),
    )

    response = staff_client.get("analytics/payment-health")
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {row["tenant_id"]: row for row in body["tenants"]}
    row = rows[str(tenant.pk)]
    failed = PaymentAttempt.objects.filter(tenant=tenant, status="failed").count()
    assert failed >= 1
    assert row["parts"]["failed_attempts"] == {
        "value": failed,
        "penalty": min(30, 10 * failed),
        "max_penalty": 30,
    }
    assert row["parts"]["open_dunning_cases"]["value"] == 1
    assert row["parts"]["open_dunning_cases"]["penalty"] == 15
    assert row["amount_due"] == {invoice.currency: invoice.amount_due}
    now = datetime.now(UTC)
    assert row["score"] == _health_direct(tenant, now)
    assert rows[str(calm.pk)]["score"] == 100 and rows[str(calm.pk)]["grade"] == "healthy"
    assert body["tenants"][0]["tenant_id"] == str(tenant.pk)  # worst first

    # Ten days on, the open invoice is ten days further past due.
    later = now + timedelta(days=10)
    (report,) = payment_health_report(now=later, tenant_id=tenant.pk)
    assert (
        report["health"].days_past_due.value
        == _days_late(Invoice.objects.get(pk=invoice.pk), later.date())
        >= 10
    )
    assert report["health"].score == _health_direct(tenant, later)
    one = staff_client.get("analytics/payment-health", {"tenant_id": str(calm.pk)}).json()
    assert [r["tenant_id"] for r in one["tenants"]] == [str(calm.pk)]
    assert DunningCase.objects.get(pk=case.pk).status == "open"
