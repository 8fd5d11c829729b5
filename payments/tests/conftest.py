import hashlib
import hmac
import json
import time

import pytest
import requests

from billing_project.shared import stripe_gateway
from billing_project.shared.testing.localstripe import TEST_SECRET_KEY
from billing_project.shared.tests.test_stripe_gateway import emulator_card

WEBHOOK_SECRET = "whsec_test_" + "0123456789abcdef"
WEBHOOK_URL = "/api/v1/billing/webhooks/stripe"
DECLINING_CARD = "4000000000000341"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def post_event(client, event, *, header: str | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(event).encode()
    headers = {}
    if header is None:
        header = sign(body)
    if header:
        headers["HTTP_STRIPE_SIGNATURE"] = header
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)


def event_for(obj: dict, type_: str, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{obj.get('id', 'x')}_{type_}_{time.time_ns()}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "livemode": False,
        "type": type_,
        "data": {"object": obj},
    }


def emulator_intents(url: str, *, customer: str) -> list[dict]:
    response = requests.get(
        f"{url}/v1/payment_intents", params={"limit": 100}, auth=(TEST_SECRET_KEY, ""), timeout=5
    )
    response.raise_for_status()
    return [pi for pi in response.json()["data"] if pi.get("customer") == customer]


def stripe_goes_down(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    stripe_gateway.reset_client()


def stripe_comes_back(settings, url):
    settings.STRIPE_API_BASE = url
    stripe_gateway.reset_client()


@pytest.fixture
def with_card(stripe_enabled):
    """Attach a card to a tenant (through our service): `pm_card_visa` or an emulator number."""
    from subscriptions.services.payment_methods import payment_method_create
    from subscriptions.tests.factories import FIXED_NOW

    def attach(tenant, number: str | None = None):
        pm = emulator_card(stripe_enabled, number) if number else "pm_card_visa"
        row = payment_method_create(tenant=tenant, stripe_payment_method_id=pm, now=FIXED_NOW)
        tenant.refresh_from_db()
        return row

    return attach


@pytest.fixture
def draft_invoice(staff_client):
    def make(tenant, amount: int = 4900) -> dict:
        response = staff_client.post(
            "invoices",
            {
                "tenant_id": str(tenant.pk),
                "line_items": [
                    {
                        "description": "Team plan",
                        "quantity": 1,
                        "unit_price": amount,
                        "total": amount,
                    }
                ],
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def finalized(staff_client, draft_invoice, django_capture_on_commit_callbacks):
    """Finalize through the API with after-commit callbacks run (collection dispatched)."""

    def make(tenant, amount: int = 4900, *, collect: bool = True) -> dict:
        invoice = draft_invoice(tenant, amount)
        if not collect:
            return staff_client.post(f"invoices/{invoice['id']}/finalize").json()
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(f"invoices/{invoice['id']}/finalize")
        assert response.status_code == 200, response.content
        return staff_client.get(f"invoices/{invoice['id']}").json()  # after collection

    return make
