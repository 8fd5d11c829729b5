"""`invoices_collectable` answers, for many invoices at once, what `invoice_collect` would do."""

from datetime import UTC, datetime

import pytest

from invoicing.models import Invoice
from payments.models import PaymentAttempt
from payments.services.collection import invoice_collect, invoices_collectable
from subscriptions.models import PaymentMethod

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def invoice(tenant, number, **fields):
    values = {
        "tenant": tenant, "kind": "custom", "status": "open", "number": number, "currency": "usd",
        "subtotal": 5000, "total": 5000, "amount_due": 5000, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    return Invoice.objects.create(**{**values, **fields})


def pending(inv):
    return PaymentAttempt.objects.create(
        invoice=inv, tenant=inv.tenant, number=1, amount=5000, currency="usd", status="pending",
        trigger="auto", stripe_customer_id="cus_x", stripe_payment_method_id="pm_x",
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_manual_collection_only_a_pending_charge_counts(make_tenant):
    tenant = make_tenant()
    plain, waiting = invoice(tenant, "C-1"), invoice(tenant, "C-2")
    paid = invoice(tenant, "C-3", status="paid", amount_due=0, amount_paid=5000)
    pending(waiting)
    pending(paid)
    ids = [plain.pk, waiting.pk, paid.pk]
    assert invoices_collectable(invoice_ids=ids) == {waiting.pk}
    assert invoice_collect(invoice_id=plain.pk, now=NOW, trigger="dunning") is None
    assert invoice_collect(invoice_id=paid.pk, now=NOW, trigger="dunning") is None
    assert invoices_collectable(invoice_ids=[]) == set()


def test_with_stripe_a_default_card_and_a_customer_are_needed(make_tenant, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_not_called"
    with_card, no_customer, no_card = make_tenant(), make_tenant(), make_tenant()
    with_card.stripe_customer_id = "cus_1"
    with_card.save()
    no_card.stripe_customer_id = "cus_3"
    no_card.save()
    for tenant, pm in ((with_card, "pm_1"), (no_customer, "pm_2")):
        PaymentMethod.objects.create(
            tenant=tenant, stripe_payment_method_id=pm, is_default=True, created_at=NOW
        )
    a, b, c = invoice(with_card, "D-1"), invoice(no_customer, "D-2"), invoice(no_card, "D-3")
    nothing_due = invoice(with_card, "D-4", amount_due=0, amount_paid=5000)
    void = invoice(with_card, "D-5", status="void", amount_due=0)
    uncollectible = invoice(with_card, "D-6", status="uncollectible")
    ids = [a.pk, b.pk, c.pk, nothing_due.pk, void.pk, uncollectible.pk]
    assert invoices_collectable(invoice_ids=ids) == {a.pk, uncollectible.pk}
    for inv in (b, c, nothing_due, void):
        assert invoice_collect(invoice_id=inv.pk, now=NOW, trigger="dunning") is None
