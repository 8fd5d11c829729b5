import pytest

from invoicing.models import Invoice
from subscriptions.models import SubscriptionChange

pytestmark = pytest.mark.django_db


def test_create_without_trial_invoices_first_period_at_once(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "active" and "proration" not in data
    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.status, invoice.total) == ("subscription", "open", 5000)
    assert invoice.number and str(invoice.subscription_id) == data["id"]
    listed = tenant_admin_client.get("invoices").json()
    assert listed["count"] == 1 and listed["results"][0]["lines"][0]["kind"] == "plan_fee"


def test_create_with_trial_invoices_nothing(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        "subscriptions",
        {"tenant_id": str(tenant.pk), "plan_id": "developer", "trial_period_days": 14},
    )
    assert response.status_code == 201 and response.json()["status"] == "trialing"
    assert not Invoice.objects.exists()


def test_upgrade_with_proration_is_invoiced_at_once(tenant_admin_client, tenant):
    sub = tenant_admin_client.post(
        "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
    ).json()
    response = tenant_admin_client.patch(
        f"subscriptions/{sub['id']}", {"plan_id": "team", "prorate": True}
    )
    assert response.status_code == 200, response.json()
    proration = response.json()["proration"]
    change = SubscriptionChange.objects.get(kind="upgraded")
    invoice = Invoice.objects.get(kind="proration")
    assert invoice.subscription_change_id == change.pk
    assert invoice.total == change.proration_amount == proration["amount"]
    assert invoice.status == "open" and invoice.number
    line = invoice.lines.get()
    assert line.explanation["fraction"] == proration["fraction"]


def test_upgrade_without_proration_makes_no_invoice(tenant_admin_client, tenant):
    sub = tenant_admin_client.post(
        "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
    ).json()
    response = tenant_admin_client.patch(
        f"subscriptions/{sub['id']}", {"plan_id": "team", "prorate": False}
    )
    assert response.status_code == 200 and response.json()["proration"] is None
    assert not Invoice.objects.filter(kind="proration").exists()


def test_failed_create_stores_nothing(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        "subscriptions",
        {"tenant_id": str(tenant.pk), "plan_id": "developer", "coupon_code": "NOPE"},
    )
    assert response.status_code == 400
    assert not Invoice.objects.exists()
    from subscriptions.models import Subscription

    assert not Subscription.objects.exists()


def test_subscription_answers_conform_to_the_schema(tenant_admin_client, tenant):
    from invoicing.tests.openapi import assert_conforms

    created = tenant_admin_client.post(
        "subscriptions",
        {"tenant_id": str(tenant.pk), "plan_id": "developer", "trial_period_days": 3},
    )
    assert created.status_code == 201
    assert_conforms("Subscription", created.json())
    sub_id = created.json()["id"]
    assert_conforms("Subscription", tenant_admin_client.get(f"subscriptions/{sub_id}").json())
    assert_conforms("PaginatedSubscriptionList", tenant_admin_client.get("subscriptions").json())
    for body in ({"plan_id": "team", "prorate": False}, {"cancel_at_period_end": True}):
        changed = tenant_admin_client.patch(f"subscriptions/{sub_id}", body)
        assert changed.status_code == 200, changed.content
        assert_conforms("SubscriptionChangeResult", changed.json())


def test_patch_schema_accepts_what_the_validation_accepts(tenant_admin_client, tenant):
    """`PATCH subscriptions/{id}` takes exactly one of plan_id and cancel_at_period_end; the
    schema says so (oneOf), so schema-valid bodies are accepted and the others are 400."""
    from invoicing.tests.openapi import validator

    schema = validator("PatchedSubscriptionUpdateRequest")
    sub = tenant_admin_client.post(
        "subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"}
    ).json()
    for body in (
        {},
        {"prorate": True},
        {"plan_id": None, "cancel_at_period_end": None},
        {"plan_id": "team", "cancel_at_period_end": True},
    ):
        assert not schema.is_valid(body), body
        response = tenant_admin_client.patch(f"subscriptions/{sub['id']}", body)
        assert response.status_code == 400, body
    for body in (
        {"plan_id": None, "cancel_at_period_end": True},
        {"cancel_at_period_end": False, "cancellation_reason": None},
    ):
        assert schema.is_valid(body), body
        response = tenant_admin_client.patch(f"subscriptions/{sub['id']}", body)
        assert response.status_code == 200, (body, response.content)
