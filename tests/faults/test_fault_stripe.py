"""The Stripe emulator killed during collection (a private localstripe, SIGKILLed, then started
again on its port with its store): the attempts stay pending, nothing is charged while it is
down, and once it is back each invoice is charged exactly once (our attempt rows and the
emulator's PaymentIntents counted)."""

from datetime import timedelta

import pytest

from billing_project.shared.clock import utcnow
from billing_project.shared.testing.localstripe import _configure
from invoicing.models import Invoice
from payments.models import PaymentAttempt
from payments.services.collection import retry_pending
from subscriptions.services.payment_methods import payment_method_create
from subscriptions.tests.factories import FIXED_NOW

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_stripe_killed_during_collection_charges_once_after_it_is_back(
    settings, private_stripe, make_tenant, staff_client
):
    restore = _configure(settings, api_base=private_stripe.url)
    try:
        tenants = [make_tenant() for _ in range(3)]
        ids = []
        for tenant in tenants:
            payment_method_create(
                tenant=tenant, stripe_payment_method_id="pm_card_visa", now=FIXED_NOW
            )
            draft = staff_client.post(
                "invoices",
                {"tenant_id": str(tenant.pk),
                 "line_items": [{"description": "Team", "quantity": 1, "unit_price": 2500,
                                 "total": 2500}]},
            ).json()  # fmt: skip
            ids.append(draft["id"])
        # The first invoice is collected while the emulator runs; then it is killed.
        assert staff_client.post(f"invoices/{ids[0]}/finalize").status_code == 200
        assert PaymentAttempt.objects.get(invoice_id=ids[0]).status == "succeeded"
        private_stripe.kill()
        for invoice_id in ids[1:]:
            response = staff_client.post(f"invoices/{invoice_id}/finalize")
            assert response.status_code == 200 and response.json()["status"] == "open"
        pending = PaymentAttempt.objects.filter(invoice_id__in=ids[1:])
        assert sorted(pending.values_list("status", flat=True)) == ["pending", "pending"]
        assert all(a.next_retry_at is not None for a in pending)
        # Retries while it is still down change nothing and open no second attempt.
        later = utcnow() + timedelta(hours=2)
        assert retry_pending(now=later) == 0
        assert PaymentAttempt.objects.count() == 3

        private_stripe.start()  # back, with the customers and cards it had
        assert retry_pending(now=later + timedelta(hours=2)) == 2
        assert retry_pending(now=later + timedelta(hours=4)) == 0
        # Paying again is answered with the paid invoice, no charge.
        for invoice_id in ids[1:]:
            assert staff_client.post(f"invoices/{invoice_id}/pay").status_code == 200
    finally:
        restore()
    for tenant, invoice_id in zip(tenants, ids, strict=True):
        invoice = Invoice.objects.get(pk=invoice_id)
        assert (invoice.status, invoice.amount_paid) == ("paid", 2500)
        (attempt,) = PaymentAttempt.objects.filter(invoice_id=invoice_id)
        assert attempt.status == "succeeded"
        tenant.refresh_from_db()
        intents = private_stripe.intents(customer=tenant.stripe_customer_id)
        assert [(pi["id"], pi["status"]) for pi in intents] == [
            (attempt.stripe_payment_intent_id, "succeeded")
        ]
