import re

import pytest

from invoicing.models import Invoice, InvoiceLine

pytestmark = pytest.mark.django_db


def body(tenant, **overrides):
    data = {
        "tenant_id": str(tenant.pk),
        "billing_period": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-31T23:59:59Z"},
        "line_items": [
            {
                "description": "Team Plan - January",
                "quantity": 1,
                "unit_price": 20000,
                "total": 20000,
            },
            {
                "description": "API Overages - 5,000 calls",
                "quantity": 5000,
                "unit_price": 1,
                "total": 5000,
            },
        ],
        "due_date": "2099-02-15T00:00:00Z",
        "custom_fields": [{"name": "PO Number", "value": "ENT-2024-001"}],
        "notes": "Thank you.",
    }
    data.update(overrides)
    return data


def test_custom_invoice_draft_then_finalize(
    staff_client, tenant, mailoutbox, django_capture_on_commit_callbacks
):
    response = staff_client.post("invoices", body(tenant))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft" and data["number"] is None and data["kind"] == "custom"
    assert (data["subtotal"], data["total"], data["amount_due"]) == (25000, 25000, 25000)
    assert data["custom_fields"] == [{"name": "PO Number", "value": "ENT-2024-001"}]
    assert [line["amount"] for line in data["lines"]] == [20000, 5000]
    assert data["lines"][1]["quantity"] == 5000 and data["lines"][1]["kind"] == "custom"
    assert mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"invoices/{data['id']}/finalize")
    assert response.status_code == 200
    final = response.json()
    assert final["status"] == "open"
    assert re.fullmatch(r"INV-\d{4}-000001", final["number"])
    assert final["due_at"] == "2099-02-15T00:00:00Z"
    assert final["issued_at"] is not None
    # finalize again: outcome holds, unchanged
    again = staff_client.post(f"invoices/{data['id']}/finalize")
    assert again.status_code == 200 and again.json() == final
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [tenant.email]
    assert mailoutbox[0].attachments[0][0] == f"{final['number']}.pdf"


def test_due_date_from_payment_terms(staff_client, make_tenant):
    tenant = make_tenant(payment_terms="net_30")
    data = staff_client.post("invoices", body(tenant, due_date=None)).json()
    final = staff_client.post(f"invoices/{data['id']}/finalize").json()
    from invoicing.serializers import iso

    invoice = Invoice.objects.get(pk=data["id"])
    assert (invoice.due_at - invoice.issued_at).days == 30
    assert final["due_at"] == iso(invoice.due_at)


def test_draft_edit_and_delete(staff_client, tenant):
    data = staff_client.post("invoices", body(tenant)).json()
    response = staff_client.patch(
        f"invoices/{data['id']}",
        {
            "line_items": [
                {"description": "Consulting", "quantity": 3, "unit_price": 0.5, "total": 2}
            ]
        },
    )
    assert response.status_code == 200, response.json()
    assert response.json()["total"] == 2
    assert response.json()["lines"][0]["unit_price"] == 0.5
    assert staff_client.delete(f"invoices/{data['id']}").status_code == 204
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()


def test_finalized_invoice_never_changes(staff_client, tenant):
    data = staff_client.post("invoices", body(tenant)).json()
    staff_client.post(f"invoices/{data['id']}/finalize")
    response = staff_client.patch(f"invoices/{data['id']}", {"notes": "changed"})
    assert response.status_code == 409
    assert "open" in response.json()["message"]
    assert staff_client.delete(f"invoices/{data['id']}").status_code == 409
    assert Invoice.objects.get(pk=data["id"]).notes == "Thank you."


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"line_items": []}, "line_items"),
        (
            {
                "line_items": [
                    {"description": "x", "quantity": -1, "unit_price": 100, "total": -100}
                ]
            },
            "line_items[0]",
        ),
        (
            {
                "line_items": [
                    {"description": "x", "quantity": 1, "unit_price": -100, "total": -100}
                ]
            },
            "line_items[0]",
        ),
        (
            {"line_items": [{"description": "x", "quantity": 2, "unit_price": 100, "total": 150}]},
            "line_items[0]",
        ),
        ({"currency": "eur"}, "currency"),
        ({"due_date": "2020-01-01T00:00:00Z"}, "due_date"),
        (
            {"billing_period": {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}},
            "billing_period",
        ),
        ({"tenant_id": "00000000-0000-0000-0000-000000000000"}, "tenant_id"),
        ({"tenant_id": "not-a-uuid"}, "tenant_id"),
        (
            {"line_items": [{"description": "x", "quantity": "abc", "unit_price": 1, "total": 1}]},
            "line_items",
        ),
    ],
)
def test_bad_input_stores_nothing(staff_client, tenant, overrides, field):
    response = staff_client.post("invoices", body(tenant, **overrides))
    assert response.status_code == 400, response.json()
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert field in payload["errors"]
    assert Invoice.objects.count() == 0 and InvoiceLine.objects.count() == 0


def test_currency_matching_tenant_is_accepted(staff_client, tenant):
    assert staff_client.post("invoices", body(tenant, currency="USD")).status_code == 201


def test_auth(staff_client, anon_client, tenant, other_tenant, admin_client_for, member_client_for):
    data = staff_client.post("invoices", body(tenant)).json()
    staff_client.post(f"invoices/{data['id']}/finalize")
    own, other = admin_client_for(tenant), admin_client_for(other_tenant)
    assert anon_client.get("invoices").status_code == 401
    assert own.post("invoices", body(tenant)).status_code == 403
    for action in ("finalize", "void", "send", "mark-uncollectible", "payments", "credit-notes"):
        assert own.post(f"invoices/{data['id']}/{action}", {}).status_code == 403
    assert own.get(f"invoices/{data['id']}").status_code == 200
    assert member_client_for(tenant).get(f"invoices/{data['id']}").status_code == 200
    assert other.get(f"invoices/{data['id']}").status_code == 404
    assert other.get(f"invoices/{data['id']}/pdf").status_code == 404
    assert other.get("invoices").json()["count"] == 0
    assert own.get("invoices").json()["count"] == 1
    assert other.get("invoices", {"tenant_id": str(tenant.pk)}).status_code == 404
    assert staff_client.get("invoices/not-a-uuid").status_code == 404


def test_list_filters(staff_client, tenant, other_tenant):
    a = staff_client.post("invoices", body(tenant)).json()
    staff_client.post("invoices", body(other_tenant))
    staff_client.post(f"invoices/{a['id']}/finalize")
    assert staff_client.get("invoices").json()["count"] == 2
    assert staff_client.get("invoices", {"tenant_id": str(tenant.pk)}).json()["count"] == 1
    assert staff_client.get("invoices", {"status": "draft"}).json()["count"] == 1
    assert staff_client.get("invoices", {"period": "2026-01"}).json()["count"] == 2
    assert staff_client.get("invoices", {"period": "2026-03"}).json()["count"] == 0
    assert staff_client.get("invoices", {"status": "nope"}).status_code == 400


def test_null_items_and_bad_currency_are_400_not_500(staff_client, tenant):
    """Found by schemathesis: null list items reached the service (DRF hands a list's
    allow_null to its items) and answered 500."""
    hostile = {"custom_fields": [None, None], "currency": "0", "line_items": []}
    created = staff_client.post("invoices", {"tenant_id": str(tenant.pk), **hostile})
    assert created.status_code == 400, created.content
    errors = created.json()["errors"]
    assert set(errors) == {"custom_fields", "currency", "line_items"}
    assert errors["line_items"] == ["At least one line item is required."]
    draft = staff_client.post("invoices", body(tenant)).json()
    patched = staff_client.patch(f"invoices/{draft['id']}", hostile)
    assert patched.status_code == 400, patched.content
    assert created.json()["code"] == patched.json()["code"] == "validation_error"
    assert Invoice.objects.count() == 1
    assert staff_client.get(f"invoices/{draft['id']}").json() == draft


def test_patch_with_a_partial_line_is_a_400(staff_client, tenant):
    """A PATCH is partial, but each line it sends is whole (a missing description was a 500)."""
    draft = staff_client.post("invoices", body(tenant)).json()
    response = staff_client.patch(f"invoices/{draft['id']}", {"line_items": [{"quantity": "1"}]})
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]["line_items"]["0"]
    assert set(errors) == {"description", "unit_price", "total"}
    assert staff_client.get(f"invoices/{draft['id']}").json() == draft
