import hashlib
from unittest import mock

import pytest
from django.core import mail

from invoicing.models import Invoice, InvoiceSettings
from invoicing.services import documents
from invoicing.services.branding import LogoFetchError, logo_fetch
from invoicing.tests.conftest import at, pdf_text, start

pytestmark = pytest.mark.django_db


def test_trial_end_invoice_pdf_text_and_stable_checksum(tenant, django_capture_on_commit_callbacks):
    from invoicing.services.cycle import billing_cycle_run

    InvoiceSettings.objects.create(
        pk=1,
        company_name="Acme Billing GmbH",
        custom_fields=[{"name": "Support", "value": "help@acme.example"}],
        payment_instructions="IBAN DE00 1234",
    )
    tenant.vat_id = "DE123456789"
    tenant.save()
    start(tenant, "team", trial_period_days=14)
    with django_capture_on_commit_callbacks(execute=True):
        billing_cycle_run(now=at("2026-01-15T00:00:00Z"))
    invoice = Invoice.objects.get()
    assert invoice.total == 10968 and invoice.pdf_status == "done" and invoice.pdf_sha256
    stored = invoice.pdf_file.read()
    assert hashlib.sha256(stored).hexdigest() == invoice.pdf_sha256
    text = pdf_text(stored)
    for expected in (
        invoice.number,
        "Acme Billing GmbH",
        "DE123456789",
        "Team plan, 17 of 31 days",
        "prorated 17/31 days",
        "$109.68",
        "Support",
        "IBAN DE00 1234",
        "Jan 15, 2026",
    ):
        assert expected in text, expected
    # regenerated on demand: the same bytes
    assert documents.invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk)) == stored
    # email with the PDF attached
    message = mail.outbox[0]
    assert message.to == [tenant.email]
    assert message.attachments[0][2] == "application/pdf"
    assert message.attachments[0][1] == stored


def test_custom_fields_and_void_stamp(staff_client, tenant, django_capture_on_commit_callbacks):
    data = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [
                {"description": "Migration", "quantity": 2, "unit_price": 12500, "total": 25000}
            ],
            "custom_fields": [{"name": "PO Number", "value": "ENT-2024-001"}],
        },
    ).json()
    draft_text = pdf_text(staff_client.get(f"invoices/{data['id']}/pdf").content)
    assert "DRAFT" in draft_text
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"invoices/{data['id']}/finalize")
    text = pdf_text(staff_client.get(f"invoices/{data['id']}/pdf").content)
    assert "PO Number" in text and "ENT-2024-001" in text and "$250.00" in text
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"invoices/{data['id']}/void")
    assert "VOID" in pdf_text(staff_client.get(f"invoices/{data['id']}/pdf").content)


def test_email_failure_never_rolls_back(staff_client, tenant, django_capture_on_commit_callbacks):
    data = staff_client.post(
        "invoices",
        {
            "tenant_id": str(tenant.pk),
            "line_items": [{"description": "x", "quantity": 1, "unit_price": 100, "total": 100}],
        },
    ).json()
    with (
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = staff_client.post(f"invoices/{data['id']}/finalize")
    assert response.status_code == 200 and response.json()["status"] == "open"
    invoice = Invoice.objects.get(pk=data["id"])
    assert (
        invoice.number and invoice.email_status == "failed" and "smtp down" in invoice.email_error
    )
    assert invoice.pdf_status == "done"
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(f"invoices/{data['id']}/send")
    invoice.refresh_from_db()
    assert invoice.email_status == "done" and invoice.email_error == ""


def test_renderer_fetches_nothing():
    fetcher = documents.NoNetworkFetcher()
    for url in ("http://example.com/x.png", "file:///etc/passwd", "https://169.254.169.254/"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    html = '<img src="file:///etc/hostname"><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
    assert documents.html_to_pdf(html, identifier="x").startswith(b"%PDF")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/logo.png",
        "http://localhost/logo.png",
        "http://10.1.2.3/logo.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/logo.png",
        "ftp://example.com/logo.png",
        "file:///etc/passwd",
        "http://user:pw@example.com/logo.png",
    ],
)
def test_logo_fetch_refuses_non_public_addresses(url):
    with pytest.raises(LogoFetchError):
        logo_fetch(url)


def test_logo_is_inlined_from_storage(tmp_path):
    from django.core.files.base import ContentFile

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
        b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
        b"\x00\x00\x00IEND\xaeB`\x82"
    )
    row = InvoiceSettings(pk=1, logo_content_type="image/png")
    row.company_logo.save("logo.png", ContentFile(png), save=True)
    from invoicing.services.branding import branding_current

    assert branding_current().logo_data_uri.startswith("data:image/png;base64,")
