"""Cases across invoices, the final invoice at cancellation, a late pass."""

from datetime import timedelta

import pytest

from dunning.models import DunningCase, DunningEvent
from dunning.tests.helpers import notices, state
from invoicing.models import Invoice
from payments.models import PaymentAttempt

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]


def test_several_unpaid_invoices_one_case_each_tenant_follows_the_worst(
    declined, finalized, cycle, staff_client
):
    tenant, invoice, case = declined
    cycle(case.opened_at + timedelta(days=3, hours=1))
    assert state(tenant) == ("past_due", "full")
    second = finalized(tenant, 1200)  # a custom invoice, also declined: a new case, day 0
    assert second["status"] == "open"
    assert DunningCase.objects.filter(tenant=tenant).count() == 2
    assert state(tenant) == ("past_due", "full")  # the worst case still rules
    staff_client.post(f"dunning/cases/{case.pk}/write-off")
    assert state(tenant) == ("active", "full")  # the other is still in its grace period
    summary = staff_client.get(f"tenants/{tenant.pk}").json()["dunning"]
    assert (summary["open_cases"], summary["amount_due"]) == (1, {"usd": 1200})


def test_cancellation_bills_the_overages_owed_in_a_final_invoice(declined, cycle, admin_client_for):
    tenant, invoice, case = declined
    recorded = admin_client_for(tenant).post(
        "usage", {"metric_type": "api_calls", "quantity": 10_500}
    )
    assert recorded.status_code in (200, 201), recorded.content
    cycle(case.opened_at + timedelta(days=30, hours=1))
    assert state(tenant) == ("cancelled", "none")
    final = Invoice.objects.get(subscription_id=invoice.subscription_id, kind="final")
    assert [(line.kind, line.amount) for line in final.lines.all()] == [("overage", 500)]
    assert final.period_end == case.opened_at + timedelta(days=30, hours=1)


def test_a_late_pass_retries_once_and_sends_one_notice(declined, cycle, mailoutbox):
    tenant, invoice, case = declined
    seen = len(mailoutbox)
    cycle(case.opened_at + timedelta(days=15))
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 2
    assert notices(mailoutbox, seen) == [
        f"Account suspended: invoice {invoice.number} ($50.00 due)"
    ]
    assert state(tenant) == ("suspended", "degraded")
    keys = sorted(DunningEvent.objects.filter(case=case, kind="step").values_list("key", flat=True))
    assert keys == ["day:1", "day:14", "day:3", "day:7"]
