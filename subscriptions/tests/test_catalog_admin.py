"""The admin changes tenants, the catalog and coupons through the API's services: what must not
change after use is read-only there, and a service's refusal comes back as an error message."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.errors import Conflict
from subscriptions.models import Coupon, Metric, Plan, Subscription, Tenant
from subscriptions.services import catalog, coupons
from subscriptions.services import subscriptions as subscription_services

pytestmark = pytest.mark.django_db

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def staff_web():
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def _value(bound):
    value = bound.value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return value


def form_data(response) -> dict:
    """What the change (or add) page would post back unchanged, inlines included."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = _value(form[name])
        if value != "":
            data[form.add_prefix(name)] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, field in formset.management_form.fields.items():
            data[formset.management_form.add_prefix(name)] = (
                _value(formset.management_form[name]) or field.initial or 0
            )
        for sub in formset.forms:
            for name in sub.fields:
                value = _value(sub[name])
                if value != "":
                    data[sub.add_prefix(name)] = value
    return data


def change(staff_web, obj, **updates):
    url = f"/admin/subscriptions/{obj._meta.model_name}/{obj.pk}/change/"
    page = staff_web.get(url)
    assert page.status_code == 200
    data = {**form_data(page), **updates}
    return page, staff_web.post(url, data, follow=True)


def readonly(page) -> set[str]:
    return set(page.context["adminform"].readonly_fields)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def subscribe(tenant, slug="team"):
    plan = Plan.objects.get(slug=slug)
    return subscription_services.subscription_create(tenant=tenant, plan=plan, now=JAN_1)


# --- tenants ------------------------------------------------------------------------------


def test_tenant_currency_changes_through_the_service_without_a_live_subscription(staff_web, tenant):
    page, response = change(staff_web, tenant, currency="EUR")
    assert "currency" not in readonly(page)
    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.currency == "eur"  # cleaned by the service, as in the API


def test_tenant_currency_is_read_only_while_a_subscription_is_live(staff_web, tenant):
    subscribe(tenant)
    page, response = change(staff_web, tenant, currency="eur", name="Renamed")
    assert "currency" in readonly(page)
    tenant.refresh_from_db()
    assert (tenant.currency, tenant.name) == ("usd", "Renamed")


def test_tenant_currency_locked_is_refused_by_the_service_even_if_the_form_allows_it(
    staff_web, tenant, monkeypatch
):
    from subscriptions.admin import TenantAdmin

    page = staff_web.get(f"/admin/subscriptions/tenant/{tenant.pk}/change/")
    subscribe(tenant)  # the subscription starts after the page was shown
    monkeypatch.setattr(
        TenantAdmin, "get_readonly_fields", lambda self, request, obj=None: self.readonly_fields
    )
    response = staff_web.post(
        f"/admin/subscriptions/tenant/{tenant.pk}/change/",
        {**form_data(page), "currency": "eur", "name": "Renamed"},
        follow=True,
    )
    assert any("live subscription" in m for m in messages_of(response))
    tenant.refresh_from_db()
    assert tenant.currency == "usd"
    assert tenant.name != "Renamed"  # the whole save rolled back


def test_tenant_invalid_values_are_refused_as_in_the_api(staff_web, tenant):
    _, response = change(staff_web, tenant, currency="zzz", timezone="Mars/Olympus")
    assert any("currency" in m for m in messages_of(response))
    tenant.refresh_from_db()
    assert (tenant.currency, tenant.timezone) == ("usd", "UTC")


def test_tenant_add_goes_through_tenant_create(staff_web):
    page = staff_web.get("/admin/subscriptions/tenant/add/")
    data = {
        **form_data(page),
        "name": "Admin Made",
        "email": "billing@admin-made.example",
        "country": "de",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "payment_terms": "net_30",
    }
    response = staff_web.post("/admin/subscriptions/tenant/add/", data, follow=True)
    assert response.status_code == 200
    tenant = Tenant.objects.get(name="Admin Made")
    assert (tenant.country, tenant.currency) == ("DE", "eur")
    assert tenant.created_at is not None

    bad = {**data, "name": "Bad Country", "country": "XX"}
    response = staff_web.post("/admin/subscriptions/tenant/add/", bad, follow=True)
    assert any("country" in m for m in messages_of(response))
    assert not Tenant.objects.filter(name="Bad Country").exists()


def test_api_refuses_a_currency_change_while_a_subscription_is_live(staff_client, tenant):
    subscribe(tenant)
    response = staff_client.patch(f"tenants/{tenant.id}", {"currency": "eur"})
    assert response.status_code == 409
    assert response.json()["code"] == "currency_locked"
    tenant.refresh_from_db()
    assert tenant.currency == "usd"
    # The same currency (any case) is no change.
    assert staff_client.patch(f"tenants/{tenant.id}", {"currency": "USD"}).status_code == 200


def test_api_allows_a_currency_change_once_the_subscription_is_cancelled(staff_client, tenant):
    sub = subscribe(tenant)
    Subscription.objects.filter(pk=sub.pk).update(status="cancelled")
    response = staff_client.patch(f"tenants/{tenant.id}", {"currency": "eur"})
    assert response.status_code == 200
    assert response.json()["currency"] == "eur"


# --- plans --------------------------------------------------------------------------------


def test_unused_plan_reprices_through_the_service(staff_web):
    plan = catalog.plan_create(slug="spare", name="Spare", amount=100, metrics=[])
    # Typed in major units (README "Finance console"): 2.50 EUR is stored as 250 cents.
    page, _ = change(staff_web, plan, amount="2.50", currency="EUR")
    assert "amount" not in readonly(page)
    assert page.context["adminform"].form["amount"].value() == Decimal("1.00")
    plan.refresh_from_db()
    assert (plan.amount, plan.currency) == (250, "eur")


def test_plan_in_use_keeps_price_currency_and_metrics(staff_web, tenant):
    plan = Plan.objects.get(slug="team")
    metrics_before = list(plan.plan_metrics.values_list("metric_id", "included_quantity"))
    subscribe(tenant, "team")
    page, response = change(staff_web, plan, amount="1", currency="eur", name="Team II")
    assert {"amount", "currency", "interval"} <= readonly(page)
    assert 'name="plan_metrics-0-included_quantity"' not in page.content.decode()
    plan.refresh_from_db()
    assert (plan.amount, plan.currency, plan.name) == (20000, "usd", "Team II")
    assert list(plan.plan_metrics.values_list("metric_id", "included_quantity")) == (metrics_before)


def test_plan_update_service_refuses_a_price_change_in_use(tenant):
    plan = Plan.objects.get(slug="team")
    subscribe(tenant, "team")
    with pytest.raises(Conflict) as exc:
        catalog.plan_update(plan=plan, fields={"amount": 1})
    assert exc.value.code == "plan_in_use"
    with pytest.raises(Conflict):
        catalog.plan_update(plan=plan, fields={}, metrics=[])
    assert catalog.plan_update(plan=plan, fields={"amount": 20000, "active": False}).active is False


def test_unused_plan_metrics_are_edited_through_the_service(staff_web):
    plan = catalog.plan_create(
        slug="spare",
        name="Spare",
        amount=100,
        metrics=[{"metric_type": "api_calls", "limit": 10, "unit_price_cents": 1}],
    )
    _, response = change(staff_web, plan, **{"plan_metrics-0-included_quantity": "99"})
    assert response.status_code == 200
    assert plan.plan_metrics.get().included_quantity == Decimal(99)
    # A negative limit is refused by the service, as in POST plans.
    _, response = change(staff_web, plan, **{"plan_metrics-0-included_quantity": "-1"})
    assert plan.plan_metrics.get().included_quantity == Decimal(99)


# --- metrics ------------------------------------------------------------------------------


def test_metric_used_by_a_plan_keeps_its_aggregation(staff_web):
    metric = Metric.objects.get(metric_type="api_calls")
    page, _ = change(staff_web, metric, aggregation="max", name="API requests")
    assert {"aggregation", "metric_type"} <= readonly(page)
    metric.refresh_from_db()
    assert (metric.aggregation, metric.name) == ("sum", "API requests")
    with pytest.raises(Conflict) as exc:
        catalog.metric_update(metric=metric, fields={"aggregation": "max"})
    assert exc.value.code == "metric_in_use"


def test_unused_metric_changes_and_is_added_through_the_service(staff_web):
    metric = catalog.metric_create(metric_type="gpu_hours", name="GPU hours", aggregation="sum")
    page, _ = change(staff_web, metric, aggregation="max")
    assert "aggregation" not in readonly(page)
    metric.refresh_from_db()
    assert metric.aggregation == "max"
    data = {"metric_type": "bad slug!", "name": "Bad", "unit": "", "aggregation": "sum"}
    staff_web.post("/admin/subscriptions/metric/add/", data, follow=True)
    assert not Metric.objects.filter(name="Bad").exists()


# --- coupons ------------------------------------------------------------------------------


def make_coupon(**kw):
    return coupons.coupon_create(
        code=kw.pop("code", "TENOFF"), duration="forever", percent_off=Decimal(10), now=JAN_1, **kw
    )


def test_redeemed_coupon_keeps_its_terms(staff_web):
    coupon = make_coupon()
    Coupon.objects.filter(pk=coupon.pk).update(times_redeemed=1)
    page, _ = change(staff_web, coupon, percent_off="50", name="Ten off")
    assert {"percent_off", "amount_off", "duration", "code"} <= readonly(page)
    coupon.refresh_from_db()
    assert (coupon.percent_off, coupon.name) == (Decimal(10), "Ten off")
    with pytest.raises(Conflict) as exc:
        coupons.coupon_update(coupon=coupon, fields={"percent_off": Decimal(50)}, now=JAN_1)
    assert exc.value.code == "coupon_redeemed"


def test_unredeemed_coupon_terms_change_and_are_validated(staff_web):
    coupon = make_coupon()
    page, _ = change(staff_web, coupon, percent_off="25")
    assert "percent_off" not in readonly(page)
    coupon.refresh_from_db()
    assert coupon.percent_off == Decimal(25)
    # Both a percentage and an amount: refused by the pricing terms, nothing changes.
    _, response = change(staff_web, coupon, amount_off="500")
    coupon.refresh_from_db()
    assert (coupon.percent_off, coupon.amount_off) == (Decimal(25), None)
    assert b"errornote" in response.content or any("Invalid" in m for m in messages_of(response))
