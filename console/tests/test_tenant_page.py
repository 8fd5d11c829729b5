"""The tenant page tells the customer's whole story; status changes only through its actions."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.clock import utcnow
from billing_project.shared.money import format_money
from console.selectors import tenant_balance, tenant_timeline
from console.tests.helpers import billed, failed_collection
from invoicing.services.credit_notes import credit_note_create
from invoicing.services.lifecycle import invoice_payment_record
from ledger.selectors import receivable_for_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_balance_subscriptions_invoices_dunning_usage_and_timeline(boss, tenant):
    sub, invoice = billed(tenant, "team")
    now = utcnow()
    invoice_payment_record(invoice_id=invoice.pk, amount=5000, method="bank_transfer",
                           reference="WIRE-9", paid_on=now.date(), now=now)  # fmt: skip
    credit_note_create(invoice_id=invoice.pk, lines=[{"description": "Goodwill", "amount": 1000}],
                       reason="outage", now=now)  # fmt: skip
    failed_collection(invoice)
    page = boss.get(f"/admin/subscriptions/tenant/{tenant.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    owed = receivable_for_tenant(tenant_id=tenant.pk)["usd"]
    assert owed == 14000 == tenant_balance(tenant=tenant)["usd"]
    assert f"<strong class='console-balance'>{format_money(owed, 'usd')}</strong>" in html
    for text in ("Team", invoice.number, "WIRE-9", "CN-", "outage", "api_calls",
                 "Next invoice as it would be issued now", "1 open case(s)",
                 "No card: invoices are paid by transfer.", "No contract", "statement-pdf",
                 "Timeline", "Card charge 1 of"):  # fmt: skip
        assert text in html, text
    assert 'name="status"' not in html and 'name="service_level"' not in html
    kinds = [item.kind for item in tenant_timeline(tenant=tenant)]
    assert {"subscription", "invoice", "payment", "credit note", "dunning"} <= set(kinds)
    times = [item.at for item in tenant_timeline(tenant=tenant)]
    assert times == sorted(times, reverse=True)


def test_statement_downloads(boss, tenant):
    billed(tenant)
    base = f"/admin/subscriptions/tenant/{tenant.pk}"
    pdf = boss.get(f"{base}/statement-pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    csv = boss.get(f"{base}/statement-csv/", {"from": "2020-01-01"})
    assert csv["Content-Type"] == "text/csv" and csv.content.startswith(b"date,")
    assert b"invoice" in csv.content


def test_suspend_restore_cancel_from_the_page(boss, tenant):
    sub, _ = billed(tenant)
    base = f"/admin/subscriptions/tenant/{tenant.pk}"
    html = boss.get(f"{base}/change/").content.decode()
    for path in ("suspend", "restore", "cancel"):
        assert f"{base}/{path}/" in html
    response = boss.post(f"{base}/suspend/", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"{tenant.name} is suspended, service degraded."
    ]
    response = boss.post(f"{base}/restore/", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"{tenant.name} is active, service full."
    ]
    assert boss.post(f"{base}/cancel/", {}).status_code == 400  # a reason is required
    response = boss.post(f"{base}/cancel/", {"reason": "closing"}, follow=True)
    sub.refresh_from_db()
    assert sub.status == "cancelled"
    refused = boss.post(f"{base}/suspend/")
    assert refused.status_code == 409
    assert [str(m) for m in refused.context["messages"]] == [
        "Cannot suspend a tenant whose status is cancelled."
    ]
    timeline = boss.get(f"{base}/change/").content.decode()
    assert "Suspend: " in timeline and "(boss)" in timeline


def test_the_list_finds_a_tenant_with_its_balance(boss, tenant, other_tenant):
    billed(tenant)
    page = boss.get("/admin/subscriptions/tenant/", {"q": f'"{tenant.name}"'})
    assert page.context["cl"].result_count == 1
    assert "$50.00" in page.content.decode()
