"""The same Stripe webhook delivered 10 times at once (threads against a live server), then 10
different events about the same PaymentIntent at once: one stored event per id, one payment,
one receipt, one journal entry."""

import json
import threading

import pytest
import requests

from billing_project.shared import stripe_gateway
from billing_project.shared.testing.localstripe import _configure
from invoicing.models import Invoice, ManualPayment
from ledger.models import JournalEntry
from payments.models import PaymentAttempt, WebhookEvent
from payments.tests.conftest import WEBHOOK_URL, event_for, sign

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def _deliver_at_once(url: str, bodies: list[bytes]) -> list[int]:
    """One thread per body, released together by a barrier."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def send(index: int, body: bytes) -> None:
        barrier.wait()
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
            timeout=60,
        )
        statuses[index] = response.status_code

    threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return statuses


def test_one_webhook_ten_times_concurrently_has_one_effect(
    live_server, settings, stripe_enabled, webhook_secret, tenant, with_card, staff_client,
    mailoutbox,
):  # fmt: skip
    card = with_card(tenant)
    draft = staff_client.post(
        "invoices",
        {"tenant_id": str(tenant.pk),
         "line_items": [{"description": "Team", "quantity": 1, "unit_price": 4200,
                         "total": 4200}]},
    ).json()  # fmt: skip
    # The charge goes out while our answer is lost: Stripe unreachable for the collection, so
    # the attempt stays pending; the intent is then made at Stripe with the attempt's key.
    restore = _configure(settings, api_base="http://127.0.0.1:9")
    assert staff_client.post(f"invoices/{draft['id']}/finalize").status_code == 200
    restore()
    stripe_gateway.reset_client()
    settings.STRIPE_API_BASE = stripe_enabled
    (attempt,) = PaymentAttempt.objects.filter(invoice_id=draft["id"])
    assert attempt.status == "pending"
    intent = stripe_gateway.payment_intent_create(
        amount=4200,
        currency="usd",
        customer_id=tenant.stripe_customer_id,
        pm_id=card.stripe_payment_method_id,
        metadata={"invoice_id": draft["id"], "attempt": str(attempt.number)},
        idempotency_key=attempt.idempotency_key,
    )
    raw = stripe_gateway.raw_object("payment_intent", intent.id)
    entries = JournalEntry.objects.count()
    url = f"{live_server.url}{WEBHOOK_URL}"

    same = json.dumps(event_for(raw, "payment_intent.succeeded", event_id="evt_same_1")).encode()
    assert _deliver_at_once(url, [same] * 10) == [200] * 10
    (event,) = WebhookEvent.objects.filter(stripe_id="evt_same_1")
    assert event.status == "processed", event.last_error

    distinct = [
        json.dumps(event_for(raw, "payment_intent.succeeded", event_id=f"evt_other_{i}")).encode()
        for i in range(10)
    ]
    assert _deliver_at_once(url, distinct) == [200] * 10
    # (The session's emulator may also deliver its own events to the live server: not counted.)
    ours = WebhookEvent.objects.filter(stripe_id__startswith="evt_other_")
    assert ours.count() == 10
    assert set(ours.values_list("status", flat=True)) == {"processed"}

    attempt.refresh_from_db()
    assert (attempt.status, attempt.stripe_payment_intent_id) == ("succeeded", intent.id)
    assert PaymentAttempt.objects.filter(invoice_id=draft["id"]).count() == 1
    invoice = Invoice.objects.get(pk=draft["id"])
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", 4200, 0)
    (payment,) = ManualPayment.objects.filter(invoice=invoice)  # one payment row, by card
    assert (payment.amount, payment.method, payment.reference) == (4200, "card", intent.id)
    assert JournalEntry.objects.count() == entries + 1  # one payment posting
    receipts = [m for m in mailoutbox if m.subject.startswith("Receipt")]
    assert len(receipts) == 1
