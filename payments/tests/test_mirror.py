"""The dj-stripe mirror with current-format Stripe JSON (Stripe 'down': no fetches), the
mirror failures, and the drift report."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from djstripe.models import Charge as MirrorCharge
from djstripe.models import Invoice as MirrorInvoice
from djstripe.models import PaymentIntent as MirrorPaymentIntent
from djstripe.models import Refund as MirrorRefund

from payments import mirror
from payments.models import MirrorFailure, PaymentAttempt, Refund
from subscriptions import stripe_mirror

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def mirrored_customer(stripe_down):
    assert stripe_mirror.mirror_stripe_objects(
        customer=load("customer"), payment_methods=[load("payment_method")]
    )


def test_intent_charge_refund_invoice_land_in_djstripe(mirrored_customer):
    assert mirror.mirror_object("payment_intent", load("payment_intent")) is True
    assert mirror.mirror_object("charge", load("charge")) is True
    assert mirror.mirror_object("refund", load("refund")) is True
    assert mirror.mirror_object("invoice", load("invoice")) is True
    intent = MirrorPaymentIntent.objects.get(id="pi_3QyAbCdEfGhIjKlM0aBcDeFg")
    assert (intent.stripe_data["amount"], intent.stripe_data["status"], intent.customer_id) == (
        4900,
        "succeeded",
        "cus_RtQmXk2bW8hJ1a",
    )
    assert intent.metadata["invoice_id"] == "8a7d6c5b-4e3f-4a1b-9c8d-7e6f5a4b3c2d"
    charge = MirrorCharge.objects.get(id="ch_3QyAbCdEfGhIjKlM0xYzWvUt")
    assert (charge.stripe_data["amount"], charge.payment_intent_id) == (4900, intent.id)
    refund = MirrorRefund.objects.get(id="re_3QyAbCdEfGhIjKlM0rEfUnD1")
    assert refund.stripe_data["amount"] == 1000
    invoice = MirrorInvoice.objects.get(id="in_1QzHoStEdInV0iCe2aBcDeFg")
    assert invoice.stripe_data["amount_paid"] == 12000
    assert MirrorFailure.objects.count() == 0
    # Twice: updated in place.
    assert mirror.mirror_object("payment_intent", load("payment_intent")) is True
    assert MirrorPaymentIntent.objects.count() == 1


def test_a_mirror_failure_is_recorded_and_never_raises(stripe_down):
    # It names a customer the mirror lacks, and Stripe cannot be reached to fetch it.
    broken = {**load("payment_intent"), "id": "pi_broken", "customer": "cus_unknown"}
    assert mirror.mirror_object("payment_intent", broken, source="test") is False
    failure = MirrorFailure.objects.get()
    assert (failure.object_type, failure.stripe_id, failure.source) == (
        "payment_intent",
        "pi_broken",
        "test",
    )
    assert failure.error
    assert mirror.mirror_payment_intent_by_id("pi_x", source="charge") is False  # Stripe down
    assert mirror.mirror_failure_count() == 2


def test_drift_report_lists_every_difference(mirrored_customer, tenant, staff_client):
    from billing_project.shared.clock import utcnow
    from invoicing.models import CreditNote

    mirror.mirror_object("payment_intent", load("payment_intent"))
    tenant.stripe_customer_id = "cus_RtQmXk2bW8hJ1a"
    tenant.save()
    other = type(tenant).objects.create(
        name="Ghost",
        email="g@g.example",
        country="US",
        stripe_customer_id="cus_notMirrored",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    data = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [{"description": "x", "quantity": 1, "unit_price": 4900, "total": 4900}],
        },
    ).json()
    invoice = staff_client.post(f"invoices/{data['id']}/finalize").json()
    now = utcnow()
    common = {
        "invoice_id": invoice["id"],
        "tenant": tenant,
        "currency": "usd",
        "stripe_customer_id": "cus_RtQmXk2bW8hJ1a",
        "stripe_payment_method_id": "pm_1",
        "created_at": now,
        "updated_at": now,
    }
    PaymentAttempt.objects.create(
        number=1,
        amount=5000,
        status="failed",
        stripe_payment_intent_id="pi_3QyAbCdEfGhIjKlM0aBcDeFg",
        **common,
    )
    PaymentAttempt.objects.create(
        number=2, amount=4900, status="succeeded", stripe_payment_intent_id="pi_missing", **common
    )
    note = CreditNote.objects.create(
        invoice_id=invoice["id"],
        tenant=tenant,
        number="CN-TEST-1",
        currency="usd",
        total=1,
        issued_at=now,
    )
    Refund.objects.create(
        invoice_id=invoice["id"],
        tenant=tenant,
        number=1,
        credit_note=note,
        amount=1,
        currency="usd",
        stripe_refund_id="re_missing",
        created_at=now,
    )
    out = StringIO()
    call_command("stripe_drift_report", stdout=out)
    lines = out.getvalue().splitlines()
    number = invoice["number"]
    assert lines == [
        f"missing customer cus_notMirrored (tenant Ghost {other.pk})",
        f"amount payment_intent pi_3QyAbCdEfGhIjKlM0aBcDeFg ({number} attempt 1): ours 5000, "
        "mirror 4900",
        f"status payment_intent pi_3QyAbCdEfGhIjKlM0aBcDeFg ({number} attempt 1): ours failed, "
        "mirror succeeded",
        f"missing payment_intent pi_missing ({number} attempt 2, succeeded)",
        f"amount invoice {number}: amount_paid 0, card payments 4900",
        f"missing refund re_missing ({number} refund 1)",
        "6 differences (2 customers, 2 payment attempts, 1 refunds checked)",
    ]


def test_drift_report_clean(db):
    out = StringIO()
    call_command("stripe_drift_report", stdout=out)
    assert out.getvalue().splitlines() == [
        "0 differences (0 customers, 0 payment attempts, 0 refunds checked)"
    ]
