"""Tenant creation creates the Stripe customer (API and `create_tenant` alike), all or nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing_project.shared import stripe_gateway
from subscriptions.models import Tenant

pytestmark = pytest.mark.django_db

BODY = {"name": "Acme Corp", "email": "billing@acme.example", "country": "US", "state": "CA"}


@pytest.mark.stripe
def test_post_tenants_creates_the_stripe_customer(stripe_enabled, staff_client):
    response = staff_client.post("tenants", BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stripe_customer_id"].startswith("cus_")
    tenant = Tenant.objects.get(pk=body["id"])
    assert tenant.stripe_customer_id == body["stripe_customer_id"]
    customer = stripe_gateway.customer_retrieve(tenant.stripe_customer_id)
    assert (customer.name, customer.email) == ("Acme Corp", "billing@acme.example")
    raw = stripe_gateway.raw_object("customer", tenant.stripe_customer_id)
    assert raw["metadata"] == {"tenant_id": str(tenant.id)}


@pytest.mark.stripe
def test_create_tenant_command_goes_through_the_same_service(stripe_enabled):
    out = StringIO()
    call_command("create_tenant", name="Beta LLC", email="ap@beta.example", stdout=out)
    tenant = Tenant.objects.get(pk=out.getvalue().strip())
    assert tenant.stripe_customer_id.startswith("cus_")
    raw = stripe_gateway.raw_object("customer", tenant.stripe_customer_id)
    assert raw["metadata"] == {"tenant_id": str(tenant.id)}


def test_without_stripe_no_customer_is_made(staff_client):
    response = staff_client.post("tenants", BODY)
    assert response.status_code == 201
    assert response.json()["stripe_customer_id"] is None


def test_stripe_down_is_503_and_no_tenant_exists(stripe_down, staff_client):
    before = Tenant.objects.count()
    response = staff_client.post("tenants", BODY)
    assert response.status_code == 503
    assert response.json()["code"] == "stripe_unavailable"
    assert Tenant.objects.count() == before
    assert not Tenant.objects.filter(name="Acme Corp").exists()


def test_stripe_down_fails_the_command_and_stores_nothing(stripe_down):
    before = Tenant.objects.count()
    with pytest.raises(CommandError):
        call_command("create_tenant", name="Beta LLC", email="ap@beta.example")
    assert Tenant.objects.count() == before
