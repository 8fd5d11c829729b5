"""The services behind the console's actions that are new with it: a coupon applied to a live
subscription, a tenant suspended / restored / cancelled by staff, an invoice written off (its
dunning case with it), and a bank transfer through `POST invoices/{id}/payments`."""

from datetime import timedelta

import pytest

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import Conflict, ValidationFailed
from console.tests.helpers import billed, failed_collection
from dunning.models import DunningCase
from dunning.services.staff import invoice_write_off
from dunning.services.standing import tenant_cancel, tenant_restore, tenant_suspend
from invoicing.models import Invoice, ManualPayment
from ledger.selectors import receivable_by_tenant
from subscriptions.models import CouponRedemption, Subscription
from subscriptions.services.coupons import coupon_create, subscription_coupon_apply

pytestmark = pytest.mark.django_db


def state(tenant):
    tenant.refresh_from_db()
    return tenant.status, tenant.service_level


# --- apply a coupon ---------------------------------------------------------------------------


def test_a_coupon_applied_to_a_live_subscription_counts_from_the_next_period(tenant):
    sub, _ = billed(tenant)
    now = utcnow()
    coupon_create(code="SAVE10", percent_off=10, duration="once", now=now)
    redemption = subscription_coupon_apply(subscription=sub, code="save10", now=now, actor="t")
    assert redemption.first_period_index == sub.period_index + 1
    assert redemption.coupon.times_redeemed == 0  # the object read before the F() update
    redemption.coupon.refresh_from_db()
    assert redemption.coupon.times_redeemed == 1
    # Again with the same code: the outcome holds, nothing counted twice.
    assert subscription_coupon_apply(subscription=sub, code="SAVE10", now=now).pk == redemption.pk
    redemption.coupon.refresh_from_db()
    assert redemption.coupon.times_redeemed == 1
    coupon_create(code="OTHER", percent_off=5, duration="forever", now=now)
    with pytest.raises(Conflict) as exc:
        subscription_coupon_apply(subscription=sub, code="OTHER", now=now)
    assert exc.value.code == "coupon_already_applied"


def test_the_next_invoice_preview_carries_the_applied_coupon(tenant):
    from invoicing.services.previews import invoice_upcoming

    sub, _ = billed(tenant)
    now = utcnow()
    before = invoice_upcoming(tenant_id=tenant.pk, now=now)["invoice"]
    coupon_create(code="HALF", percent_off=50, duration="once", now=now)
    subscription_coupon_apply(subscription=sub, code="HALF", now=now)
    after = invoice_upcoming(tenant_id=tenant.pk, now=now)["invoice"]
    assert before["discount"] == 0 and after["discount"] == 2500
    assert after["total"] == before["total"] - 2500


def test_an_unknown_coupon_or_a_cancelled_subscription_is_refused(tenant):
    sub, _ = billed(tenant)
    now = utcnow()
    with pytest.raises(ValidationFailed) as exc:
        subscription_coupon_apply(subscription=sub, code="NOPE", now=now)
    assert exc.value.errors == {"coupon_code": ["unknown"]}
    Subscription.objects.filter(pk=sub.pk).update(status="cancelled")
    coupon_create(code="LATE", percent_off=5, duration="once", now=now)
    with pytest.raises(Conflict):
        subscription_coupon_apply(subscription=sub, code="LATE", now=now)
    assert not CouponRedemption.objects.exists()


# --- suspend, restore, cancel -----------------------------------------------------------------


def test_suspend_then_restore_a_tenant(tenant):
    sub, _ = billed(tenant)
    now = utcnow()
    tenant_suspend(tenant_id=tenant.pk, now=now, actor="staff:boss")
    assert state(tenant) == ("suspended", "degraded")
    sub.refresh_from_db()
    assert sub.status == "suspended"
    tenant_suspend(tenant_id=tenant.pk, now=now)  # holds already: unchanged
    tenant_restore(tenant_id=tenant.pk, now=now, actor="staff:boss")
    assert state(tenant) == ("active", "full")
    sub.refresh_from_db()
    assert sub.status == "active"


def test_restore_keeps_what_dunning_says(tenant):
    _, invoice = billed(tenant, days_ago=1)
    failed_collection(invoice, now=utcnow() - timedelta(days=5))
    case = DunningCase.objects.get(invoice=invoice)
    DunningCase.objects.filter(pk=case.pk).update(stage="past_due")
    tenant_suspend(tenant_id=tenant.pk, now=utcnow())
    tenant_restore(tenant_id=tenant.pk, now=utcnow())
    assert state(tenant) == ("past_due", "full")


def test_cancel_ends_the_subscription_now_and_refuses_suspend_and_restore(tenant):
    sub, _ = billed(tenant)
    now = utcnow()
    tenant_cancel(tenant_id=tenant.pk, reason="closing the account", now=now, actor="staff:boss")
    assert state(tenant) == ("cancelled", "none")
    sub.refresh_from_db()
    assert sub.status == "cancelled" and sub.cancellation_reason == "closing the account"
    assert tenant_cancel(tenant_id=tenant.pk, reason="", now=now).status == "cancelled"
    for service in (tenant_suspend, tenant_restore):
        with pytest.raises(Conflict) as exc:
            service(tenant_id=tenant.pk, now=now)
        assert exc.value.code == "invalid_tenant_status"


# --- write off --------------------------------------------------------------------------------


def test_write_off_without_a_case_marks_the_invoice_uncollectible(tenant):
    _, invoice = billed(tenant)
    invoice_write_off(invoice_id=invoice.pk, now=utcnow(), actor="staff:boss")
    invoice.refresh_from_db()
    assert invoice.status == "uncollectible"
    assert receivable_by_tenant().get((tenant.pk, "usd"), 0) == 0


def test_write_off_with_a_case_closes_it_and_restores_the_tenant(tenant):
    _, invoice = billed(tenant, days_ago=1)
    failed_collection(invoice, now=utcnow() - timedelta(days=5))
    case = DunningCase.objects.get(invoice=invoice)
    DunningCase.objects.filter(pk=case.pk).update(stage="past_due")
    tenant_restore(tenant_id=tenant.pk, now=utcnow())
    assert state(tenant)[0] == "past_due"
    invoice_write_off(invoice_id=invoice.pk, now=utcnow(), actor="staff:boss")
    case.refresh_from_db()
    invoice.refresh_from_db()
    assert case.status == "written_off" and invoice.status == "uncollectible"
    assert state(tenant) == ("active", "full")


def test_write_off_of_a_paid_invoice_is_refused(tenant):
    from invoicing.services.lifecycle import invoice_payment_record

    _, invoice = billed(tenant)
    now = utcnow()
    invoice_payment_record(
        invoice_id=invoice.pk, amount=invoice.amount_due, method="bank_transfer",
        paid_on=now.date(), now=now,
    )  # fmt: skip
    with pytest.raises(Conflict):
        invoice_write_off(invoice_id=invoice.pk, now=now)


# --- a bank transfer through the API ----------------------------------------------------------


def test_bank_transfer_api_partial_then_full_closes_the_case(
    tenant, staff_client, django_capture_on_commit_callbacks
):
    _, invoice = billed(tenant)
    failed_collection(invoice)
    url = f"invoices/{invoice.pk}/payments"
    today = utcnow().date().isoformat()
    response = staff_client.post(
        url, {"amount": 2000, "received_on": today, "reference": "WIRE-1"},
        HTTP_IDEMPOTENCY_KEY="transfer-1",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "open" and response.json()["amount_due"] == 3000
    again = staff_client.post(
        url, {"amount": 2000, "received_on": today, "reference": "WIRE-1"},
        HTTP_IDEMPOTENCY_KEY="transfer-1",
    )  # fmt: skip
    assert again.status_code == 200 and again.json() == response.json()
    assert ManualPayment.objects.filter(invoice=invoice).count() == 1
    over = staff_client.post(url, {"amount": 3001, "received_on": today})
    assert over.status_code == 400 and "amount" in over.json()["errors"]
    future = (utcnow().date() + timedelta(days=2)).isoformat()
    assert staff_client.post(url, {"amount": 1, "received_on": future}).status_code == 400
    clash = staff_client.post(url, {"amount": 1, "received_on": today, "date": "2020-01-01"})
    assert clash.status_code == 400 and "received_on" in clash.json()["errors"]
    assert staff_client.post(url, {"received_on": today}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        paid = staff_client.post(url, {"amount": 3000, "received_on": today, "reference": "W2"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    payment = ManualPayment.objects.get(invoice=invoice, reference="W2")
    assert payment.paid_on.isoformat() == today and payment.method == "bank_transfer"
    assert DunningCase.objects.get(invoice=invoice).status == "recovered"
    assert receivable_by_tenant().get((tenant.pk, "usd"), 0) == 0
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == 5000


def test_bank_transfer_api_is_staff_only(tenant, tenant_admin_client, anon_client):
    _, invoice = billed(tenant)
    body = {"amount": 100}
    assert tenant_admin_client.post(f"invoices/{invoice.pk}/payments", body).status_code == 403
    assert anon_client.post(f"invoices/{invoice.pk}/payments", body).status_code == 401
