"""Money typed like money in the admin's forms: `250.00` in the currency's major units, stored
as minor units with its exponent (plans, coupons, plan metrics' unit prices, plan costs,
acquisition spend); the API is unchanged (minor units)."""

from datetime import date
from decimal import Decimal

import pytest
from django import forms

from analytics.models import AcquisitionSpend, PlanCost
from billing_project.shared.forms import MoneyField
from subscriptions.models import Coupon, Plan
from subscriptions.services import catalog
from subscriptions.tests.test_catalog_admin import form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("250.00", "usd", 25000), ("250", "usd", 25000), ("1,250.5", "usd", 125050),
     ("250", "jpy", 250), ("1.234", "kwd", 1234), ("0", "usd", 0)],
)  # fmt: skip
def test_money_field_reads_major_units(text, currency, minor):
    assert MoneyField(currency=currency).clean(text) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [("1.5", "jpy", "At most 0 decimals in JPY."), ("1.005", "usd", "At most 2 decimals in USD."),
     ("abc", "usd", "Enter an amount such as 250.00."), ("-1", "usd", "zero or more")],
)  # fmt: skip
def test_money_field_refuses(text, currency, message):
    with pytest.raises(forms.ValidationError) as exc:
        MoneyField(currency=currency).clean(text)
    assert message in exc.value.messages[0]


def add_plan(web, **values):
    page = web.get("/admin/subscriptions/plan/add/")
    data = {**form_data(page), "slug": "new", "name": "New", "interval": "month", **values}
    return web.post("/admin/subscriptions/plan/add/", data, follow=True)


def test_plan_price_round_trips_in_major_units(superuser_web):
    add_plan(superuser_web, amount="250.00", currency="usd")
    plan = Plan.objects.get(slug="new")
    assert plan.amount == 25000
    page = superuser_web.get(f"/admin/subscriptions/plan/{plan.pk}/change/")
    html = page.content.decode()
    assert 'value="250.00"' in html and "USD" in html
    assert "(not cents)" in html


def test_a_jpy_plan_has_no_decimals(superuser_web):
    refused = add_plan(superuser_web, amount="2500.5", currency="jpy")
    assert "At most 0 decimals in JPY." in refused.content.decode()
    assert not Plan.objects.filter(slug="new").exists()
    add_plan(superuser_web, amount="2500", currency="JPY")
    assert Plan.objects.get(slug="new").amount == 2500


def test_plan_metric_unit_price_in_major_units_may_be_fractional(superuser_web):
    plan = catalog.plan_create(
        slug="metered", name="Metered", amount=100,
        metrics=[{"metric_type": "api_calls", "limit": 10, "unit_price_cents": 1}],
    )  # fmt: skip
    url = f"/admin/subscriptions/plan/{plan.pk}/change/"
    page = superuser_web.get(url)
    data = form_data(page)
    assert data["plan_metrics-0-overage_unit_price"] == Decimal("0.01")
    data["plan_metrics-0-overage_unit_price"] = "0.005"
    superuser_web.post(url, data, follow=True)
    assert plan.plan_metrics.get().overage_unit_price == Decimal("0.5")


def test_coupon_amount_off_in_major_units(superuser_web):
    page = superuser_web.get("/admin/subscriptions/coupon/add/")
    data = {**form_data(page), "code": "FIVE", "duration": "once", "amount_off": "5.00"}
    missing = superuser_web.post("/admin/subscriptions/coupon/add/", data)
    assert "Choose the currency of this amount." in missing.content.decode()
    superuser_web.post("/admin/subscriptions/coupon/add/", {**data, "currency": "eur"})
    coupon = Coupon.objects.get(code="FIVE")
    assert (coupon.amount_off, coupon.currency) == (500, "eur")


def test_plan_cost_and_acquisition_spend_in_major_units(superuser_web):
    plan = Plan.objects.get(slug="team")
    superuser_web.post(
        "/admin/analytics/plancost/add/", {"plan": plan.pk, "amount": "12.34", "note": ""}
    )
    assert PlanCost.objects.get(plan=plan).amount == 1234
    superuser_web.post(
        "/admin/analytics/acquisitionspend/add/",
        {"month": "2026-03-15", "currency": "jpy", "amount": "150000", "note": ""},
    )
    spend = AcquisitionSpend.objects.get()
    assert (spend.month, spend.amount) == (date(2026, 3, 1), 150000)
