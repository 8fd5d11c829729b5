"""Previews: the upcoming invoice equals, to the cent, the one the cycle then issues; a plan
change preview equals the change; neither stores anything."""

from io import StringIO

import pytest
from django.core.management import call_command

from billing_project.shared.clock import utcnow
from billing_project.shared.models import OutboxMessage
from invoicing.models import Invoice, InvoiceLine, NumberSequence
from invoicing.serializers import invoice_data
from invoicing.services.previews import invoice_upcoming, subscription_change_preview
from invoicing.services.subscription_billing import subscription_change_plan_and_invoice
from invoicing.tests.conftest import at, plan, start
from subscriptions.models import Subscription, SubscriptionChange
from subscriptions.services.contracts import contract_create

pytestmark = pytest.mark.django_db

TERMS = {
    "annual_minimum": 0,
    "custom_pricing": {
        "base_price": 500000,
        "user_price": 1500,
        "overage_rates": {"api_calls": 0.5},
    },
    "payment_terms": "Net 60",
    "auto_renewal": True,
    "volume_discounts": [
        {"threshold": 100000, "discount": 5},
        {"threshold": 1000000, "discount": 10},
    ],
}


def stored() -> tuple:
    return (
        Invoice.objects.count(),
        InvoiceLine.objects.count(),
        SubscriptionChange.objects.count(),
        OutboxMessage.objects.count(),
        list(NumberSequence.objects.values_list("pk", "last_value").order_by("pk")),
        list(Subscription.objects.values_list("pk", "plan_id", "period_index").order_by("pk")),
    )


def comparable(data: dict) -> dict:
    data = {k: v for k, v in data.items() if k not in ("id", "number", "contract_version")}
    data["lines"] = [{k: v for k, v in line.items() if k != "id"} for line in data["lines"]]
    return data


def test_upcoming_equals_the_invoice_the_cycle_issues(tenant, usage_feed):
    sub, _ = start(tenant, "enterprise")
    contract_create(tenant=tenant, contract_terms=TERMS, now=at("2026-01-10T00:00:00Z"))
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), active_users=120, api_calls=3_000_000)
    before = stored()
    preview = invoice_upcoming(tenant_id=tenant.pk, now=at("2026-01-20T00:00:00Z"))
    assert stored() == before
    upcoming = preview["invoice"]
    assert (upcoming["subtotal"], upcoming["discount"], upcoming["total"]) == (
        1680000, 168000, 1512000
    )  # fmt: skip
    assert upcoming["id"] is None and upcoming["number"] is None
    assert upcoming["contract_version"] == 1
    assert upcoming["due_at"] == "2026-04-02T00:00:00Z"  # net 60 from 2026-02-01
    out = StringIO()
    call_command("run_billing_cycle", "--now", "2026-02-01T00:00:00Z", stdout=out)
    issued = Invoice.objects.get(subscription=sub, period_start=at("2026-02-01T00:00:00Z"))
    assert comparable(invoice_data(issued)) == comparable(upcoming)


def test_upcoming_of_a_plan_tenant_and_of_a_trial(tenant, make_tenant, usage_feed):
    start(tenant, "developer")
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), storage_gb=12)
    invoice = invoice_upcoming(tenant_id=tenant.pk, now=at("2026-01-15T00:00:00Z"))["invoice"]
    assert [(line["kind"], line["amount"]) for line in invoice["lines"]] == [
        ("plan_fee", 5000),
        ("overage", 1000),
    ]
    trial = make_tenant()
    start(trial, "team", trial_period_days=14)
    invoice = invoice_upcoming(tenant_id=trial.pk, now=at("2026-01-02T00:00:00Z"))["invoice"]
    # the trial ends on the 15th: the rest of January, 17 of 31 days
    assert invoice["period_start"] == "2026-01-01T00:00:00Z"
    assert [(line["kind"], line["amount"]) for line in invoice["lines"]] == [("proration", 10968)]


def test_plan_change_preview_equals_the_change(tenant, usage_feed):
    sub, _ = start(tenant, "team")
    now = at("2026-01-11T00:00:00Z")
    before = stored()
    preview = subscription_change_preview(
        subscription=sub, plan=plan("enterprise"), prorate=True, now=now
    )
    assert stored() == before
    assert preview["change"]["kind"] == "upgraded"
    assert preview["next_invoice"]["lines"][0]["amount"] == 80000
    sub, change, invoice = subscription_change_plan_and_invoice(
        subscription=sub, plan=plan("enterprise"), prorate=True, now=now
    )
    assert comparable(invoice_data(invoice)) == comparable(preview["proration_invoice"])
    assert preview["proration_invoice"]["total"] == 40645  # 60000 x 21/31 days


def test_upcoming_api_scoping(tenant, other_tenant, tenant_member_client, staff_client):
    start(tenant, "team", when=utcnow().isoformat())
    response = tenant_member_client.get("invoices/upcoming")
    assert response.status_code == 200, response.json()
    assert response.json()["invoice"]["lines"][0]["kind"] == "plan_fee"
    assert (
        tenant_member_client.get(
            "invoices/upcoming", {"tenant_id": str(other_tenant.id)}
        ).status_code
        == 404
    )
    assert staff_client.get("invoices/upcoming").status_code == 400
    assert staff_client.get("invoices/upcoming", {"tenant_id": str(tenant.id)}).status_code == 200
    response = staff_client.get("invoices/upcoming", {"tenant_id": str(other_tenant.id)})
    assert response.status_code == 404 and response.json()["code"] == "no_subscription"


def test_preview_api(tenant, other_tenant, tenant_member_client, admin_client_for):
    sub, _ = start(tenant, "team", when=utcnow().isoformat())
    before = stored()
    response = tenant_member_client.post(
        f"subscriptions/{sub.pk}/preview", {"plan_id": "enterprise"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["change"]["kind"] == "upgraded" and body["next_invoice"]["total"] == 80000
    same = tenant_member_client.post(f"subscriptions/{sub.pk}/preview", {"plan_id": "team"})
    assert same.status_code == 409
    assert tenant_member_client.post(f"subscriptions/{sub.pk}/preview", {}).status_code == 400
    other = admin_client_for(other_tenant)
    assert (
        other.post(f"subscriptions/{sub.pk}/preview", {"plan_id": "enterprise"}).status_code == 404
    )
    assert stored() == before
