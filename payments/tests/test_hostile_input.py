"""Inputs found to cause 500s in review across the API: NUL characters, calendar edges, absurd
page numbers. Each must be a JSON 4xx that changes nothing (it lives in the highest app it
touches)."""

import hashlib
import hmac
import json
import time

import pytest

from payments.models import WebhookEvent
from usage.models import UsageEvent

pytestmark = pytest.mark.django_db


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) >= {"code", "message"}


@pytest.mark.parametrize(
    "body",
    [
        {"metric_type": "api_calls", "quantity": 1, "idempotency_key": "a\u0000b"},
        {"metric_type": "api_calls", "quantity": 1, "unique_key": "\u0000"},
        {"metric_type": "api_calls", "quantity": 1, "timestamp": "0001-01-01T00:00:00+01:00"},
        {"metric_type": "api_calls", "quantity": 1, "timestamp": "9999-12-31T23:59:59-01:00"},
    ],
)
def test_usage_bad_keys_and_calendar_edges_are_400(tenant, tenant_admin_client, body):
    assert_json_error(tenant_admin_client.post("usage", body), 400)
    batch = {"records": [body]}
    assert_json_error(tenant_admin_client.post("usage/batch", batch), 400)
    assert not UsageEvent.objects.exists()


def test_nul_in_other_json_bodies_and_urls(tenant, staff_client, tenant_admin_client):
    assert_json_error(
        staff_client.post("tenants", {"name": "A\u0000", "email": "a@b.co", "country": "US"}), 400
    )
    assert_json_error(staff_client.get("plans/a%00b"), 404)
    assert_json_error(tenant_admin_client.get("usage/events", {"metric": "a\u0000b"}), 400)
    assert_json_error(
        tenant_admin_client.get("usage/events", {"from": "0001-01-01T00:00:00+01:00"}), 400
    )
    response = staff_client.post(
        "tenants",
        {"name": "A", "email": "a@b.co", "country": "US"},
        HTTP_IDEMPOTENCY_KEY="k\u0000",
    )
    assert_json_error(response, 400)


def test_absurd_pages_and_periods(staff_client):
    assert_json_error(staff_client.get("invoices", {"page": "99999999999999999999"}), 404)
    assert_json_error(staff_client.get("tenants", {"page": "99999999999999999999"}), 404)
    assert_json_error(staff_client.get("invoices", {"period": "9999-12"}), 400)


def test_signed_webhook_with_nul_is_400_and_not_stored(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_" + "x" * 24
    payload = json.dumps({"id": "evt_\u0000", "type": "x"}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(
        settings.STRIPE_WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    response = client.post(
        "/api/v1/billing/webhooks/stripe",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={stamp},v1={digest}",
    )
    assert_json_error(response, 400)
    assert not WebhookEvent.objects.exists()
