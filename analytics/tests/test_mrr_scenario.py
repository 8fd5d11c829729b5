"""The issue's exact MRR cases on a history built through the real API, services and
`run_billing_cycle --now` (time moved with time-machine), read over HTTP with no snapshot run."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from subscriptions.models import Subscription
from subscriptions.services.billing_status import tenants_billing_status_set

pytestmark = pytest.mark.django_db


def at(month, day, hour=12):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def cycle(when):
    with time_machine.travel(when, tick=False):
        call_command("run_billing_cycle", "--now", when.isoformat(), stdout=StringIO())


def subscribe(client, tenant, plan, when, **extra):
    with time_machine.travel(when, tick=False):
        response = client.post(
            "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": plan, **extra}
        )
    assert response.status_code == 201, response.content
    return response.json()


def mrr(client, start, end, when=None, **params):
    with time_machine.travel(when or at(12, 1), tick=False):
        response = client.get("analytics/mrr", {"start_date": start, "end_date": end, **params})
    assert response.status_code == 200, response.content
    return response.json()


def month_range(month):
    ends = {1: 31, 2: 28, 3: 31, 4: 30}
    return f"2026-{month:02d}-01", f"2026-{month:02d}-{ends[month]}"


@pytest.fixture
def history(staff_client, make_tenant):
    """Developer (A, Jan 5), Team (B, Jan 5), Enterprise (C, Jan 20); A upgrades to Team on
    Feb 10; C cancels for `price` and churns at its period end, Feb 20; C returns in March."""
    a, b, c = make_tenant(name="A"), make_tenant(name="B"), make_tenant(name="C")
    subscribe(staff_client, a, "developer", at(1, 5))
    subscribe(staff_client, b, "team", at(1, 5))
    sub_c = subscribe(staff_client, c, "enterprise", at(1, 20))
    cycle(at(2, 5, 13))  # A and B roll over to their second period
    sub_a = Subscription.objects.get(tenant=a)
    with time_machine.travel(at(2, 10), tick=False):
        upgraded = staff_client.patch(
            f"subscriptions/{sub_a.pk}", {"plan_id": "team", "prorate": True}
        )
        assert upgraded.status_code == 200, upgraded.content
        cancelled = staff_client.patch(
            f"subscriptions/{sub_c['id']}",
            {"cancel_at_period_end": True, "cancellation_reason": "price"},
        )
        assert cancelled.status_code == 200, cancelled.content
    cycle(at(2, 20, 13))  # C's period ends Feb 20: cancelled
    assert Subscription.objects.get(pk=sub_c["id"]).status == "cancelled"
    cycle(at(3, 5, 13))
    subscribe(staff_client, c, "enterprise", at(3, 3))
    return a, b, c


def test_january_february_march(history, staff_client):
    january = mrr(staff_client, *month_range(1))
    assert january["period"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-31T23:59:59Z"}
    assert january["currency"] == "usd"
    assert january["metrics"] == {
        "total_mrr": 105000,
        "new_mrr": 105000,
        "expansion_mrr": 0,
        "contraction_mrr": 0,
        "churn_mrr": 0,
        "reactivation_mrr": 0,
        "net_new_mrr": 105000,
    }
    assert january["by_plan"]["developer"] == {"mrr": 5000, "subscribers": 1}
    assert january["by_plan"]["enterprise"] == {"mrr": 80000, "subscribers": 1}
    february = mrr(staff_client, *month_range(2))
    assert february["metrics"]["expansion_mrr"] == 15000
    assert february["metrics"]["churn_mrr"] == -80000
    assert february["metrics"]["new_mrr"] == 0
    assert february["metrics"]["total_mrr"] == 40000
    assert february["by_plan"]["team"] == {"mrr": 40000, "subscribers": 2}
    assert february["by_plan"]["developer"] == {"mrr": 0, "subscribers": 0}
    march = mrr(staff_client, *month_range(3))
    assert march["metrics"]["reactivation_mrr"] == 80000
    assert march["metrics"]["new_mrr"] == 0
    assert march["metrics"]["total_mrr"] == 120000
    previous = 0
    for report in (january, february, march):
        assert report["metrics"]["net_new_mrr"] == report["metrics"]["total_mrr"] - previous
        assert report["by_currency"]["usd"]["metrics"] == report["metrics"]
        previous = report["metrics"]["total_mrr"]
    with time_machine.travel(at(12, 1), tick=False):
        churn = staff_client.get(
            "analytics/churn", {"start_date": "2026-02-01", "end_date": "2026-02-28"}
        ).json()
    assert churn["churn_rate"] == 33.3  # 1 of the 3 tenants with MRR on Feb 1
    assert churn["revenue_churn_rate"] == 76.2  # 80000 / 105000
    assert churn["churn_reasons"] == {"price": 100}
    assert churn["cohort_analysis"]["jan_2026"] == {
        "retention_rate": 66.7,  # A and B kept of A, B, C
        "revenue_retention": 38.1,  # 40000 of 105000
    }
    with time_machine.travel(at(12, 1), tick=False):
        moves = staff_client.get(
            "analytics/mrr/movements", {"start_date": "2026-02-01", "end_date": "2026-02-28"}
        ).json()
    kinds = {(row["tenant_name"], row["movement"], row["amount"]) for row in moves["results"]}
    assert kinds == {("A", "expansion", 15000), ("C", "churn", -80000)}
    assert moves["count"] == 2


def test_a_trial_counts_only_once_it_converts(staff_client, make_tenant):
    tenant = make_tenant()
    subscribe(staff_client, tenant, "team", at(1, 5), trial_period_days=14)
    # Jan 25, before any cycle ran: still a trial, no MRR
    assert (
        mrr(staff_client, "2026-01-01", "2026-01-25", when=at(1, 25))["metrics"]["total_mrr"] == 0
    )
    cycle(at(1, 25))
    report = mrr(staff_client, "2026-01-01", "2026-01-31")
    assert report["metrics"]["total_mrr"] == 20000
    assert report["metrics"]["new_mrr"] == 20000
    # on Jan 18 (in the trial: it ends Jan 19 12:00) there was none
    assert mrr(staff_client, "2026-01-01", "2026-01-18")["metrics"]["total_mrr"] == 0


def test_forever_coupon_reduces_mrr_a_once_coupon_does_not(staff_client, make_tenant):
    with time_machine.travel(at(1, 1), tick=False):
        for code, duration in (("TENOFF", "forever"), ("FIRST10", "once")):
            response = staff_client.post(
                "coupons", {"code": code, "percent_off": "10", "duration": duration}
            )
            assert response.status_code == 201, response.content
    forever, once = make_tenant(name="forever"), make_tenant(name="once")
    subscribe(staff_client, forever, "team", at(1, 5), coupon_code="TENOFF")
    subscribe(staff_client, once, "team", at(1, 5), coupon_code="FIRST10")
    moves = {
        (row["tenant_name"], row["mrr_end"])
        for row in mrr_movements_rows(staff_client, "2026-01-01", "2026-01-31")
    }
    assert moves == {("forever", 18000), ("once", 20000)}
    assert mrr(staff_client, *month_range(1))["metrics"]["total_mrr"] == 38000


def mrr_movements_rows(client, start, end):
    with time_machine.travel(at(12, 1), tick=False):
        response = client.get("analytics/mrr/movements", {"start_date": start, "end_date": end})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_past_due_counts_suspended_does_not(staff_client, make_tenant):
    late, suspended = make_tenant(name="late"), make_tenant(name="suspended")
    subscribe(staff_client, late, "team", at(1, 5))
    subscribe(staff_client, suspended, "developer", at(1, 5))
    tenants_billing_status_set(
        statuses={late.pk: ("past_due", "full"), suspended.pk: ("past_due", "full")},
        now=at(1, 10),
    )
    tenants_billing_status_set(statuses={suspended.pk: ("suspended", "degraded")}, now=at(1, 20))
    assert Subscription.objects.get(tenant=suspended).status == "suspended"
    assert mrr(staff_client, "2026-01-01", "2026-01-15")["metrics"]["total_mrr"] == 25000
    january = mrr(staff_client, *month_range(1))
    assert january["metrics"]["total_mrr"] == 20000
    with time_machine.travel(at(12, 1), tick=False):
        churn = staff_client.get(
            "analytics/churn", {"start_date": "2026-01-16", "end_date": "2026-01-31"}
        ).json()
    assert churn["churn_reasons"] == {"non_payment": 100}
    tenants_billing_status_set(statuses={suspended.pk: ("active", "full")}, now=at(2, 2))
    february = mrr(staff_client, *month_range(2))
    assert february["metrics"]["reactivation_mrr"] == 5000
