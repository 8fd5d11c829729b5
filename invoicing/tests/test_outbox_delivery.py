"""An invoice whose after-commit delivery never ran (the process died after the commit) is
emailed by the billing cycle's outbox sweep, once."""

from datetime import timedelta

import pytest
from django.core import mail

from billing_project.shared.clock import utcnow
from billing_project.shared.models import OutboxMessage
from invoicing.models import Invoice
from invoicing.services.cycle import billing_cycle_run

pytestmark = pytest.mark.django_db


def test_billing_cycle_delivers_what_the_outbox_still_holds(staff_client, tenant):
    draft = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [
                {"description": "Setup", "quantity": 1, "unit_price": 900, "total": 900}
            ],
        },
    ).json()
    # No on_commit callback runs here (the test's transaction never commits): as after a crash.
    assert staff_client.post(f"invoices/{draft['id']}/finalize").status_code == 200
    (row,) = OutboxMessage.objects.all()
    assert (row.task, row.kwargs) == (
        "invoicing.deliver_invoice",
        {"invoice_id": draft["id"], "email": True},
    )
    billing_cycle_run(now=utcnow())  # within the grace: the after-commit send may be under way
    assert mail.outbox == []
    OutboxMessage.objects.update(due_at=utcnow() - timedelta(seconds=1))
    billing_cycle_run(now=utcnow())
    invoice = Invoice.objects.get(pk=draft["id"])
    assert (invoice.email_status, invoice.pdf_status) == ("done", "done")
    assert len(mail.outbox) == 1 and invoice.number in mail.outbox[0].subject
    assert not OutboxMessage.objects.exists()
    billing_cycle_run(now=utcnow())
    assert len(mail.outbox) == 1
