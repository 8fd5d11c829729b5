"""`POST webhooks/stripe`: signature checks, store-once, idempotent order-independent processing."""

import json
import time
from datetime import timedelta

import pytest

from billing_project.shared import stripe_gateway
from billing_project.shared.clock import utcnow
from invoicing.models import Invoice
from payments.models import PaymentAttempt, WebhookEvent
from payments.services.webhooks import (
    MAX_ATTEMPTS,
    webhook_event_reprocess,
    webhook_events_sweep,
)
from payments.tests.conftest import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    event_for,
    post_event,
    sign,
    stripe_comes_back,
    stripe_goes_down,
)

pytestmark = pytest.mark.django_db

PING = {"id": "evt_ping_1", "object": "event", "type": "charge.dispute.created", "data": {}}


def test_no_secret_is_503_and_nothing_stored(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = post_event(client, PING)
    assert response.status_code == 503
    assert response.json()["code"] == "webhooks_disabled"
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "",  # missing
        "t=123",  # no signature
        "v1=abc",  # no timestamp
        "garbage",
    ],
)
def test_missing_or_malformed_signature_is_400(client, webhook_secret, header):
    body = json.dumps(PING).encode()
    response = client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        **({"HTTP_STRIPE_SIGNATURE": header} if header else {}),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0


def test_wrong_secret_stale_and_future_timestamps_are_400(client, webhook_secret):
    body = json.dumps(PING).encode()
    now = int(time.time())
    for header in (
        sign(body, secret="whsec_other"),
        sign(body, at=now - 360),  # margins keep a slow machine from crossing the boundary
        sign(body, at=now + 360),
        sign(body + b" "),  # the body was changed after signing
    ):
        response = post_event(client, PING, header=header, raw=body)
        assert response.status_code == 400, header
        assert response.json()["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    # Inside the tolerance both ways is fine.
    assert post_event(client, PING, header=sign(body, at=now - 250), raw=body).status_code == 200


def test_any_v1_may_match(client, webhook_secret):
    body = json.dumps(PING).encode()
    good = sign(body)
    stamp, signature = good.split(",")
    header = f"{stamp},v1={'0' * 64},v0=ignored,{signature}"
    response = post_event(client, PING, header=header, raw=body)
    assert response.status_code == 200
    assert WebhookEvent.objects.filter(stripe_id="evt_ping_1").count() == 1


def test_malformed_json_and_non_events_are_400(client, webhook_secret):
    for raw in (b"{not json", b"[1, 2]", b'{"id": 5, "type": "x"}', b'{"type": "x"}'):
        response = post_event(client, None, raw=raw, header=sign(raw))
        assert response.status_code == 400, raw
        assert response.json()["code"] in ("parse_error", "invalid_event")
    assert WebhookEvent.objects.count() == 0


def test_a_body_over_1_mb_is_413(client, webhook_secret):
    raw = b'{"id": "evt_big", "type": "x", "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = post_event(client, None, raw=raw, header=sign(raw))
    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


def test_unhandled_types_are_stored_and_ignored_and_replays_have_no_second_effect(
    client, webhook_secret, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = post_event(client, PING)
    assert first.status_code == 200
    assert first.json() == {"received": True, "id": "evt_ping_1", "duplicate": False}
    assert len(callbacks) == 1
    event = WebhookEvent.objects.get()
    assert (event.type, event.status, event.attempts) == ("charge.dispute.created", "ignored", 0)
    assert event.payload == PING
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post_event(client, PING)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert callbacks == []  # nothing dispatched twice
    assert WebhookEvent.objects.count() == 1


def test_no_token_needed_and_no_csrf(webhook_secret):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    assert post_event(csrf_client, PING).status_code == 200


@pytest.mark.stripe
def test_an_intent_stripe_does_not_know_has_no_effect(
    client, webhook_secret, stripe_enabled, django_capture_on_commit_callbacks
):
    fake = {
        "id": "pi_doesNotExist123",
        "object": "payment_intent",
        "status": "succeeded",
        "metadata": {"invoice_id": "8a7d6c5b-4e3f-4a1b-9c8d-7e6f5a4b3c2d", "attempt": "1"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event_for(fake, "payment_intent.succeeded"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "processed" and "unknown at Stripe" in event.result
    assert PaymentAttempt.objects.count() == 0


@pytest.mark.stripe
def test_succeeded_then_failed_for_the_same_attempt_ends_paid(
    tenant,
    with_card,
    draft_invoice,
    staff_client,
    client,
    webhook_secret,
    stripe_enabled,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    """The attempt is pending (its charge went out, our process died before storing the answer);
    the events arrive out of order. Handlers re-read the intent: both say succeeded."""
    from payments.services.collection import _attempt_open

    card = with_card(tenant)
    invoice = draft_invoice(tenant, 4200)
    staff_client.post(f"invoices/{invoice['id']}/finalize")  # callbacks not run: no collection
    attempt = _attempt_open(invoice_id=invoice["id"], now=utcnow(), trigger="pay", strict=True)
    intent = stripe_gateway.payment_intent_create(
        amount=4200,
        currency="usd",
        customer_id=tenant.stripe_customer_id,
        pm_id=card.stripe_payment_method_id,
        metadata={"invoice_id": invoice["id"], "attempt": "1"},
        idempotency_key=attempt.idempotency_key,
    )
    raw = stripe_gateway.raw_object("payment_intent", intent.id)
    stale_failed = {**raw, "status": "requires_payment_method"}
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event_for(raw, "payment_intent.succeeded")).status_code == 200
        assert (
            post_event(client, event_for(stale_failed, "payment_intent.payment_failed")).status_code
            == 200
        )
    attempt.refresh_from_db()
    assert attempt.status == "succeeded" and attempt.stripe_payment_intent_id == intent.id
    paid = Invoice.objects.get(pk=invoice["id"])
    assert (paid.status, paid.amount_paid) == ("paid", 4200)
    assert [e.status for e in WebhookEvent.objects.order_by("received_at")] == ["processed"] * 2
    assert not [m for m in mailoutbox if m.subject.startswith("Payment failed")]
    assert len([m for m in mailoutbox if m.subject.startswith("Receipt")]) == 1


@pytest.mark.stripe
def test_failed_handler_retries_with_backoff_then_stays_failed_and_can_be_reprocessed(
    client, webhook_secret, settings, stripe_enabled, django_capture_on_commit_callbacks
):
    obj = {"id": "pi_whileStripeIsDown1", "object": "payment_intent"}
    stripe_goes_down(settings)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event_for(obj, "payment_intent.succeeded")).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("pending", 1)
    assert "StripeUnavailable" in event.last_error
    assert webhook_events_sweep(now=utcnow()) == 0  # not due yet
    for expected in range(2, MAX_ATTEMPTS + 1):
        event.refresh_from_db()
        assert webhook_events_sweep(now=event.next_attempt_at + timedelta(seconds=1)) == 1
        event.refresh_from_db()
        assert event.attempts == expected
    assert (event.status, event.next_attempt_at) == ("failed", None)
    assert webhook_events_sweep(now=utcnow() + timedelta(days=1)) == 0
    stripe_comes_back(settings, stripe_enabled)
    event = webhook_event_reprocess(event_id=event.pk, now=utcnow())
    assert event.status == "processed" and "unknown at Stripe" in event.result


@pytest.mark.stripe
def test_payment_method_events_sync_our_rows(
    tenant, with_card, client, webhook_secret, stripe_enabled, django_capture_on_commit_callbacks
):
    from billing_project.shared.tests.test_stripe_gateway import emulator_card
    from subscriptions.models import PaymentMethod

    with_card(tenant)  # the tenant's customer and a default card
    pm_id = emulator_card(stripe_enabled, "4242424242424242")
    stripe_gateway.payment_method_attach(
        pm_id=pm_id, customer_id=tenant.stripe_customer_id, idempotency_key="t:attach:dashboard"
    )
    pm = stripe_gateway.raw_object("payment_method", pm_id)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event_for(pm, "payment_method.attached"))
    row = PaymentMethod.objects.get(stripe_payment_method_id=pm_id)
    assert (row.tenant_id, row.last4, row.is_default) == (tenant.pk, "4242", False)
    assert "added" in WebhookEvent.objects.get().result
    stripe_gateway.payment_method_detach(pm_id=pm_id, idempotency_key="t:detach:dashboard")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, event_for(pm, "payment_method.detached"))
    assert not PaymentMethod.objects.filter(stripe_payment_method_id=pm_id).exists()
    assert PaymentMethod.objects.filter(tenant=tenant, is_default=True).count() == 1


def test_verifier_returns_the_signed_timestamp():
    from payments.services.webhooks import stripe_signature_verify

    payload = b'{"id": "evt_1"}'
    header = sign(payload)
    stamp = int(header.split(",")[0][2:])
    assert (
        stripe_signature_verify(
            payload=payload, header=header, secret=WEBHOOK_SECRET, now=time.time()
        )
        == stamp
    )
