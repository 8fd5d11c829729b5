"""A real webhook: the emulator signs and delivers `payment_intent.succeeded` to a live server."""

import time

import pytest
import requests

from payments.models import PaymentAttempt, WebhookEvent
from payments.tests.conftest import WEBHOOK_SECRET, WEBHOOK_URL

pytestmark = pytest.mark.stripe


def test_localstripe_delivers_a_signed_event_we_store_and_process(
    live_server, stripe_enabled, webhook_secret, tenant, with_card, staff_client
):
    hook_id = f"lvb_{time.time_ns()}"
    response = requests.post(
        f"{stripe_enabled}/_config/webhooks/{hook_id}",
        data={"url": f"{live_server.url}{WEBHOOK_URL}", "secret": WEBHOOK_SECRET},
        timeout=5,
    )
    assert response.status_code == 200
    try:
        _deliver_and_check(live_server, tenant, with_card, staff_client)
    finally:
        # The emulator lives for the whole session and the live server too: left registered,
        # the hook would deliver later tests' events into their teardown flush (a deadlock).
        requests.post(
            f"{stripe_enabled}/_config/webhooks/{hook_id}",
            data={"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET},
            timeout=5,
        )


def _deliver_and_check(live_server, tenant, with_card, staff_client):
    with_card(tenant)
    data = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [{"description": "x", "quantity": 1, "unit_price": 1500, "total": 1500}],
        },
    ).json()
    # Real commits here (live_server): finalization dispatches the collection after commit.
    assert staff_client.post(f"invoices/{data['id']}/finalize").status_code == 200
    attempt = PaymentAttempt.objects.get(invoice_id=data["id"])
    assert attempt.status == "succeeded"
    deadline = time.monotonic() + 15
    event = None
    while time.monotonic() < deadline:
        event = WebhookEvent.objects.filter(
            type="payment_intent.succeeded",
            payload__data__object__id=attempt.stripe_payment_intent_id,
        ).first()
        if event is not None and event.status != "pending":
            break
        time.sleep(0.2)
    assert event is not None, "the emulator's webhook never arrived"
    assert event.status == "processed", event.last_error
    assert "attempt 1 succeeded" in event.result
    assert PaymentAttempt.objects.filter(invoice_id=data["id"]).count() == 1
