import re

import pytest

from invoicing.models import CreditNote, ManualPayment
from invoicing.tests.conftest import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_invoice(staff_client, tenant, django_capture_on_commit_callbacks):
    data = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [
                {"description": "Setup", "quantity": 1, "unit_price": 10000, "total": 10000}
            ],
        },
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        return staff_client.post(f"invoices/{data['id']}/finalize").json()


def test_void_and_illegal_transitions(staff_client, open_invoice):
    url = f"invoices/{open_invoice['id']}"
    voided = staff_client.post(f"{url}/void")
    assert voided.status_code == 200
    assert voided.json()["status"] == "void" and voided.json()["voided_at"]
    assert voided.json()["number"] == open_invoice["number"]  # keeps its number
    again = staff_client.post(f"{url}/void")
    assert again.status_code == 200 and again.json() == voided.json()
    finalize = staff_client.post(f"{url}/finalize")
    assert finalize.status_code == 409 and "void" in finalize.json()["message"]
    assert staff_client.post(f"{url}/payments", {"amount": 1}).status_code == 409
    assert staff_client.post(f"{url}/mark-uncollectible").status_code == 409


def test_partial_and_full_manual_payments(staff_client, open_invoice):
    url = f"invoices/{open_invoice['id']}/payments"
    first = staff_client.post(
        url,
        {"amount": 4000, "method": "bank_transfer", "reference": "WIRE-1", "date": "2026-01-05"},
    )
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["amount_paid"], first.json()["amount_due"]) == (
        "open",
        4000,
        6000,
    )
    too_much = staff_client.post(url, {"amount": 6001, "method": "check"})
    assert too_much.status_code == 400
    assert ManualPayment.objects.count() == 1
    paid = staff_client.post(url, {"amount": 6000, "method": "check"}).json()
    assert (paid["status"], paid["amount_due"], paid["amount_paid"]) == ("paid", 0, 10000)
    assert paid["paid_at"]
    void = staff_client.post(f"invoices/{open_invoice['id']}/void")
    assert void.status_code == 409 and "paid" in void.json()["message"]
    pdf = staff_client.get(f"invoices/{open_invoice['id']}/pdf")
    assert "PAID" in pdf_text(pdf.content)


def test_mark_uncollectible(staff_client, open_invoice):
    url = f"invoices/{open_invoice['id']}/mark-uncollectible"
    assert staff_client.post(url).json()["status"] == "uncollectible"
    assert staff_client.post(url).status_code == 200
    # still payable
    paid = staff_client.post(f"invoices/{open_invoice['id']}/payments", {"amount": 10000})
    assert paid.json()["status"] == "paid"


def test_credit_notes(staff_client, open_invoice, django_capture_on_commit_callbacks):
    url = f"invoices/{open_invoice['id']}/credit-notes"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"lines": [{"description": "Goodwill", "amount": 2500}], "reason": "outage"}
        )
    assert response.status_code == 201, response.json()
    note = response.json()
    assert re.fullmatch(r"CN-\d{4}-000001", note["number"]) and note["total"] == 2500
    invoice = staff_client.get(f"invoices/{open_invoice['id']}").json()
    assert invoice["amount_due"] == 7500 and invoice["total"] == 10000
    too_much = staff_client.post(url, {"lines": [{"description": "x", "amount": 7501}]})
    assert too_much.status_code == 400
    assert CreditNote.objects.count() == 1
    empty = staff_client.post(url, {"lines": []})
    assert empty.status_code == 400
    second = staff_client.post(url, {"lines": [{"description": "rest", "amount": 7500}]}).json()
    assert second["number"].endswith("000002")
    invoice = staff_client.get(f"invoices/{open_invoice['id']}").json()
    assert (invoice["status"], invoice["amount_due"]) == ("paid", 0)
    stored = CreditNote.objects.get(pk=note["id"])
    assert stored.pdf_status == "done" and stored.pdf_sha256
    pdf = staff_client.get(f"credit-notes/{note['id']}/pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert note["number"] in text and open_invoice["number"] in text and "$25.00" in text
    listed = staff_client.get(url).json()
    assert listed["count"] == 2


def test_credit_note_on_draft_is_conflict(staff_client, tenant):
    draft = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [{"description": "x", "quantity": 1, "unit_price": 100, "total": 100}],
        },
    ).json()
    response = staff_client.post(
        f"invoices/{draft['id']}/credit-notes", {"lines": [{"description": "x", "amount": 1}]}
    )
    assert response.status_code == 409 and "draft" in response.json()["message"]
    assert staff_client.post(f"invoices/{draft['id']}/void").status_code == 409
    assert staff_client.post(f"invoices/{draft['id']}/send").status_code == 409


def test_send_resends_email(
    staff_client, open_invoice, mailoutbox, django_capture_on_commit_callbacks
):
    assert len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(f"invoices/{open_invoice['id']}/send").status_code == 200
    assert len(mailoutbox) == 2
    message = mailoutbox[1]
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert open_invoice["number"] in message.subject
    assert open_invoice["number"] in message.body
    assert message.alternatives[0][1] == "text/html"
