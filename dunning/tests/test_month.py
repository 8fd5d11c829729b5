"""A month of dunning replayed with `run_billing_cycle --now`, against the Stripe emulator over
real HTTP with the card that fails at charge time (4000000000000341)."""

from datetime import timedelta

import pytest

from dunning.models import DunningEvent
from dunning.tests.helpers import notices, state
from invoicing.models import Invoice
from payments.models import PaymentAttempt
from subscriptions.models import Subscription

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.stripe]


def test_a_month_of_dunning(declined, mailoutbox, staff_client, cycle):
    tenant, invoice, case = declined
    number = invoice.number
    assert notices(mailoutbox, 0) == [f"Payment failed: invoice {number} ($50.00)"]
    day0 = case.opened_at
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 1
    expected = {
        1: (f"Payment reminder: invoice {number} ($50.00 due)", 2, ("active", "full")),
        3: (f"Payment reminder: invoice {number} ($50.00 due)", 3, ("past_due", "full")),
        7: (
            "Action required: your account will be suspended on "
            f"{(day0 + timedelta(days=14)).date().isoformat()} (invoice {number}, $50.00 due)",
            4,
            ("past_due", "full"),
        ),
        14: (f"Account suspended: invoice {number} ($50.00 due)", 5, ("suspended", "degraded")),
        30: (
            f"Subscription cancelled for non-payment: invoice {number} ($50.00 due)",
            5,
            ("cancelled", "none"),
        ),
    }
    for day, (subject, attempts, status) in expected.items():
        seen = len(mailoutbox)
        cycle(day0 + timedelta(days=day, hours=1))
        cycle(day0 + timedelta(days=day, hours=1))  # the same moment twice: nothing twice
        assert notices(mailoutbox, seen) == [subject], day
        assert PaymentAttempt.objects.filter(invoice=invoice).count() == attempts, day
        assert state(tenant) == status, day
    subscription = Subscription.objects.get(tenant=tenant)
    assert (subscription.status, subscription.cancellation_reason) == ("cancelled", "non_payment")
    assert not Invoice.objects.filter(subscription=subscription, kind="final").exists()
    case.refresh_from_db()
    assert case.status == "exhausted"
    steps = DunningEvent.objects.filter(case=case, kind="step").order_by("day")
    assert [e.day for e in steps] == [1, 3, 7, 14, 30]
    cases = staff_client.get("dunning/cases", {"tenant_id": str(tenant.pk)}).json()
    assert cases["count"] == 1
    assert [s["status"] for s in cases["results"][0]["steps"]] == ["done"] * 5


def test_recovery_on_day_10_with_a_good_card(
    declined, mailoutbox, admin_client_for, cycle, django_capture_on_commit_callbacks
):
    tenant, invoice, case = declined
    day0 = case.opened_at
    for day in (1, 3, 7):
        cycle(day0 + timedelta(days=day, hours=1))
    assert state(tenant) == ("past_due", "full")
    seen = len(mailoutbox)
    # Day 10: the tenant adds a good card as its default: open cases are retried at once.
    client = admin_client_for(tenant)
    response = client.post(
        "payment-methods", {"type": "card", "stripe_payment_method_id": "pm_card_visa"}
    )
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks(execute=True):
        default = client.patch(f"payment-methods/{response.json()['id']}/default")
    assert default.status_code == 200, default.content
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    case.refresh_from_db()
    assert (case.status, case.closed_reason) == ("recovered", "paid")
    assert state(tenant) == ("active", "full")
    assert notices(mailoutbox, seen) == [f"Receipt: $50.00 paid for invoice {invoice.number}"]
    seen = len(mailoutbox)
    for day in (14, 30):
        cycle(day0 + timedelta(days=day, hours=1))
    assert notices(mailoutbox, seen) == []
    assert state(tenant) == ("active", "full")
    assert Subscription.objects.get(tenant=tenant).status == "active"
