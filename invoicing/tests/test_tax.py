"""Tax on invoices, credit notes, the PDF, `tax/calculate` and the tax reports (issue 12)."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoicing.models import Invoice, LineKind
from invoicing.services import credit_notes, documents, lifecycle
from invoicing.services.custom import CustomLine, invoice_custom_create
from invoicing.tests.conftest import at, pdf_text, start
from tax.decision import EU_REVERSE_CHARGE_MENTION
from tax.services import tax_rate_add

pytestmark = pytest.mark.django_db

NOW = at("2026-08-10T12:00:00Z")


def custom_invoice(tenant, *amounts, now=NOW, finalize=True):
    lines = [
        CustomLine(
            description=f"Service {i + 1}", quantity=Decimal(1), unit_price=Decimal(a), total=a
        )
        for i, a in enumerate(amounts)
    ]
    invoice = invoice_custom_create(tenant_id=tenant.pk, data={"line_items": lines}, now=now)
    if finalize:
        invoice = lifecycle.invoice_finalize(invoice_id=invoice.pk, now=now, deliver=False)
    return Invoice.objects.select_related("tenant").get(pk=invoice.pk)


def text_of(invoice) -> str:
    return pdf_text(documents.invoice_pdf_bytes(invoice))


# --- the exact cases ---------------------------------------------------------------------------


def test_california_pays_825_on_100_dollars(make_tenant, staff_client):
    tenant = make_tenant(state="CA", postal_code="94105")
    invoice = custom_invoice(tenant, 10000)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (10000, 825, 10825)
    data = staff_client.get(f"invoices/{invoice.pk}").json()
    assert (data["tax"], data["total"]) == (825, 10825)
    assert data["tax_decision"]["jurisdiction"] == "US-CA"
    assert data["tax_decision"]["kind"] == "sales_tax"
    assert data["tax_decision"]["rate"] == "8.25"
    assert data["tax_decision"]["table_version"]
    tax_lines = [line for line in data["lines"] if line["kind"] == "tax"]
    assert [(line["amount"], line["description"]) for line in tax_lines] == [
        (825, "Sales tax US-CA 8.25%")
    ]
    assert "Sales tax US-CA 8.25% on $100.00" in text_of(invoice)


def test_oregon_pays_none(tenant):
    invoice = custom_invoice(tenant, 10000)
    assert (invoice.tax, invoice.total) == (0, 10000)
    assert invoice.tax_decision["kind"] == "out_of_scope"
    assert not invoice.lines.filter(kind=LineKind.TAX).exists()


def test_new_york_exempt_pays_none_and_the_reason_prints(make_tenant, staff_client):
    tenant = make_tenant(state="NY", postal_code="10001")
    response = staff_client.patch(
        f"tenants/{tenant.pk}",
        {"tax_exempt": True, "tax_exempt_reason": "Exempt organization, certificate NY-12345"},
    )
    assert response.status_code == 200, response.content
    invoice = custom_invoice(tenant, 10000)
    assert (invoice.tax, invoice.total, invoice.tax_decision["kind"]) == (0, 10000, "exempt")
    assert invoice.tax_decision["reason"] == "Exempt organization, certificate NY-12345"
    text = text_of(invoice)
    assert "Tax exempt: Exempt organization, certificate NY-12345" in text
    assert "Tax 0% (exempt), US-NY" in text


@pytest.mark.parametrize(("country", "tax"), [("DE", 1900), ("IE", 2300)])
def test_eu_consumers_pay_their_country_rate(make_tenant, country, tax):
    tenant = make_tenant(country=country, state="", postal_code="", currency="eur")
    invoice = custom_invoice(tenant, 10000)
    assert (invoice.tax, invoice.total) == (tax, 10000 + tax)
    assert (invoice.tax_decision["jurisdiction"], invoice.tax_decision["oss"]) == (country, True)


def test_french_business_from_a_us_seller_is_reverse_charged_with_the_mention_on_the_pdf(
    staff_client,
):
    response = staff_client.post(
        "tenants",
        {
            "name": "Société Exemple SA",
            "email": "compta@exemple.fr",
            "country": "FR",
            "vat_id": "FR 40 303 265 045",
            "currency": "eur",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["vat_id"] == "FR40303265045"
    from subscriptions.models import Tenant

    invoice = custom_invoice(Tenant.objects.get(pk=response.json()["id"]), 10000)
    assert (invoice.tax, invoice.total) == (0, 10000)
    assert invoice.tax_decision["kind"] == "reverse_charge"
    assert invoice.tax_decision["reverse_charge"] is True
    text = " ".join(text_of(invoice).split())
    assert EU_REVERSE_CHARGE_MENTION in text
    assert "VAT ID: FR40303265045" in text  # the buyer's id
    assert "US EIN 12-3456789" in text  # the seller's
    assert "VAT 0% (reverse charge), FR" in text


def test_a_german_vat_id_with_a_bad_checksum_is_400_everywhere(staff_client, tenant):
    body = {"name": "Beispiel GmbH", "email": "a@b.de", "country": "DE", "vat_id": "DE136695977"}
    response = staff_client.post("tenants", body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "checksum" in response.json()["errors"]["vat_id"][0]
    response = staff_client.patch(
        f"tenants/{tenant.pk}", {"country": "DE", "state": "", "vat_id": "DE136695977"}
    )
    assert response.status_code == 400 and "vat_id" in response.json()["errors"]
    response = staff_client.post(
        "tax/calculate",
        {
            "amount": 10000,
            "currency": "EUR",
            "customer_address": {"country": "DE"},
            "customer_vat_id": "DE136695977",
            "product_type": "saas_subscription",
        },
    )
    assert response.status_code == 400
    assert "checksum" in response.json()["errors"]["customer_vat_id"][0]


@pytest.mark.parametrize("country", ["GB", "UK"])
def test_uk_consumer_pays_2000(staff_client, make_tenant, country):
    response = staff_client.post(
        "tax/calculate",
        {
            "amount": 10000,
            "currency": "GBP",
            "customer_address": {"country": country, "postal_code": "SW1A 1AA"},
            "product_type": "saas_subscription",
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "tax_rate": 20,
        "tax_amount": 2000,
        "total": 12000,
        "currency": "gbp",
        "jurisdiction": "GB",
        "kind": "vat",
        "reverse_charge": False,
        "exempt": False,
        "reason": "Consumer in the UK: UK VAT.",
        "legal_mention": "",
    }
    invoice = custom_invoice(make_tenant(country="GB", state="", currency="gbp"), 10000)
    assert (invoice.tax, invoice.total) == (2000, 12000)


def test_three_lines_and_a_20_percent_coupon_in_california_tax_each_line(make_tenant, usage_feed):
    from subscriptions.services.coupons import coupon_create

    coupon_create(
        code="TWENTY",
        percent_off=20,
        duration="repeating",
        duration_in_months=2,
        now=at("2025-12-01T00:00:00Z"),
    )
    tenant = make_tenant(state="CA", postal_code="94105")
    _, first = start(tenant, "team", coupon_code="TWENTY")
    assert (first.subtotal, first.discount, first.tax) == (20000, 4000, 1320)
    # January's overages: 1,206 calls over (1 cent) and 603 AI requests over (2 cents)
    usage_feed.set(tenant, at("2026-01-01T00:00:00Z"), api_calls=101206, ai_requests=5603)
    call_command("run_billing_cycle", "--now", "2026-02-01T00:00:00Z", stdout=StringIO())
    invoice = Invoice.objects.select_related("tenant").get(
        tenant=tenant, period_start=at("2026-02-01T00:00:00Z")
    )
    assert (invoice.subtotal, invoice.discount) == (22412, 4000)
    # per line, half-up: 16,000 -> 1,320; 1,206 -> 99.495 -> 99; 1,206 -> 99; summed: 1,518
    # (on the invoice's net at once it would be 1,518.99 -> 1,519)
    assert invoice.tax == 1518
    assert invoice.total == 22412 - 4000 + 1518
    tax_line = invoice.lines.get(kind=LineKind.TAX)
    assert sorted((item["taxable"], item["tax"]) for item in tax_line.explanation["lines"]) == [
        (1206, 99),
        (1206, 99),
        (16000, 1320),
    ]
    text = text_of(invoice)
    assert "Sales tax US-CA 8.25% on $184.12" in text and "$15.18" in text
    assert "tax $13.20" in text and "tax $0.99" in text


def test_a_future_rate_leaves_todays_invoices_alone_and_applies_from_its_date(make_tenant):
    tenant = make_tenant(state="CA", postal_code="94105")
    before = custom_invoice(tenant, 10000)
    tax_rate_add(
        country="US", region="CA", rate="9.00", valid_from=date(2027, 1, 1), tax_name="Sales tax"
    )
    today = custom_invoice(tenant, 10000)
    draft = custom_invoice(tenant, 10000, finalize=False)
    assert (before.tax, today.tax) == (825, 825)
    assert before.tax_decision["table_version"] != today.tax_decision["table_version"]
    later = lifecycle.invoice_finalize(
        invoice_id=draft.pk, now=at("2027-01-02T09:00:00Z"), deliver=False
    )
    assert (later.tax, later.tax_decision["rate"], later.tax_decision["rate_valid_from"]) == (
        900,
        "9",
        "2027-01-01",
    )
    before.refresh_from_db()
    assert (before.tax, before.tax_decision["rate"]) == (825, "8.25")  # stored, not recomputed


def test_a_whole_credit_note_reverses_the_tax_exactly_and_partial_ones_in_proportion(
    make_tenant, staff_client
):
    tenant = make_tenant(state="CA", postal_code="94105")
    invoice = custom_invoice(tenant, 3333, 3333, 3334)
    assert (invoice.tax, invoice.total) == (825, 10825)  # 275 + 275 + 275
    response = staff_client.post(
        f"invoices/{invoice.pk}/credit-notes",
        {"lines": [{"description": "Goodwill", "amount": 1000}], "reason": "goodwill"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["tax"] == 76  # 1000 x 825 / 10825 = 76.2
    rest = credit_notes.credit_note_create(
        invoice_id=invoice.pk,
        lines=[{"description": "Rest", "amount": 9825}],
        reason="",
        now=NOW + timedelta(hours=1),
    )
    assert rest.tax == 825 - 76
    note = rest
    assert "Of which Sales tax US-CA 8.25%" in pdf_text(
        documents.html_to_pdf(documents.credit_note_html(note), identifier="x")
    )


# --- tax/calculate ---------------------------------------------------------------------------


def calculate(client, **body):
    payload = {
        "amount": 10000,
        "currency": "USD",
        "customer_address": {"country": "US", "state": "CA", "postal_code": "94105"},
        "product_type": "saas_subscription",
        **body,
    }
    return client.post("tax/calculate", payload)


def test_calculate_takes_the_guides_body(staff_client):
    response = calculate(staff_client, amount=20000)
    assert response.status_code == 200
    body = response.json()
    assert (body["tax_rate"], body["tax_amount"], body["total"]) == (8.25, 1650, 21650)
    assert (body["jurisdiction"], body["kind"], body["reverse_charge"], body["exempt"]) == (
        "US-CA",
        "sales_tax",
        False,
        False,
    )
    oregon = calculate(staff_client, customer_address={"country": "US", "state": "OR"}).json()
    assert (oregon["tax_amount"], oregon["kind"]) == (0, "out_of_scope")
    exempt = calculate(staff_client, tax_exempt=True, tax_exempt_reason="resale").json()
    assert (exempt["tax_amount"], exempt["exempt"], exempt["reason"]) == (0, True, "resale")
    de = calculate(staff_client, currency="EUR", customer_address={"country": "DE"}).json()
    ie = calculate(staff_client, currency="EUR", customer_address={"country": "ie"}).json()
    assert (de["tax_amount"], ie["tax_amount"]) == (1900, 2300)
    fr = calculate(
        staff_client,
        currency="EUR",
        customer_address={"country": "FR"},
        customer_vat_id="FR40303265045",
    ).json()
    assert (fr["tax_amount"], fr["reverse_charge"], fr["legal_mention"]) == (
        0,
        True,
        EU_REVERSE_CHARGE_MENTION,
    )


def test_calculate_with_a_date_uses_the_rate_in_force_then(staff_client):
    tax_rate_add(country="US", region="CA", rate="9", valid_from=date(2030, 1, 1))
    assert calculate(staff_client, date="2029-12-31").json()["tax_amount"] == 825
    assert calculate(staff_client, date="2030-01-01").json()["tax_amount"] == 900


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer_address": {"country": "ZZ"}}, "customer_address.country"),
        ({"amount": -1}, "amount"),
        ({"customer_address": {"country": "US"}}, "customer_address.state"),
        ({"customer_address": {"country": "US", "state": "XX"}}, "customer_address.state"),
        ({"customer_vat_id": "FR123"}, "customer_vat_id"),
        ({"currency": "XXX1"}, "currency"),
    ],
)
def test_calculate_refuses_bad_input_with_400(staff_client, body, field):
    response = calculate(staff_client, **body)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "validation_error" and data["message"]
    assert any(key.startswith(field.split(".")[0]) for key in data["errors"]), data


def test_calculate_is_staff_only(tenant_admin_client, anon_client):
    assert calculate(tenant_admin_client).status_code == 403
    assert calculate(anon_client).status_code == 401


# --- reports ---------------------------------------------------------------------------------


def test_oss_report_equals_the_invoices_and_credit_notes_it_covers(make_tenant, staff_client):
    de = make_tenant(country="DE", state="", postal_code="", currency="eur")
    ie = make_tenant(country="IE", state="", postal_code="", currency="eur")
    fr_business = make_tenant(country="FR", state="", vat_id="FR40303265045", currency="eur")
    ca = make_tenant(state="CA", postal_code="94105")
    q3 = [
        custom_invoice(de, 10000),
        custom_invoice(de, 2599, now=at("2026-09-30T23:00:00Z")),
        custom_invoice(ie, 5000, now=at("2026-07-01T00:00:00Z")),
        custom_invoice(fr_business, 7000),
        custom_invoice(ca, 10000),
    ]
    custom_invoice(de, 4000, now=at("2026-10-01T00:00:00Z"))  # Q4
    voided = custom_invoice(ie, 1000)
    lifecycle.invoice_void(invoice_id=voided.pk, now=NOW)
    note = credit_notes.credit_note_create(
        invoice_id=q3[0].pk, lines=[{"description": "Refund", "amount": 5950}], reason="", now=NOW
    )
    response = staff_client.get("reports/tax/oss", {"quarter": "2026-Q3"})
    assert response.status_code == 200, response.content
    report = response.json()
    rows = {(row["country"], row["rate"], row["currency"]): row for row in report["rows"]}
    assert set(rows) == {("DE", "19", "eur"), ("IE", "23", "eur")}
    de_invoices = [i for i in q3 if i.tenant_id == de.pk]
    assert rows["DE", "19", "eur"]["taxable"] == sum(i.subtotal for i in de_invoices) - (
        note.total - note.tax
    )
    assert rows["DE", "19", "eur"]["tax"] == sum(i.tax for i in de_invoices) - note.tax
    assert (rows["DE", "19", "eur"]["invoices"], rows["DE", "19", "eur"]["credit_notes"]) == (2, 1)
    assert (rows["IE", "23", "eur"]["taxable"], rows["IE", "23", "eur"]["tax"]) == (5000, 1150)
    assert report["totals"] == [
        {
            "currency": "eur",
            "taxable": sum(r["taxable"] for r in rows.values()),
            "tax": sum(r["tax"] for r in rows.values()),
        }
    ]
    assert note.tax == 950  # 5950 x 1900 / 11900: half the invoice, half its tax
    assert staff_client.get("reports/tax/oss", {"quarter": "2026-Q5"}).status_code == 400


def test_us_report_by_state(make_tenant, staff_client, tenant_admin_client):
    ca = make_tenant(state="CA", postal_code="94105")
    ny = make_tenant(state="NY", tax_exempt=True, tax_exempt_reason="resale certificate")
    custom_invoice(ca, 10000, now=at("2026-11-03T00:00:00Z"))
    custom_invoice(ca, 20000, now=at("2026-11-20T00:00:00Z"))
    custom_invoice(ny, 5000, now=at("2026-11-20T00:00:00Z"))
    custom_invoice(ca, 10000, now=at("2026-12-01T00:00:00Z"))
    report = staff_client.get("reports/tax/us", {"month": "2026-11"}).json()
    assert [(r["state"], r["kind"], r["rate"], r["taxable"], r["tax"]) for r in report["rows"]] == [
        ("CA", "sales_tax", "8.25", 30000, 2475),
        ("NY", "exempt", "0", 5000, 0),
    ]
    assert tenant_admin_client.get("reports/tax/us", {"month": "2026-11"}).status_code == 403
    assert staff_client.get("reports/tax/us", {"month": "11-2026"}).status_code == 400


def test_admin_report_view_and_csv(make_tenant, client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", "boss@x.example", "pw")
    client.force_login(admin_user)
    custom_invoice(make_tenant(country="DE", state="", currency="eur"), 10000)
    page = client.get("/admin/invoicing/invoice/tax-reports/", {"period": "2026-Q3"})
    assert page.status_code == 200 and b"DE" in page.content and b"19" in page.content
    csv = client.get(
        "/admin/invoicing/invoice/tax-reports/", {"period": "2026-Q3", "export": "csv"}
    )
    assert csv["Content-Type"] == "text/csv"
    assert csv.content.decode().splitlines() == [
        "jurisdiction,kind,rate,currency,taxable,tax,invoices,credit_notes",
        "DE,vat,19,eur,10000,1900,1,0",
    ]


def test_a_registration_without_a_rate_refuses_to_finalize(make_tenant, staff_client):
    from tax.services import tax_registration_add

    tax_registration_add(country="US", region="OR", kind="sales_tax", valid_from=date(2026, 1, 1))
    tenant = make_tenant()  # Oregon
    draft = custom_invoice(tenant, 10000, finalize=False)
    response = staff_client.post(f"invoices/{draft.pk}/finalize")
    assert response.status_code == 409
    assert response.json()["code"] == "tax_table_incomplete"
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=5),
    state=st.sampled_from(["CA", "NY", "TX", "WA", "OR"]),
)
def test_invoice_tax_is_never_negative_and_a_whole_credit_note_reverses_it(
    make_tenant, amounts, state
):
    if sum(amounts) == 0:
        amounts = [*amounts, 1]
    tenant = make_tenant(state=state)
    invoice = custom_invoice(tenant, *amounts)
    assert invoice.tax >= 0
    assert invoice.tax == sum(
        item["tax"]
        for line in invoice.lines.filter(kind=LineKind.TAX)
        for item in line.explanation["lines"]
    )
    assert invoice.total == sum(amounts) + invoice.tax
    note = credit_notes.credit_note_create(
        invoice_id=invoice.pk,
        lines=[{"description": "All of it", "amount": invoice.total}],
        reason="",
        now=NOW,
    )
    assert note.tax == invoice.tax
