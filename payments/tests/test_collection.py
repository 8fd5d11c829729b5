"""Collection through Stripe against the emulator (localstripe) over real HTTP."""

from datetime import timedelta

import pytest

from billing_project.shared.clock import utcnow
from invoicing.models import Invoice, ManualPayment
from payments.models import PaymentAttempt
from payments.services.collection import attempt_charge, retry_pending
from payments.tests.conftest import (
    DECLINING_CARD,
    emulator_intents,
    event_for,
    post_event,
    stripe_comes_back,
    stripe_goes_down,
)

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]


def failed_emails(mailoutbox):
    return [m for m in mailoutbox if m.subject.startswith("Payment failed")]


def receipts(mailoutbox):
    return [m for m in mailoutbox if m.subject.startswith("Receipt")]


def test_finalization_charges_the_default_card(tenant, with_card, finalized, mailoutbox):
    with_card(tenant)
    data = finalized(tenant, 4900)
    invoice = Invoice.objects.get(pk=data["id"])
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", 4900, 0)
    (attempt,) = PaymentAttempt.objects.filter(invoice=invoice)
    assert (attempt.number, attempt.status, attempt.amount) == (1, "succeeded", 4900)
    assert attempt.stripe_payment_intent_id.startswith("pi_")
    assert attempt.stripe_charge_id.startswith("ch_")
    assert attempt.next_retry_at is None
    payment = ManualPayment.objects.get(invoice=invoice)
    assert (payment.method, payment.reference, payment.amount) == (
        "card",
        attempt.stripe_payment_intent_id,
        4900,
    )
    (receipt,) = receipts(mailoutbox)
    assert receipt.to == [tenant.email]
    assert invoice.number in receipt.subject and "$49.00" in receipt.subject
    assert failed_emails(mailoutbox) == []
    intents = emulator_intents(_url(), customer=tenant.stripe_customer_id)
    assert [pi["id"] for pi in intents] == [attempt.stripe_payment_intent_id]
    assert intents[0]["metadata"] == {
        "invoice_id": str(invoice.pk),
        "invoice_number": invoice.number,
        "attempt": "1",
        "tenant_id": str(tenant.pk),
    }


def _url():
    from django.conf import settings

    return settings.STRIPE_API_BASE


def test_tenant_without_card_is_left_to_transfer(tenant, stripe_enabled, finalized, mailoutbox):
    data = finalized(tenant, 4900)
    assert data["status"] == "open"
    assert PaymentAttempt.objects.count() == 0
    assert [m.subject for m in mailoutbox if "invoice" in m.subject.lower()]  # the invoice email


def test_manual_collection_deployment_charges_nothing(tenant, finalized):
    data = finalized(tenant, 4900)
    assert Invoice.objects.get(pk=data["id"]).status == "open"
    assert PaymentAttempt.objects.count() == 0


def test_decline_fails_the_attempt_and_sends_one_email_even_with_the_webhook(
    tenant,
    with_card,
    finalized,
    mailoutbox,
    client,
    webhook_secret,
    django_capture_on_commit_callbacks,
):
    with_card(tenant, DECLINING_CARD)
    data = finalized(tenant, 4900)
    invoice = Invoice.objects.get(pk=data["id"])
    assert (invoice.status, invoice.amount_paid) == ("open", 0)
    (attempt,) = PaymentAttempt.objects.filter(invoice=invoice)
    assert attempt.status == "failed"
    assert attempt.failure_code == "card_declined" and attempt.decline_code
    assert attempt.failure_notified_at is not None
    (email,) = failed_emails(mailoutbox)
    assert invoice.number in email.subject
    assert "PATCH /api/v1/billing/payment-methods/{id}/default" in email.body
    assert "POST /api/v1/billing/payment-methods" in email.body
    assert receipts(mailoutbox) == []

    # The emulator made the declined intent; its payment_failed webhook arrives afterwards.
    (intent,) = emulator_intents(_url(), customer=tenant.stripe_customer_id)
    assert intent["status"] == "requires_payment_method"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event_for(intent, "payment_intent.payment_failed"))
    assert response.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "failed"
    assert attempt.stripe_payment_intent_id == intent["id"]  # learnt from the webhook
    assert len(failed_emails(mailoutbox)) == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "open"


def test_webhook_first_then_the_charge_answer_still_one_email(
    tenant, with_card, draft_invoice, staff_client, mailoutbox, settings
):
    """Whichever path records the failure first sends the email; here the attempt fails through
    `attempt_apply_intent` (as the webhook does) before the charge path's own notify runs."""
    from payments.services import notifications
    from payments.services.collection import IntentState, attempt_apply_intent

    with_card(tenant, DECLINING_CARD)
    invoice = draft_invoice(tenant, 2500)
    staff_client.post(f"invoices/{invoice['id']}/finalize")
    attempt = _collect_without_callbacks(invoice["id"])
    assert attempt.status == "failed"
    state = IntentState(
        id="pi_from_webhook",
        status="requires_payment_method",
        failure_code="card_declined",
        metadata={"invoice_id": invoice["id"], "attempt": "1"},
    )
    attempt_apply_intent(state=state, now=utcnow())
    assert notifications.payment_failed_notify(attempt_id=attempt.pk, now=utcnow()) is True
    assert notifications.payment_failed_notify(attempt_id=attempt.pk, now=utcnow()) is False
    assert len(failed_emails(mailoutbox)) == 1


def _collect_without_callbacks(invoice_id):
    from payments.services.collection import invoice_collect

    return invoice_collect(invoice_id=invoice_id, now=utcnow(), strict=True)


def test_stripe_down_leaves_a_pending_attempt_retried_later_once(
    tenant, with_card, finalized, settings, stripe_enabled, mailoutbox
):
    with_card(tenant)
    stripe_goes_down(settings)
    data = finalized(tenant, 4900)
    (attempt,) = PaymentAttempt.objects.filter(invoice_id=data["id"])
    assert attempt.status == "pending"
    assert attempt.retries == 1 and attempt.last_error
    assert attempt.next_retry_at is not None and attempt.next_retry_at > utcnow()
    assert Invoice.objects.get(pk=data["id"]).status == "open"
    assert mailoutbox == [] or failed_emails(mailoutbox) == []

    # Still down at the retry: back-off doubles.
    first_delay = attempt.next_retry_at - attempt.updated_at
    assert retry_pending(now=attempt.next_retry_at) == 0
    attempt.refresh_from_db()
    assert attempt.retries == 2
    assert attempt.next_retry_at - attempt.updated_at == first_delay * 2

    stripe_comes_back(settings, stripe_enabled)
    assert retry_pending(now=attempt.next_retry_at - timedelta(seconds=1)) == 0  # not yet due
    assert retry_pending(now=attempt.next_retry_at) == 1
    attempt.refresh_from_db()
    assert attempt.status == "succeeded"
    assert Invoice.objects.get(pk=data["id"]).status == "paid"
    assert retry_pending(now=attempt.next_retry_at or utcnow() + timedelta(days=1)) == 0
    intents = emulator_intents(stripe_enabled, customer=tenant.stripe_customer_id)
    assert [pi["id"] for pi in intents] == [attempt.stripe_payment_intent_id]
    assert PaymentAttempt.objects.filter(invoice_id=data["id"]).count() == 1


def test_the_same_attempt_resolved_twice_makes_one_intent(
    tenant, with_card, finalized, stripe_enabled
):
    """A crash after Stripe answered leaves a pending row with the intent id: the retry reads
    the intent instead of charging again."""
    with_card(tenant)
    data = finalized(tenant, 3000)
    attempt = PaymentAttempt.objects.get(invoice_id=data["id"])
    assert attempt.status == "succeeded"
    PaymentAttempt.objects.filter(pk=attempt.pk).update(status="pending", next_retry_at=utcnow())
    for _ in range(2):
        again = attempt_charge(attempt_id=attempt.pk, now=utcnow())
        assert again.status == "succeeded"
    intents = emulator_intents(stripe_enabled, customer=tenant.stripe_customer_id)
    assert len(intents) == 1
    invoice = Invoice.objects.get(pk=data["id"])
    assert (invoice.status, invoice.amount_paid) == ("paid", 3000)
    assert ManualPayment.objects.filter(invoice=invoice).count() == 1


def test_collect_task_twice_opens_one_attempt(tenant, with_card, finalized):
    from payments.tasks import collect_invoice_task

    with_card(tenant, DECLINING_CARD)
    data = finalized(tenant, 4900)
    collect_invoice_task.apply(kwargs={"invoice_id": data["id"]})
    assert PaymentAttempt.objects.filter(invoice_id=data["id"]).count() == 1


def test_billing_cycle_hook_runs_the_retries(
    tenant, with_card, finalized, settings, stripe_enabled
):
    from invoicing.services.cycle import billing_cycle_run

    with_card(tenant)
    stripe_goes_down(settings)
    data = finalized(tenant, 4900)
    stripe_comes_back(settings, stripe_enabled)
    billing_cycle_run(now=utcnow() + timedelta(hours=1))
    assert PaymentAttempt.objects.get(invoice_id=data["id"]).status == "succeeded"
    assert Invoice.objects.get(pk=data["id"]).status == "paid"
