"""Dunning over HTTP: cases, staff actions, entitlements, the tenant summary, suspension."""

from datetime import date, timedelta

import pytest

from dunning.models import DunningCase
from dunning.tests.helpers import notices, state
from invoicing.services.lifecycle import invoice_payment_record
from payments.models import PaymentAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]


def test_auth_matrix(declined, anon_client, tenant_admin_client, tenant_member_client):
    _, _, case = declined
    paths = [
        ("get", "dunning/cases"),
        ("get", f"dunning/cases/{case.pk}"),
        ("post", f"dunning/cases/{case.pk}/pause"),
        ("post", f"dunning/cases/{case.pk}/resume"),
        ("post", f"dunning/cases/{case.pk}/retry"),
        ("post", f"dunning/cases/{case.pk}/write-off"),
        ("get", "dunning/policy"),
    ]
    for method, path in paths:
        assert getattr(anon_client, method)(path).status_code == 401, path
        assert getattr(tenant_admin_client, method)(path).status_code == 403, path
        assert getattr(tenant_member_client, method)(path).status_code == 403, path
    assert anon_client.get("entitlements").status_code == 401
    case.refresh_from_db()
    assert case.status == "open"


def test_case_list_shape_and_filters(declined, staff_client, make_tenant):
    tenant, invoice, case = declined
    body = staff_client.get("dunning/cases", {"status": "open"}).json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert {k: row[k] for k in ("id", "tenant_id", "invoice_id", "status", "stage")} == {
        "id": str(case.pk),
        "tenant_id": str(tenant.pk),
        "invoice_id": str(invoice.pk),
        "status": "open",
        "stage": "grace",
    }
    assert (row["amount_due"], row["currency"], row["invoice_number"]) == (
        5000,
        "usd",
        invoice.number,
    )
    assert [s["day"] for s in row["steps"]] == [1, 3, 7, 14, 30]
    assert row["steps"][0]["actions"] == ["retry", "email:reminder"]
    assert row["next_action_at"] == row["steps"][0]["due_at"]
    assert staff_client.get("dunning/cases", {"status": "recovered"}).json()["count"] == 0
    other = make_tenant()
    assert staff_client.get("dunning/cases", {"tenant_id": str(other.pk)}).json()["count"] == 0
    assert staff_client.get("dunning/cases", {"status": "nope"}).status_code == 400
    assert staff_client.get("dunning/cases", {"tenant_id": "nope"}).status_code == 400
    assert staff_client.get("dunning/cases/not-a-uuid").status_code == 404
    assert staff_client.get(f"dunning/cases/{tenant.pk}").status_code == 404


def test_pause_resume_shift_the_schedule(declined, staff_client, cycle):
    _, invoice, case = declined
    paused = staff_client.post(f"dunning/cases/{case.pk}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert staff_client.post(f"dunning/cases/{case.pk}/pause").json()["status"] == "paused"
    cycle(case.opened_at + timedelta(days=2, hours=1))
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 1
    DunningCase.objects.filter(pk=case.pk).update(paused_at=case.opened_at - timedelta(days=3))
    resumed = staff_client.post(f"dunning/cases/{case.pk}/resume")
    assert resumed.json()["status"] == "open"
    case.refresh_from_db()
    assert case.shift_days == 3


def test_staff_retry_and_write_off(declined, staff_client):
    tenant, invoice, case = declined
    retried = staff_client.post(f"dunning/cases/{case.pk}/retry")
    assert retried.status_code == 200, retried.content
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 2
    assert retried.json()["events"][-1]["kind"] == "retry"
    written = staff_client.post(f"dunning/cases/{case.pk}/write-off")
    assert written.status_code == 200
    assert written.json()["status"] == "written_off"
    invoice.refresh_from_db()
    assert invoice.status == "uncollectible"
    assert staff_client.post(f"dunning/cases/{case.pk}/write-off").status_code == 200
    assert staff_client.post(f"dunning/cases/{case.pk}/pause").status_code == 409
    assert staff_client.post(f"dunning/cases/{case.pk}/retry").json()["code"] == (
        "invalid_case_status"
    )


def test_suspended_tenant_is_blocked_from_plan_changes_but_may_pay_and_record_usage(
    declined, cycle, admin_client_for, mailoutbox, django_capture_on_commit_callbacks
):
    tenant, invoice, case = declined
    for day in (1, 3, 7, 14):
        cycle(case.opened_at + timedelta(days=day, hours=1))
    assert state(tenant) == ("suspended", "degraded")
    client = admin_client_for(tenant)
    sub_id = str(invoice.subscription_id)
    change = client.patch(f"subscriptions/{sub_id}", {"plan_id": "team", "prorate": True})
    assert change.status_code == 409 and change.json()["code"] == "account_suspended"
    entitlements = client.get("entitlements").json()
    assert (entitlements["status"], entitlements["service_level"]) == ("suspended", "degraded")
    assert entitlements["can_change_plan"] is False and entitlements["can_record_usage"] is True
    assert entitlements["dunning"]["open_cases"] == 1
    usage = client.post("usage", {"metric_type": "api_calls", "quantity": 5})
    assert usage.status_code in (200, 201), usage.content
    detail = client.get(f"tenants/{tenant.pk}").json()
    assert detail["status"] == "suspended"
    assert detail["dunning"]["open_cases"] == 1
    assert detail["dunning"]["amount_due"] == {"usd": 5000}
    assert detail["dunning"]["stage"] == "suspended"
    # Paid by transfer, recorded by staff: recovered, restored, one receipt.
    seen = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_payment_record(
            invoice_id=invoice.pk,
            amount=5000,
            method="bank_transfer",
            paid_on=date.today(),
            now=case.opened_at + timedelta(days=15),
        )
    assert state(tenant) == ("active", "full")
    case.refresh_from_db()
    assert case.status == "recovered"
    assert notices(mailoutbox, seen) == [f"Receipt: $50.00 paid for invoice {invoice.number}"]
    assert client.get(f"tenants/{tenant.pk}").json()["dunning"]["open_cases"] == 0
    again = client.patch(f"subscriptions/{sub_id}", {"plan_id": "team", "prorate": False})
    assert again.status_code == 200, again.content


def test_pay_endpoint_recovers_with_a_good_card(
    declined, admin_client_for, mailoutbox, django_capture_on_commit_callbacks
):
    tenant, invoice, case = declined
    client = admin_client_for(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(f"invoices/{invoice.pk}/pay", {"payment_method_id": "pm_card_visa"})
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "paid"
    case.refresh_from_db()
    assert case.status == "recovered"
    receipts = [m for m in mailoutbox if m.subject.startswith("Receipt")]
    assert len(receipts) == 1  # payments' receipt; dunning sends none of its own


def test_entitlements_for_staff_needs_a_tenant(staff_client, tenant, tenant_admin_client):
    assert staff_client.get("entitlements").status_code == 400
    body = staff_client.get("entitlements", {"tenant_id": str(tenant.pk)}).json()
    assert (body["status"], body["service_level"], body["subscription"]) == ("active", "full", None)
    assert tenant_admin_client.get("entitlements").json()["tenant_id"] == str(tenant.pk)
