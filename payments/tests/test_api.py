"""`POST invoices/{id}/pay` and `POST invoices/{id}/refunds`."""

import pytest

from invoicing.models import CreditNote, Invoice
from invoicing.tests.openapi import assert_conforms
from payments.models import PaymentAttempt, Refund
from payments.tests.conftest import DECLINING_CARD

pytestmark = pytest.mark.django_db


def test_pay_roles_and_scoping(
    stripe_down, tenant, other_tenant, finalized, member_client_for, admin_client_for
):
    invoice = finalized(tenant, 1000, collect=False)
    assert member_client_for(tenant).post(f"invoices/{invoice['id']}/pay").status_code == 403
    response = admin_client_for(other_tenant).post(f"invoices/{invoice['id']}/pay")
    assert response.status_code == 404
    assert PaymentAttempt.objects.count() == 0


def test_pay_states_without_a_card(
    tenant, finalized, draft_invoice, staff_client, tenant_admin_client, settings, stripe_down
):
    draft = draft_invoice(tenant, 1000)
    response = tenant_admin_client.post(f"invoices/{draft['id']}/pay")
    assert response.status_code == 409 and response.json()["code"] == "invalid_invoice_status"
    open_ = finalized(tenant, 1000, collect=False)
    response = tenant_admin_client.post(f"invoices/{open_['id']}/pay")
    assert response.status_code == 409 and response.json()["code"] == "no_payment_method"
    staff_client.post(f"invoices/{open_['id']}/void")
    assert tenant_admin_client.post(f"invoices/{open_['id']}/pay").status_code == 409
    settings.STRIPE_SECRET_KEY = ""
    other = finalized(tenant, 1000, collect=False)
    response = tenant_admin_client.post(f"invoices/{other['id']}/pay")
    assert response.status_code == 409 and response.json()["code"] == "card_payments_disabled"
    staff_client.post(
        f"invoices/{other['id']}/payments", {"amount": 1000, "method": "bank_transfer"}
    )
    paid = tenant_admin_client.post(f"invoices/{other['id']}/pay")
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid" and paid.json()["payment_attempts"] == []
    assert PaymentAttempt.objects.count() == 0


@pytest.mark.stripe
def test_pay_after_a_decline_with_another_card(tenant, with_card, finalized, tenant_admin_client):
    with_card(tenant, DECLINING_CARD)
    invoice = finalized(tenant, 4900, collect=False)
    declined = tenant_admin_client.post(f"invoices/{invoice['id']}/pay")
    assert declined.status_code == 200
    body = declined.json()
    assert body["status"] == "open" and body["amount_due"] == 4900
    (attempt,) = body["payment_attempts"]
    assert attempt["status"] == "failed" and attempt["failure_code"] == "card_declined"
    assert attempt["decline_code"] and attempt["number"] == 1
    paid = tenant_admin_client.post(
        f"invoices/{invoice['id']}/pay", {"payment_method_id": "pm_card_visa"}
    )
    assert paid.status_code == 200
    body = paid.json()
    assert body["status"] == "paid" and body["amount_paid"] == 4900
    assert [a["status"] for a in body["payment_attempts"]] == ["failed", "succeeded"]
    again = tenant_admin_client.post(f"invoices/{invoice['id']}/pay")
    assert again.status_code == 200 and again.json() == body
    listed = tenant_admin_client.get(f"invoices/{invoice['id']}/payment-attempts").json()
    assert listed["count"] == 2
    assert_conforms("InvoicePayment", declined.json())
    assert_conforms("InvoicePayment", body)
    assert_conforms("PaginatedPaymentAttemptList", listed)


@pytest.mark.stripe
def test_pay_with_stripe_down_answers_with_the_pending_attempt(
    tenant, with_card, finalized, tenant_admin_client, settings
):
    from payments.tests.conftest import stripe_goes_down

    with_card(tenant)
    invoice = finalized(tenant, 4900, collect=False)
    stripe_goes_down(settings)
    response = tenant_admin_client.post(f"invoices/{invoice['id']}/pay")
    assert response.status_code == 200
    (attempt,) = response.json()["payment_attempts"]
    assert attempt["status"] == "pending" and attempt["next_retry_at"]


@pytest.mark.stripe
def test_card_refund_at_stripe_with_a_credit_note(
    tenant, with_card, finalized, staff_client, tenant_admin_client, stripe_enabled
):
    import requests

    from billing_project.shared.testing.localstripe import TEST_SECRET_KEY

    with_card(tenant)
    invoice = finalized(tenant, 5000)
    assert invoice["status"] == "paid"
    url = f"invoices/{invoice['id']}/refunds"
    assert tenant_admin_client.post(url, {"amount": 100}).status_code == 403
    too_much = staff_client.post(url, {"amount": 5001, "reason": "x"})
    assert too_much.status_code == 400 and "amount" in too_much.json()["errors"]
    response = staff_client.post(url, {"amount": 2000, "reason": "Service outage"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["method"], body["status"]) == (2000, "card", "succeeded")
    assert body["stripe_refund_id"].startswith("re_")
    note = CreditNote.objects.get(pk=body["credit_note_id"])
    assert note.total == 2000 and note.number == body["credit_note_number"]
    refund = requests.get(
        f"{stripe_enabled}/v1/refunds/{body['stripe_refund_id']}",
        auth=(TEST_SECRET_KEY, ""),
        timeout=5,
    ).json()
    attempt = PaymentAttempt.objects.get(invoice_id=invoice["id"])
    assert (refund["amount"], refund["payment_intent"]) == (2000, attempt.stripe_payment_intent_id)
    rest = staff_client.post(url, {"amount": 3001})
    assert rest.status_code == 400
    assert staff_client.post(url, {"amount": 3000}).status_code == 201
    assert staff_client.post(url, {"amount": 1}).status_code == 400
    paid = Invoice.objects.get(pk=invoice["id"])
    assert (paid.status, paid.amount_paid, paid.amount_credited) == ("paid", 5000, 5000)
    assert staff_client.get(url).json()["count"] == 2


def test_transfer_refund_is_recorded_with_a_credit_note(tenant, finalized, staff_client):
    invoice = finalized(tenant, 3000, collect=False)
    url = f"invoices/{invoice['id']}/refunds"
    response = staff_client.post(url, {"amount": 100})
    assert response.status_code == 409  # not paid yet
    staff_client.post(
        f"invoices/{invoice['id']}/payments", {"amount": 3000, "method": "bank_transfer"}
    )
    response = staff_client.post(url, {"amount": 1000, "reason": "goodwill"})
    assert response.status_code == 201
    assert response.json()["method"] == "manual" and response.json()["stripe_refund_id"] is None
    assert Refund.objects.get().credit_note.total == 1000


@pytest.mark.stripe
def test_refund_with_stripe_down_is_503_and_changes_nothing(
    tenant, with_card, finalized, staff_client, settings
):
    from payments.tests.conftest import stripe_goes_down

    with_card(tenant)
    invoice = finalized(tenant, 5000)
    stripe_goes_down(settings)
    response = staff_client.post(f"invoices/{invoice['id']}/refunds", {"amount": 100})
    assert response.status_code == 503
    assert Refund.objects.count() == 0 and CreditNote.objects.count() == 0
    assert Invoice.objects.get(pk=invoice["id"]).amount_credited == 0
