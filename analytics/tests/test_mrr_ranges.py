"""The report's movement totals (moved older tenants in SQL, `new` as the rest of MRR(end) -
MRR(start)) equal the pure classification of every tenant's MRR at both ends, over many ranges
of a random history: upgrades, downgrades, suspensions and returns, cancellations, second
subscriptions after a cancellation, two currencies, changes at midnight."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from analytics.calculations.movements import empty_totals, movement_totals, movements
from analytics.selectors import mrr as selectors
from subscriptions.models import Plan, Subscription, SubscriptionChange

pytestmark = pytest.mark.django_db

FIRST = datetime(2025, 1, 1, tzinfo=UTC)


def _change(sub, kind, when, plan=None, note=""):
    SubscriptionChange.objects.create(
        subscription=sub, kind=kind, to_plan=plan, effective_at=when, note=note, created_at=when
    )


def _subscription(tenant, plan, when, cancelled_at=None):
    return Subscription.objects.create(
        tenant=tenant,
        plan=plan,
        status="cancelled" if cancelled_at else "active",
        started_at=when,
        current_period_start=when,
        current_period_end=when + timedelta(days=30),
        cancelled_at=cancelled_at,
        created_at=when,
        updated_at=when,
    )


def _instant(rnd, after, days):
    moment = after + timedelta(days=rnd.randrange(1, days))
    return moment if rnd.random() < 0.3 else moment + timedelta(hours=rnd.randrange(1, 24))


@pytest.fixture
def random_history(make_tenant):
    rnd = random.Random(15)
    usd = list(Plan.objects.filter(currency="usd", amount__gt=0).order_by("amount"))
    eur = Plan.objects.create(slug="team-eur", name="Team EUR", amount=18000, currency="eur")
    for n in range(40):
        currency = "eur" if n % 7 == 0 else "usd"
        plans = [eur] if currency == "eur" else usd
        tenant = make_tenant(name=f"t{n}", currency=currency)
        when = _instant(rnd, FIRST, 300)
        plan = rnd.choice(plans)
        cancelled = _instant(rnd, when, 200) if rnd.random() < 0.4 else None
        sub = _subscription(tenant, plan, when, cancelled)
        _change(sub, "created", when, plan)
        moment = when
        for _ in range(rnd.randrange(0, 4)):
            moment = _instant(rnd, moment, 60)
            if cancelled and moment >= cancelled:
                break
            if rnd.random() < 0.5:
                _change(sub, "upgraded", moment, rnd.choice(plans))
            else:
                _change(sub, "status_changed", moment, note="active -> suspended")
                moment = _instant(rnd, moment, 30)
                _change(sub, "status_changed", moment, note="suspended -> active")
        if cancelled:
            _change(sub, "cancelled", cancelled)
            if rnd.random() < 0.5:  # comes back later: a reactivation
                again = _instant(rnd, cancelled, 90)
                second = _subscription(tenant, rnd.choice(plans), again)
                _change(second, "created", again, second.plan)


def test_totals_equal_the_pure_classification_over_many_ranges(random_history):
    rnd = random.Random(6)
    now = datetime(2026, 6, 15, 10, tzinfo=UTC)
    ranges = [(date(2024, 12, 1), date(2026, 6, 30)), (date(2025, 3, 1), date(2025, 3, 1))]
    for _ in range(60):
        start = date(2024, 12, 1) + timedelta(days=rnd.randrange(0, 560))
        ranges.append((start, start + timedelta(days=rnd.randrange(0, 300))))
    # ranges starting at the very instant a subscription started or changed (midnight)
    for when in SubscriptionChange.objects.values_list("effective_at", flat=True):
        if when.hour == 0:
            ranges.append((when.date(), when.date() + timedelta(days=rnd.randrange(0, 120))))
    selectors.mrr_at(moment=now)  # the first read computes the facts
    checked = set()
    for start_date, end_date in ranges:
        t0, t1 = selectors.period_bounds(start_date=start_date, end_date=end_date, now=now)
        moves = movements(tenants=selectors._tenant_pairs(t0, t1))
        expected = movement_totals(moves=moves)
        report = selectors.mrr_report(start_date=start_date, end_date=end_date, now=now)
        got = {c: {k: v for k, v in row["metrics"].items() if k != "total_mrr"}
               for c, row in report["by_currency"].items()}  # fmt: skip
        assert set(expected) <= set(got), (start_date, end_date)
        for code, row in got.items():
            assert row == expected.get(code, empty_totals()), (start_date, end_date, code)
        churn = selectors.churn_report(start_date=start_date, end_date=end_date, now=now)
        for code, row in churn["by_currency"].items():
            lost = sum(1 for m in moves if m.currency == code and m.kind == "churn")
            assert row["churned_tenants"] == lost, (start_date, end_date, code)
        checked.update(m.kind for m in moves)
    assert checked == {"new", "expansion", "contraction", "churn", "reactivation"}
