from datetime import UTC, datetime, timedelta

import pytest

from billing_project.shared.errors import Conflict, ValidationFailed
from subscriptions.models import Coupon, Plan, Subscription, SubscriptionChange
from subscriptions.services import coupons
from subscriptions.services import subscriptions as services

pytestmark = pytest.mark.django_db

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def plan(slug):
    return Plan.objects.get(slug=slug)


def start(tenant, slug="team", now=JAN_1, **kw):
    return services.subscription_create(tenant=tenant, plan=plan(slug), now=now, **kw)


def test_create_without_trial_is_active_for_one_calendar_month(tenant):
    sub = start(tenant)
    assert sub.status == "active"
    assert sub.trial_end is None
    assert (sub.current_period_start, sub.current_period_end) == (
        JAN_1,
        datetime(2026, 2, 1, tzinfo=UTC),
    )
    assert SubscriptionChange.objects.filter(subscription=sub, kind="created").count() == 1


def test_trial_sets_trialing_and_trial_end_but_keeps_monthly_period(tenant):
    sub = start(tenant, trial_period_days=14)
    assert sub.status == "trialing"
    assert sub.trial_end == JAN_1 + timedelta(days=14)
    assert sub.current_period_end == datetime(2026, 2, 1, tzinfo=UTC)


def test_one_live_subscription_per_tenant(tenant):
    start(tenant)
    with pytest.raises(Conflict):
        start(tenant, slug="developer")
    assert Subscription.objects.filter(tenant=tenant).count() == 1


@pytest.mark.parametrize("days", [-1, 731, True])
def test_trial_days_are_bounded(tenant, days):
    with pytest.raises(ValidationFailed):
        start(tenant, trial_period_days=days)
    assert not Subscription.objects.exists()


def test_upgrade_on_day_16_of_30_day_period_prorates_half():
    # A 30-day period: April. Day 16 leaves 15 days.
    from subscriptions.tests.factories import TenantFactory

    tenant = TenantFactory()
    april = datetime(2026, 4, 1, tzinfo=UTC)
    sub = start(tenant, slug="team", now=april)
    sub, change = services.subscription_change_plan(
        subscription=sub, plan=plan("enterprise"), prorate=True, now=april + timedelta(days=15)
    )
    assert sub.plan.slug == "enterprise"
    assert (change.proration_numerator, change.proration_denominator) == (15, 30)
    assert change.proration_amount == 30000


def test_upgrade_on_period_start_charges_full_difference(tenant):
    april = datetime(2026, 4, 1, tzinfo=UTC)
    sub = start(tenant, slug="team", now=april)
    _, change = services.subscription_change_plan(
        subscription=sub, plan=plan("enterprise"), prorate=True, now=april
    )
    assert change.proration_amount == 60000


def test_developer_to_team_with_10_of_31_days_left_rounds_half_up(tenant):
    sub = start(tenant, slug="developer", now=JAN_1)
    _, change = services.subscription_change_plan(
        subscription=sub, plan=plan("team"), prorate=True, now=datetime(2026, 1, 22, tzinfo=UTC)
    )
    assert (change.proration_numerator, change.proration_denominator) == (10, 31)
    assert change.proration_amount == 4839  # 15000 * 10 / 31 = 4838.709...


def test_upgrade_without_proration_records_no_charge(tenant):
    sub = start(tenant, slug="developer")
    sub, change = services.subscription_change_plan(
        subscription=sub, plan=plan("team"), prorate=False, now=JAN_1 + timedelta(days=3)
    )
    assert sub.plan.slug == "team"
    assert change.proration_amount is None


def test_upgrade_during_trial_changes_plan_without_charge(tenant):
    sub = start(tenant, slug="developer", trial_period_days=14)
    sub, change = services.subscription_change_plan(
        subscription=sub, plan=plan("team"), prorate=True, now=JAN_1 + timedelta(days=2)
    )
    assert sub.plan.slug == "team" and sub.status == "trialing"
    assert change.proration_amount is None


def test_downgrade_waits_for_period_end_then_applies(tenant):
    sub = start(tenant, slug="team")
    sub, change = services.subscription_change_plan(
        subscription=sub, plan=plan("developer"), prorate=True, now=JAN_1 + timedelta(days=5)
    )
    assert sub.plan.slug == "team" and sub.pending_plan.slug == "developer"
    assert change.kind == "downgrade_scheduled" and change.proration_amount is None
    assert services.subscription_advance_period(subscription=sub, now=JAN_1) is None
    advance = services.subscription_advance_period(
        subscription=sub, now=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert advance.plan_at_end.slug == "team"
    assert advance.new_plan.slug == "developer"
    sub.refresh_from_db()
    assert sub.plan.slug == "developer" and sub.pending_plan is None
    assert sub.current_period_end == datetime(2026, 3, 1, tzinfo=UTC)


def test_same_plan_is_a_conflict(tenant):
    sub = start(tenant)
    with pytest.raises(Conflict):
        services.subscription_change_plan(
            subscription=sub, plan=plan("team"), prorate=True, now=JAN_1
        )


def test_cancel_keeps_service_to_period_end_and_drops_pending_downgrade(tenant):
    sub = start(tenant, slug="team")
    services.subscription_change_plan(
        subscription=sub, plan=plan("developer"), prorate=False, now=JAN_1
    )
    sub = services.subscription_cancel(subscription=sub, reason="price", now=JAN_1)
    assert sub.cancel_at_period_end and sub.status == "active"
    assert sub.pending_plan is None
    advance = services.subscription_advance_period(
        subscription=sub, now=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert advance.cancelled and advance.new_period is None
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    assert sub.cancelled_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert (
        services.subscription_advance_period(subscription=sub, now=datetime(2026, 3, 1, tzinfo=UTC))
        is None
    )


def test_reactivate_before_period_end_and_409_after(tenant):
    sub = start(tenant)
    services.subscription_cancel(subscription=sub, now=JAN_1)
    sub = services.subscription_reactivate(subscription=sub, now=JAN_1 + timedelta(days=1))
    assert not sub.cancel_at_period_end
    services.subscription_cancel(subscription=sub, now=JAN_1)
    with pytest.raises(Conflict):
        services.subscription_reactivate(subscription=sub, now=datetime(2026, 2, 1, tzinfo=UTC))


def test_catch_up_advances_one_period_per_call(tenant):
    sub = start(tenant, now=datetime(2026, 1, 31, tzinfo=UTC))
    ends = []
    now = datetime(2026, 5, 1, tzinfo=UTC)
    while advance := services.subscription_advance_period(subscription=sub, now=now):
        ends.append(advance.ended_period.end.date().isoformat())
    assert ends == ["2026-02-28", "2026-03-31", "2026-04-30"]


def test_trial_end_inside_period_reports_remaining_days(tenant):
    sub = start(tenant, slug="team", trial_period_days=14)  # Jan: 31 days
    assert services.subscription_end_trial(subscription=sub, now=JAN_1 + timedelta(days=13)) is None
    ended = services.subscription_end_trial(subscription=sub, now=JAN_1 + timedelta(days=14))
    assert (ended.remaining_days, ended.period_days) == (17, 31)
    sub.refresh_from_db()
    assert sub.status == "active"
    assert services.subscription_end_trial(subscription=sub, now=JAN_1 + timedelta(days=20)) is None


def test_long_trial_spans_periods(tenant):
    sub = start(tenant, slug="team", trial_period_days=45)
    advance = services.subscription_advance_period(
        subscription=sub, now=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert advance.trialing
    sub.refresh_from_db()
    assert sub.status == "trialing"


def test_coupon_redemption_rules(tenant, make_tenant):
    now = JAN_1
    coupons.coupon_create(
        code="WELCOME20",
        percent_off=20,
        duration="repeating",
        duration_in_months=2,
        max_redemptions=1,
        now=now,
    )
    sub = start(tenant, coupon_code="welcome20")
    assert coupons.coupon_for_period(subscription=sub, period_index=0).percent_off == 20
    assert coupons.coupon_for_period(subscription=sub, period_index=1) is not None
    assert coupons.coupon_for_period(subscription=sub, period_index=2) is None
    assert Coupon.objects.get(code="WELCOME20").times_redeemed == 1
    with pytest.raises(ValidationFailed) as exhausted:
        start(make_tenant(), coupon_code="WELCOME20")
    assert exhausted.value.errors == {"coupon_code": ["exhausted"]}
    with pytest.raises(ValidationFailed) as unknown:
        start(make_tenant(), coupon_code="NOPE")
    assert unknown.value.errors == {"coupon_code": ["unknown"]}
    assert Subscription.objects.count() == 1


def test_expired_coupon(tenant):
    coupons.coupon_create(
        code="OLD", amount_off=500, duration="once", expires_at=JAN_1 + timedelta(days=1), now=JAN_1
    )
    with pytest.raises(ValidationFailed) as expired:
        start(tenant, coupon_code="old", now=JAN_1 + timedelta(days=2))
    assert expired.value.errors == {"coupon_code": ["expired"]}


def test_coupon_codes_unique_case_insensitive():
    coupons.coupon_create(code="Spring", percent_off=10, duration="once", now=JAN_1)
    with pytest.raises(Conflict):
        coupons.coupon_create(code="SPRING", percent_off=10, duration="once", now=JAN_1)


def test_los_angeles_period_crosses_dst(make_tenant):
    tenant = make_tenant(timezone="America/Los_Angeles")
    start_local = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 00:00 PST
    sub = start(tenant, now=start_local)
    assert sub.current_period_end == datetime(2026, 4, 1, 7, 0, tzinfo=UTC)  # 00:00 PDT


def test_choosing_the_current_plan_drops_a_pending_downgrade(tenant):
    sub = start(tenant, slug="team")
    services.subscription_change_plan(
        subscription=sub, plan=plan("developer"), prorate=True, now=JAN_1
    )
    sub, change = services.subscription_change_plan(
        subscription=sub, plan=plan("team"), prorate=True, now=JAN_1
    )
    assert sub.pending_plan is None and sub.plan.slug == "team"
    assert change.kind == "downgrade_cancelled" and change.proration_amount is None
    with pytest.raises(Conflict):
        services.subscription_change_plan(
            subscription=sub, plan=plan("team"), prorate=True, now=JAN_1
        )
