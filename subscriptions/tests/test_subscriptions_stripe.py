import pytest

from subscriptions.models import PaymentMethod, Subscription

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]


def test_subscription_with_stripe_pm_attaches_it_as_default(
    stripe_enabled, tenant, tenant_admin_client
):
    response = tenant_admin_client.post(
        "subscriptions",
        {"tenant_id": str(tenant.id), "plan_id": "team", "payment_method_id": "pm_card_visa"},
    )
    assert response.status_code == 201, response.content
    method = PaymentMethod.objects.get(tenant=tenant)
    assert method.is_default and method.last4 == "4242"
    tenant.refresh_from_db()
    assert response.json()["stripe_customer_id"] == tenant.stripe_customer_id != ""


def test_subscription_with_our_payment_method_id_makes_it_default(
    stripe_enabled, tenant, tenant_admin_client
):
    ids = [
        tenant_admin_client.post(
            "payment-methods", {"stripe_payment_method_id": "pm_card_visa"}
        ).json()["id"]
        for _ in range(2)
    ]
    response = tenant_admin_client.post(
        "subscriptions", {"plan_id": "developer", "payment_method_id": ids[1]}
    )
    assert response.status_code == 201, response.content
    assert str(PaymentMethod.objects.get(is_default=True).id) == ids[1]


def test_another_tenants_payment_method_is_404_and_nothing_stored(
    stripe_enabled, tenant, other_tenant, admin_client_for
):
    theirs = (
        admin_client_for(other_tenant)
        .post("payment-methods", {"stripe_payment_method_id": "pm_card_visa"})
        .json()["id"]
    )
    response = admin_client_for(tenant).post(
        "subscriptions", {"plan_id": "developer", "payment_method_id": theirs}
    )
    assert response.status_code == 404
    assert not Subscription.objects.exists()


def test_stripe_pm_without_stripe_configured_is_409(tenant, tenant_admin_client):
    response = tenant_admin_client.post(
        "subscriptions", {"plan_id": "developer", "payment_method_id": "pm_card_visa"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "card_payments_disabled"
    assert not Subscription.objects.exists()


def test_a_refused_coupon_attaches_no_card(stripe_enabled, tenant, tenant_admin_client):
    response = tenant_admin_client.post(
        "subscriptions",
        {"plan_id": "team", "payment_method_id": "pm_card_visa", "coupon_code": "MISSING"},
    )
    assert response.status_code == 400
    assert not PaymentMethod.objects.exists()
    assert not Subscription.objects.exists()
