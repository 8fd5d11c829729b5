"""What the invoice PDF prints, read back with pdftotext: the seller's own address, the
invoice's own terms, custom fields once, periods by their last day, metric names, and column
headers aligned with their numbers."""

import re
import subprocess

import pytest

from invoicing.models import Invoice, InvoiceSettings
from invoicing.services import documents
from invoicing.services.cycle import billing_cycle_run
from invoicing.tests.conftest import at, pdf_text, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return InvoiceSettings.objects.create(
        pk=1,
        company_name="Grachten Software B.V.",
        company_address={"line1": "Herengracht 182", "city": "Amsterdam", "country": "NL"},
        tax_ids=["NL 853746333B01"],
        payment_terms="Net 30",
        custom_fields=[
            {"name": "PO Number", "value": "GLOBAL-PO-1"},
            {"name": "Support", "value": "help@grachten.example"},
        ],
    )


@pytest.fixture
def buyer(make_tenant):
    return make_tenant(
        name="Pacific Widgets",
        timezone="America/Los_Angeles",
        payment_terms="due_on_receipt",
        city="Portland",
        state="OR",
        postal_code="97201",
    )


def february_invoice(buyer, usage_feed) -> Invoice:
    start(buyer, "developer", when="2026-01-01T08:00:00Z")  # midnight in Los Angeles
    usage_feed.set(buyer, at("2026-01-01T08:00:00Z"), api_calls=12_000)
    billing_cycle_run(now=at("2026-02-01T08:00:00Z"), deliver=False)
    return Invoice.objects.get(tenant=buyer, period_start=at("2026-02-01T08:00:00Z"))


def test_period_invoice_prints_its_own_seller_terms_and_last_days(seller, buyer, usage_feed):
    invoice = february_invoice(buyer, usage_feed)
    text = pdf_text(documents.invoice_pdf_bytes(invoice))
    seller_block = text.split("Bill to")[0].split("BILL TO")[0]
    assert "Herengracht 182" in seller_block and re.search(r"Amsterdam\s*\n", seller_block)
    for demo in ("Amsterdam,", "CA", "94105", "123 Tech Street", "San Francisco", "US"):
        assert not re.search(rf"(?<!\w){re.escape(demo)}(?!\w)", seller_block), demo
    assert "Portland, OR 97201" in text  # the buyer's address reads the same way
    assert re.search(r"Terms\s+Due on receipt", text) and "Net 30" not in text
    assert re.search(r"Due date\s+Feb 1, 2026", text)
    # The fee in advance and January's overage in arrears, by their last day.
    assert "Feb 1, 2026 – Feb 28, 2026" in text
    assert "Jan 1, 2026 – Jan 31, 2026" in text
    assert "Mar 1, 2026" not in text and "– Feb 1, 2026" not in text
    assert "API calls: 2,000 over 10,000 included" in text and "api_calls" not in text
    assert "measured 12,000, included 10,000" in text and re.search(r"\s2,000\s+\$0.01", text)
    # A global PO number is not the customer's: it is printed from invoices only.
    assert "GLOBAL-PO-1" not in text and "PO Number" not in text
    assert "help@grachten.example" in text


def test_invoice_po_number_prints_once(seller, buyer, staff_client):
    draft = staff_client.post(
        "invoices",
        {
            "tenant_id": str(buyer.pk),
            "custom_fields": [{"name": "PO number", "value": "ENT-2026-7"}],
            "line_items": [
                {"description": "Setup", "quantity": 1, "unit_price": 900, "total": 900}
            ],
        },
    ).json()
    assert staff_client.post(f"invoices/{draft['id']}/finalize").status_code == 200
    text = pdf_text(documents.invoice_pdf_bytes(Invoice.objects.get(pk=draft["id"])))
    assert text.count("ENT-2026-7") == 1 and len(re.findall(r"(?i)PO number", text)) == 1
    assert "GLOBAL-PO-1" not in text


def test_settings_address_is_used_when_the_row_has_none(buyer, usage_feed, settings):
    settings.BILLING_COMPANY = {**settings.BILLING_COMPANY, "city": "Lyon", "state": ""}
    text = pdf_text(documents.invoice_pdf_bytes(february_invoice(buyer, usage_feed)))
    assert "Lyon" in text.split("BILL TO")[0].split("Bill to")[0]


def _words(pdf: bytes) -> list[tuple[str, float, float, float]]:
    """(word, xMin, xMax, yMin) of every word on page 1 (pdftotext -bbox)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
    return [(w, float(x0), float(x1), float(y0)) for x0, y0, x1, w in re.findall(pattern, html)]


def test_column_headers_align_with_their_numbers(buyer, usage_feed):
    pdf = documents.invoice_pdf_bytes(february_invoice(buyer, usage_feed))
    words = _words(pdf)
    qty = next(w for w in words if w[0] == "Qty")
    header = {w[0]: w for w in words if abs(w[3] - qty[3]) < 1}
    totals_top = next(w for w in words if w[0] == "Subtotal")[3]
    rows: dict[float, list] = {}
    for word in words:
        if qty[3] + 5 < word[3] < totals_top and word[1] > header["Qty"][1] - 40:
            rows.setdefault(round(word[3]), []).append(word)
    numbers = [sorted(row, key=lambda w: w[1]) for row in rows.values() if len(row) >= 3]
    assert len(numbers) == 2  # the fee and the overage line
    for row in numbers:
        quantity, price, amount = row[-3:]
        for name, value in (("Qty", quantity), ("price", price), ("Amount", amount)):
            assert abs(header[name][2] - value[2]) < 1.0, (name, header[name], value)
