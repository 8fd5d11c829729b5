"""GET invoices: the page JSON built by PostgreSQL equals `invoice_data` of each invoice, and the
pagination behaves as DRF's page-number pagination."""

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from django.db.models import JSONField, Value

from billing_project.shared.api.renderers import FastJSONRenderer
from invoicing.models import Invoice, InvoiceLine
from invoicing.selectors import invoice_list
from invoicing.serializers import invoice_data
from invoicing.tests.test_custom_invoices import body

pytestmark = pytest.mark.django_db


def expected(**filters) -> list:
    rendered = FastJSONRenderer().render([invoice_data(i) for i in invoice_list(**filters)])
    return orjson.loads(rendered)


def test_list_json_equals_invoice_data(staff_client, tenant, other_tenant, usage_feed):
    from invoicing.tests.conftest import at, start

    start(tenant)  # a subscription invoice (plan fee line)
    draft = staff_client.post("invoices", body(tenant)).json()
    odd = staff_client.post(
        "invoices",
        body(
            other_tenant,
            custom_fields=[],
            line_items=[
                {"description": "Half", "quantity": "2.5", "unit_price": "0.4", "total": 1},
                {"description": "Free", "quantity": 1, "unit_price": 0, "total": 0},
                {"description": "Tiny", "quantity": "0.000001", "unit_price": 3, "total": 0},
                {"description": "Big", "quantity": 3, "unit_price": "1234.5", "total": 3704},
            ],
        ),
    ).json()
    staff_client.post(f"invoices/{odd['id']}/finalize")
    voided = staff_client.post("invoices", body(other_tenant)).json()
    staff_client.post(f"invoices/{voided['id']}/finalize")
    staff_client.post(f"invoices/{voided['id']}/void")
    # odd values the API cannot write: microseconds, JSON null, a tax decision
    Invoice.objects.filter(pk=draft["id"]).update(
        created_at=datetime(2026, 1, 5, 10, 11, 12, 130000, tzinfo=UTC),
        custom_fields=Value(None, JSONField()),  # JSON null
        tax_decision={"rate": "0.0825", "jurisdiction": "US-CA", "reverse_charge": False},
    )
    InvoiceLine.objects.filter(invoice_id=odd["id"], description="Big").update(
        explanation={}, period_start=at("2026-01-01T00:00:00.000001Z")
    )
    assert Invoice.objects.count() == 4
    listed = staff_client.get("invoices").json()
    assert listed["count"] == 4 and listed["next"] is None and listed["previous"] is None
    assert listed["results"] == expected()
    amounts = {line["description"]: line for i in listed["results"] for line in i["lines"]}
    assert "Free" not in amounts and amounts["Half"]["quantity"] == 2.5
    assert amounts["Big"]["unit_price"] == 1234.5 and amounts["Big"]["explanation"] == {}
    assert amounts["Big"]["period_start"] == "2026-01-01T00:00:00.000001Z"
    by_id = {i["id"]: i for i in listed["results"]}
    assert by_id[draft["id"]]["custom_fields"] == [] and by_id[draft["id"]]["number"] is None
    assert by_id[draft["id"]]["tax_decision"]["jurisdiction"] == "US-CA"
    for params, filters in (
        ({"tenant_id": str(tenant.pk)}, {"tenant_id": tenant.pk}),
        ({"status": "void"}, {"status": "void"}),
        (
            {"period": "2026-01"},
            {
                "period_start": datetime(2026, 1, 1, tzinfo=UTC),
                "period_end": datetime(2026, 2, 1, tzinfo=UTC),
            },
        ),
    ):
        assert staff_client.get("invoices", params).json()["results"] == expected(**filters)


def test_list_pagination_like_drf(staff_client, tenant):
    for _ in range(5):
        staff_client.post("invoices", body(tenant))
    ids = [str(pk) for pk in invoice_list().values_list("pk", flat=True)]
    first = staff_client.get("invoices", {"page_size": 2}).json()
    assert first["count"] == 5 and [i["id"] for i in first["results"]] == ids[:2]
    assert first["next"] == "http://testserver/api/v1/billing/invoices?page=2&page_size=2"
    assert first["previous"] is None
    second = staff_client.get("invoices", {"page_size": 2, "page": 2}).json()
    assert [i["id"] for i in second["results"]] == ids[2:4]
    assert second["previous"] == "http://testserver/api/v1/billing/invoices?page_size=2"
    last = staff_client.get("invoices", {"page_size": 2, "page": "last"}).json()
    assert [i["id"] for i in last["results"]] == ids[4:] and last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/billing/invoices?page=2&page_size=2"
    for page in (0, 4, "x", -1):
        response = staff_client.get("invoices", {"page_size": 2, "page": page})
        assert response.status_code == 404, page
    assert len(staff_client.get("invoices", {"page_size": "x"}).json()["results"]) == 5
    empty = staff_client.get("invoices", {"status": "paid"}).json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}


def test_list_is_one_query_after_auth(staff_client, tenant, django_assert_num_queries):
    for _ in range(3):
        staff_client.post("invoices", body(tenant))
    staff_client.get("invoices")  # last_used_at written
    with django_assert_num_queries(2):  # token, then count + page + lines
        assert staff_client.get("invoices").json()["count"] == 3


def test_decimal_rendering_matches():
    from invoicing.serializers import number

    for text in ("2.5", "0.4", "1234.5", "0.000001", "15000"):
        assert orjson.loads(FastJSONRenderer().render([number(Decimal(text))])) == [
            float(text) if "." in text else int(text)
        ]


def test_one_invoice_contract(staff_client, tenant, other_tenant, usage_feed):
    """`InvoiceSerializer` (what the schema shows) is the definition: `invoice_data` and the
    SQL-built list have exactly its fields, and every answer conforms to the schema, strictly
    (all fields present, none other, null only where the schema says so)."""
    from invoicing.serializers import InvoiceLineSerializer, InvoiceSerializer
    from invoicing.sql import INVOICE_JSON_FIELDS, LINE_JSON_FIELDS
    from invoicing.tests.conftest import start
    from invoicing.tests.openapi import assert_conforms

    assert list(INVOICE_JSON_FIELDS) == list(InvoiceSerializer().fields)
    assert list(LINE_JSON_FIELDS) == list(InvoiceLineSerializer().fields)
    _, first = start(tenant)
    created = staff_client.post("invoices", body(other_tenant))
    assert created.status_code == 201
    assert_conforms("Invoice", created.json())
    draft_id = created.json()["id"]
    patched = staff_client.patch(f"invoices/{draft_id}", {"custom_fields": None, "notes": None})
    assert patched.status_code == 200
    assert_conforms("Invoice", patched.json())
    Invoice.objects.filter(pk=draft_id).update(tax_decision={"rate": "0.0825"})
    finalized = staff_client.post(f"invoices/{draft_id}/finalize").json()
    assert_conforms("Invoice", finalized)
    note = staff_client.post(
        f"invoices/{draft_id}/credit-notes", {"lines": [{"description": "Goodwill", "amount": 1}]}
    )
    assert note.status_code == 201
    assert_conforms("CreditNote", note.json())
    assert_conforms(
        "PaginatedCreditNoteList", staff_client.get(f"invoices/{draft_id}/credit-notes").json()
    )
    assert_conforms("Invoice", staff_client.post(f"invoices/{draft_id}/void").json())
    detail = staff_client.get(f"invoices/{first.pk}").json()
    assert_conforms("Invoice", detail)
    assert list(detail) == list(InvoiceSerializer().fields)
    assert list(detail["lines"][0]) == list(InvoiceLineSerializer().fields)
    listed = staff_client.get("invoices").json()
    assert_conforms("PaginatedInvoiceList", listed)
    assert [list(i) for i in listed["results"]] == [list(InvoiceSerializer().fields)] * 2
    assert listed["results"] == expected()
