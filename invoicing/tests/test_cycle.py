"""Scenario tests: replay billing months with `run_billing_cycle --now`."""

from io import StringIO

import pytest
from django.core.management import call_command

from invoicing.models import BillingRunFailure, Invoice
from invoicing.tests.conftest import at, plan, start
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db


def cycle(now: str) -> str:
    out = StringIO()
    call_command("run_billing_cycle", "--now", now, stdout=out)
    return out.getvalue().strip()


def amounts(invoice):
    return [(line.kind, line.amount) for line in invoice.lines.order_by("position")]


def test_developer_overages_invoiced_on_second_period_first_day(tenant, usage_feed):
    sub, first = start(tenant, "developer")
    assert (first.kind, first.status, first.total) == ("subscription", "open", 5000)
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), storage_gb=12, api_calls=15000)
    summary = cycle("2026-02-01T00:00:00Z")
    assert summary == (
        "billing cycle as of 2026-02-01T00:00:00Z: 1 invoices, 0 trial ends, "
        "1 period advanced, 0 cancellations, 0 failures"
    )
    invoice = Invoice.objects.exclude(pk=first.pk).get()
    assert invoice.total == 11000 and invoice.amount_due == 11000
    assert sorted(amounts(invoice)) == [("overage", 1000), ("overage", 5000), ("plan_fee", 5000)]
    assert invoice.period_start == at("2026-02-01T00:00:00Z")
    assert invoice.period_end == at("2026-03-01T00:00:00Z")
    storage = invoice.lines.get(explanation__metric="storage_gb")
    assert storage.explanation["measured"] == "12" and storage.explanation["included"] == "10"
    assert storage.period_start == at("2026-01-01T00:00:00Z")
    assert invoice.number > first.number
    assert usage_feed.closed == [
        (tenant.pk, at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"))
    ]


def test_running_twice_makes_one_invoice(tenant, usage_feed):
    sub, _ = start(tenant)
    cycle("2026-02-01T00:00:00Z")
    second = cycle("2026-02-01T00:00:00Z")
    assert second.startswith("billing cycle as of 2026-02-01T00:00:00Z: 0 invoices")
    assert Invoice.objects.filter(subscription=sub).count() == 2  # first period + February
    # an earlier --now than the last run changes nothing
    cycle("2026-01-20T00:00:00Z")
    assert Invoice.objects.filter(subscription=sub).count() == 2


def test_downgrade_applies_at_period_end(tenant, usage_feed):
    from invoicing.services.subscription_billing import subscription_change_plan_and_invoice

    sub, _ = start(tenant, "team")
    sub, change, invoice = subscription_change_plan_and_invoice(
        subscription=sub, plan=plan("developer"), prorate=True, now=at("2026-01-10T00:00:00Z")
    )
    assert invoice is None and change.kind == "downgrade_scheduled"
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), storage_gb=12)
    cycle("2026-02-01T00:00:00Z")
    feb = Invoice.objects.get(period_start=at("2026-02-01T00:00:00Z"))
    # developer fee in advance; January's storage (12 GB) is within Team's 100 GB
    assert amounts(feb) == [("plan_fee", 5000)]
    sub.refresh_from_db()
    assert sub.plan.slug == "developer" and sub.pending_plan is None


def test_trial_end_invoices_rest_of_period(tenant, usage_feed):
    sub, first = start(tenant, "team", trial_period_days=14)
    assert first is None and sub.status == "trialing"
    assert cycle("2026-01-14T23:00:00Z").startswith(
        "billing cycle as of 2026-01-14T23:00:00Z: 0 invoices"
    )
    summary = cycle("2026-01-15T00:00:00Z")
    assert "1 invoices, 1 trial end," in summary
    invoice = Invoice.objects.get()
    assert invoice.total == 10968  # 20000 x 17/31
    line = invoice.lines.get()
    assert line.kind == "proration" and line.explanation["fraction"] == "17/31"
    cycle("2026-01-16T00:00:00Z")
    assert Invoice.objects.count() == 1
    cycle("2026-02-01T00:00:00Z")
    assert Invoice.objects.get(period_start=at("2026-02-01T00:00:00Z")).total == 20000


def test_coupon_repeating_two_months_discounts_two_fees(tenant, usage_feed):
    from subscriptions.services.coupons import coupon_create

    coupon_create(
        code="WELCOME20",
        percent_off=20,
        duration="repeating",
        duration_in_months=2,
        now=at("2025-12-01T00:00:00Z"),
    )
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), api_calls=11000)
    sub, first = start(tenant, coupon_code="WELCOME20")
    assert (first.subtotal, first.discount, first.total) == (5000, 1000, 4000)
    cycle("2026-02-01T00:00:00Z")
    cycle("2026-03-01T00:00:00Z")
    feb = Invoice.objects.get(period_start=at("2026-02-01T00:00:00Z"))
    mar = Invoice.objects.get(period_start=at("2026-03-01T00:00:00Z"))
    # the discount applies to the fee only, not to January's 1,000-call overage
    assert (feb.subtotal, feb.discount, feb.total) == (6000, 1000, 5000)
    assert (mar.subtotal, mar.discount, mar.total) == (5000, 0, 5000)


def test_catch_up_bills_each_missed_period_once_in_order(tenant, usage_feed):
    sub, _ = start(tenant)
    summary = cycle("2026-04-15T00:00:00Z")
    assert "3 invoices" in summary and "3 periods advanced" in summary
    invoices = list(
        Invoice.objects.filter(subscription=sub)
        .exclude(period_start=at("2026-01-01T00:00:00Z"))
        .order_by("number")
    )
    assert [i.period_start for i in invoices] == [
        at("2026-02-01T00:00:00Z"),
        at("2026-03-01T00:00:00Z"),
        at("2026-04-01T00:00:00Z"),
    ]
    sub.refresh_from_db()
    assert sub.current_period_start == at("2026-04-01T00:00:00Z")


def test_cancel_at_period_end(tenant, other_tenant, usage_feed):
    from subscriptions.services.subscriptions import subscription_cancel

    quiet, _ = start(tenant)
    busy, _ = start(other_tenant)
    for sub in (quiet, busy):
        subscription_cancel(
            subscription=sub, reason="too expensive", now=at("2026-01-20T00:00:00Z")
        )
    usage_feed.set(other_tenant, at("2026-01-01T00:00:00Z"), ai_requests=600)
    summary = cycle("2026-02-01T00:00:00Z")
    assert "2 cancellations" in summary and "1 invoices" in summary
    final = Invoice.objects.get(kind="final")
    assert final.subscription_id == busy.pk
    assert amounts(final) == [("overage", 200)]  # 100 requests x 2, no fee
    assert final.period_start == at("2026-01-01T00:00:00Z")
    # no invoice when nothing is owed
    assert not Invoice.objects.filter(subscription=quiet, kind="final").exists()
    assert set(Subscription.objects.values_list("status", flat=True)) == {"cancelled"}
    cycle("2026-03-01T00:00:00Z")
    assert Invoice.objects.filter(period_start__gte=at("2026-02-01T00:00:00Z")).count() == 0


def test_suspended_is_invoiced(tenant, usage_feed):
    sub, _ = start(tenant)
    Subscription.objects.filter(pk=sub.pk).update(status="suspended")
    cycle("2026-02-01T00:00:00Z")
    assert Invoice.objects.filter(period_start=at("2026-02-01T00:00:00Z")).count() == 1


def test_failure_is_recorded_and_run_goes_on(tenant, other_tenant, usage_feed):
    broken, _ = start(tenant)
    fine, _ = start(other_tenant)
    usage_feed.fail_for(tenant)
    summary = cycle("2026-02-01T00:00:00Z")
    assert summary.endswith(
        "1 invoices, 0 trial ends, 1 period advanced, 0 cancellations, 1 failure"
    )
    failure = BillingRunFailure.objects.get()
    assert failure.subscription_id == broken.pk and "usage store unavailable" in failure.error
    broken.refresh_from_db()
    assert broken.current_period_start == at("2026-01-01T00:00:00Z")  # rolled back, retried later
    assert Invoice.objects.filter(
        subscription=fine, period_start=at("2026-02-01T00:00:00Z")
    ).exists()


def test_bad_now_is_an_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_billing_cycle", "--now", "yesterday")


def test_beat_schedule_is_installed():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="invoicing.run_billing_cycle")
    assert task.enabled and task.crontab.minute == "0"


def test_fixed_amount_discount_has_one_label_on_period_and_trial_end_invoices(
    tenant, other_tenant, usage_feed
):
    """Pricing owns the discount line: "$10.00 off" whether the fee is a whole period's or the
    prorated rest of a trial's period."""
    from subscriptions.services.coupons import coupon_create

    coupon_create(
        code="TENOFF",
        amount_off=1000,
        currency=tenant.currency,
        duration="forever",
        now=at("2025-12-01T00:00:00Z"),
    )
    _, first = start(tenant, coupon_code="TENOFF")
    trial_sub, _ = start(other_tenant, "team", trial_period_days=14, coupon_code="TENOFF")
    cycle("2026-01-15T00:00:00Z")
    trial_end = Invoice.objects.get(subscription=trial_sub)
    for invoice in (first, trial_end):
        discount = invoice.lines.get(kind="discount")
        assert (discount.description, discount.amount) == ("Discount, $10.00 off", -1000)
    assert trial_end.total == 10968 - 1000
    assert trial_end.currency == trial_sub.plan.currency


def test_invoice_currency_comes_from_the_plan_not_the_tenant(tenant, usage_feed):
    sub, first = start(tenant)
    tenant.currency = "eur"  # a later (refused by the API) change must not re-label invoices
    tenant.save(update_fields=["currency"])
    cycle("2026-02-01T00:00:00Z")
    assert first.currency == sub.plan.currency
    feb = Invoice.objects.get(period_start=at("2026-02-01T00:00:00Z"))
    assert feb.currency == sub.plan.currency
