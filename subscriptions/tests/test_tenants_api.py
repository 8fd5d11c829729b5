"""POST/GET/PATCH tenants (product.md section 5)."""

import re
from uuid import UUID

import pytest

from subscriptions.models import Tenant

pytestmark = pytest.mark.django_db

MINIMAL = {"name": "Acme Inc.", "email": "billing@acme.example", "country": "US"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def assert_400(response, *fields):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    for field in fields:
        assert field in body["errors"], body
    return body


# --- create -----------------------------------------------------------------------------------


def test_create_with_minimal_fields_uses_defaults(staff_client):
    response = staff_client.post("tenants", MINIMAL)
    assert response.status_code == 201
    body = response.json()
    UUID(body["id"])
    assert ISO_Z.match(body["created_at"]), body["created_at"]
    assert {k: body[k] for k in body if k not in ("id", "created_at")} == {
        "name": "Acme Inc.",
        "email": "billing@acme.example",
        "address_line1": "",
        "city": "",
        "country": "US",
        "state": None,
        "postal_code": None,
        "vat_id": None,
        "timezone": "UTC",
        "currency": "usd",
        "payment_terms": "due_on_receipt",
        "tax_exempt": False,
        "tax_exempt_reason": "",
        "parent_id": None,
        "status": "active",
        "service_level": "full",
        "stripe_customer_id": None,
    }
    tenant = Tenant.objects.get()
    assert str(tenant.id) == body["id"]
    assert tenant.stripe_customer_id == ""


def test_create_with_every_field(staff_client, make_tenant):
    parent = make_tenant(name="Parent Group")
    body = {
        "name": "Berlin GmbH",
        "email": "rechnung@berlin.example",
        "country": "de",
        "state": "BE",
        "postal_code": "10115",
        "vat_id": "DE136695976",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "payment_terms": "net_30",
        "tax_exempt": True,
        "tax_exempt_reason": "Charity",
        "parent_id": str(parent.id),
    }
    response = staff_client.post("tenants", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["country"] == "DE"
    assert data["currency"] == "eur"
    assert data["state"] == "BE"
    for field in (
        "name",
        "email",
        "postal_code",
        "vat_id",
        "timezone",
        "payment_terms",
        "tax_exempt",
        "tax_exempt_reason",
        "parent_id",
    ):
        assert data[field] == body[field], field
    assert data["status"] == "active"
    assert data["service_level"] == "full"
    tenant = Tenant.objects.get(pk=data["id"])
    assert tenant.parent_id == parent.id
    assert tenant.currency == "eur"


def test_optional_fields_may_be_null(staff_client):
    nulls = {
        "state": None,
        "postal_code": None,
        "vat_id": None,
        "timezone": None,
        "currency": None,
        "payment_terms": None,
        "tax_exempt": None,
        "tax_exempt_reason": None,
        "parent_id": None,
    }
    response = staff_client.post("tenants", {**MINIMAL, **nulls})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["timezone"], data["currency"], data["payment_terms"]) == (
        "UTC",
        "usd",
        "due_on_receipt",
    )
    assert data["tax_exempt"] is False


@pytest.mark.parametrize(
    "vat_id", ["DE136695976", "FR40303265045", "GB980780684", "DE 136 695 976"]
)
def test_valid_vat_ids_are_accepted(staff_client, vat_id):
    country = vat_id[:2]
    response = staff_client.post("tenants", {**MINIMAL, "country": country, "vat_id": vat_id})
    assert response.status_code == 201, response.content
    assert response.json()["vat_id"] == vat_id.replace(" ", "")


def test_vat_id_without_country_prefix_takes_the_tenant_country(staff_client):
    response = staff_client.post("tenants", {**MINIMAL, "country": "DE", "vat_id": "136695976"})
    assert response.status_code == 201
    assert response.json()["vat_id"] == "DE136695976"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "USA"}, "country"),
        ({"country": ""}, "country"),
        ({"state": "ZZ"}, "state"),
        ({"country": "DE", "state": "CA"}, "state"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"currency": "zzz"}, "currency"),
        ({"currency": "dollars"}, "currency"),
        ({"vat_id": "DE136695977"}, "vat_id"),
        ({"country": "FR", "vat_id": "FR40303265046"}, "vat_id"),
        ({"vat_id": "GB980780685"}, "vat_id"),
        ({"vat_id": "nonsense"}, "vat_id"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": 123}, "email"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": None}, "name"),
        ({"name": ["Acme"]}, "name"),
        ({"name": {"first": "Acme"}}, "name"),
        ({"name": True}, "name"),
        ({"country": 12}, "country"),
        ({"tax_exempt": "maybe"}, "tax_exempt"),
        ({"tax_exempt": 2}, "tax_exempt"),
        ({"tax_exempt": []}, "tax_exempt"),
        ({"payment_terms": "net_90"}, "payment_terms"),
        ({"payment_terms": 30}, "payment_terms"),
        ({"parent_id": "not-a-uuid"}, "parent_id"),
        ({"parent_id": "00000000-0000-4000-8000-000000000000"}, "parent_id"),
        ({"parent_id": 7}, "parent_id"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(staff_client, changes, field):
    response = staff_client.post("tenants", {**MINIMAL, **changes})
    assert_400(response, field)
    assert Tenant.objects.count() == 0


def test_strings_must_be_strings_while_booleans_take_drf_forms(staff_client):
    """A number for a string is a 400 (not "123"); 0/1 and "true"/"false" are booleans."""
    response = staff_client.post("tenants", {**MINIMAL, "name": 123})
    assert_400(response, "name")
    assert Tenant.objects.count() == 0
    response = staff_client.post("tenants", {**MINIMAL, "tax_exempt": 1})
    assert response.status_code == 201
    assert response.json()["tax_exempt"] is True
    response = staff_client.post("tenants", {**MINIMAL, "tax_exempt": "false"})
    assert response.json()["tax_exempt"] is False


def test_parent_within_five_levels(staff_client, make_tenant):
    chain = [make_tenant()]
    for _ in range(3):
        chain.append(make_tenant(parent=chain[-1]))
    response = staff_client.post("tenants", {**MINIMAL, "parent_id": str(chain[-1].id)})
    assert response.status_code == 201  # level 5
    fifth = Tenant.objects.get(pk=response.json()["id"])
    response = staff_client.post("tenants", {**MINIMAL, "parent_id": str(fifth.id)})
    assert_400(response, "parent_id")  # level 6
    assert Tenant.objects.count() == 5


def test_parent_must_not_make_a_cycle(staff_client, make_tenant):
    root = make_tenant()
    child = make_tenant(parent=root)
    response = staff_client.patch(f"tenants/{root.id}", {"parent_id": str(child.id)})
    assert_400(response, "parent_id")
    root.refresh_from_db()
    assert root.parent_id is None


def test_unknown_fields_are_ignored(staff_client):
    response = staff_client.post("tenants", {**MINIMAL, "status": "suspended", "id": "x"})
    assert response.status_code == 201
    assert response.json()["status"] == "active"


# --- read ---------------------------------------------------------------------------------------


def test_get_returns_the_created_tenant(staff_client, tenant_admin_client, tenant):
    for client in (staff_client, tenant_admin_client):
        response = client.get(f"tenants/{tenant.id}")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(tenant.id)
        assert body["name"] == tenant.name
        assert body["created_at"] == "2026-01-01T00:00:00Z"


def test_staff_lists_tenants_paginated(staff_client, make_tenant):
    tenants = [make_tenant() for _ in range(3)]
    response = staff_client.get("tenants")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert sorted(t["id"] for t in body["results"]) == sorted(str(t.id) for t in tenants)
    page = staff_client.get("tenants", {"page_size": 1}).json()
    assert page["next"].startswith("http://testserver/api/v1/billing/tenants?")


# --- update -----------------------------------------------------------------------------------


def test_tenant_admin_may_change_contact_address_and_vat(tenant, tenant_admin_client):
    changes = {
        "email": "ap@tenant.example",
        "address_line1": "2 Market St",
        "city": "Los Angeles",
        "state": "ny",
        "postal_code": "10001",
        "vat_id": "DE136695976",
    }
    response = tenant_admin_client.patch(f"tenants/{tenant.id}", changes)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "NY"
    assert body["vat_id"] == "DE136695976"
    tenant.refresh_from_db()
    assert (tenant.email, tenant.city, tenant.state, tenant.postal_code) == (
        "ap@tenant.example",
        "Los Angeles",
        "NY",
        "10001",
    )


def test_tenant_admin_may_clear_optional_fields(tenant, tenant_admin_client):
    response = tenant_admin_client.patch(
        f"tenants/{tenant.id}", {"postal_code": None, "state": None}
    )
    assert response.status_code == 200
    assert response.json()["postal_code"] is None
    tenant.refresh_from_db()
    assert (tenant.postal_code, tenant.state) == ("", "")


def test_tenant_admin_may_not_change_name_currency_or_status(tenant, tenant_admin_client):
    response = tenant_admin_client.patch(
        f"tenants/{tenant.id}",
        {"name": "Hacked", "currency": "eur", "status": "active", "email": "ok@tenant.example"},
    )
    body = assert_400(response, "name", "currency", "status")
    assert set(body["errors"]) == {"currency", "name", "status"}
    assert body["message"] == "These fields may not be changed: currency, name, status."
    tenant.refresh_from_db()
    assert (tenant.name, tenant.currency, tenant.email) != ("Hacked", "eur", "ok@tenant.example")
    assert tenant.email.startswith("billing")


@pytest.mark.parametrize(
    "field_value",
    [
        ("service_level", "none"),
        ("payment_terms", "net_60"),
        ("tax_exempt", True),
        ("timezone", "Europe/Paris"),
        ("parent_id", None),
    ],
)
def test_tenant_admin_may_not_change_billing_fields(tenant, tenant_admin_client, field_value):
    field, value = field_value
    response = tenant_admin_client.patch(f"tenants/{tenant.id}", {field: value})
    assert set(assert_400(response, field)["errors"]) == {field}


def test_tenant_admin_bad_value_is_400_and_nothing_changes(tenant, tenant_admin_client):
    response = tenant_admin_client.patch(
        f"tenants/{tenant.id}", {"email": "ok@tenant.example", "state": "ZZ"}
    )
    assert_400(response, "state")
    tenant.refresh_from_db()
    assert tenant.email != "ok@tenant.example"


def test_staff_may_change_anything(tenant, staff_client, make_tenant):
    parent = make_tenant(name="Group")
    changes = {
        "name": "Renamed",
        "currency": "eur",
        "status": "suspended",
        "service_level": "degraded",
        "timezone": "Europe/Paris",
        "payment_terms": "net_60",
        "tax_exempt": True,
        "tax_exempt_reason": "Education",
        "parent_id": str(parent.id),
        "country": "FR",
        "state": None,
        "vat_id": "FR40303265045",
    }
    response = staff_client.patch(f"tenants/{tenant.id}", changes)
    assert response.status_code == 200, response.content
    body = response.json()
    for field, value in changes.items():
        assert body[field] == value, field
    tenant.refresh_from_db()
    assert (tenant.status, tenant.service_level, tenant.parent_id) == (
        "suspended",
        "degraded",
        parent.id,
    )
    response = staff_client.patch(f"tenants/{tenant.id}", {"parent_id": None})
    assert response.json()["parent_id"] is None


def test_staff_bad_values_are_400(tenant, staff_client):
    for changes, field in [
        ({"status": "frozen"}, "status"),
        ({"service_level": "gold"}, "service_level"),
        ({"parent_id": None, "currency": "zzz"}, "currency"),
    ]:
        assert_400(staff_client.patch(f"tenants/{tenant.id}", changes), field)
    assert_400(
        staff_client.patch(f"tenants/{tenant.id}", {"parent_id": str(tenant.id)}), "parent_id"
    )
    tenant.refresh_from_db()
    assert tenant.status == "active"
    assert tenant.parent_id is None


def test_changing_country_revalidates_the_state(tenant, tenant_admin_client):
    # The tenant is in US/CA; CA is no subdivision of Germany.
    response = tenant_admin_client.patch(f"tenants/{tenant.id}", {"country": "DE"})
    assert_400(response, "state")
    response = tenant_admin_client.patch(f"tenants/{tenant.id}", {"country": "DE", "state": "BY"})
    assert response.status_code == 200
    assert (response.json()["country"], response.json()["state"]) == ("DE", "BY")


def test_empty_patch_changes_nothing(tenant, tenant_admin_client):
    response = tenant_admin_client.patch(f"tenants/{tenant.id}", {})
    assert response.status_code == 200
    assert response.json()["name"] == tenant.name


def test_overlong_email_is_400_not_500(staff_client, tenant, tenant_admin_client):
    email = "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "example"
    assert len(email) > 254
    assert_400(staff_client.post("tenants", {**MINIMAL, "email": email}), "email")
    assert Tenant.objects.count() == 1
    assert_400(tenant_admin_client.patch(f"tenants/{tenant.id}", {"email": email}), "email")


def test_tenant_with_children_can_become_a_child(staff_client, make_tenant):
    # Hierarchies have up to five levels (issue 13): a parent may itself be a child.
    group = make_tenant(name="Group")
    parent = make_tenant(name="Parent")
    make_tenant(name="Child", parent=parent)
    response = staff_client.patch(f"tenants/{parent.id}", {"parent_id": str(group.id)})
    assert response.status_code == 200
    parent.refresh_from_db()
    assert parent.parent_id == group.id


def test_staff_list_filters_by_tenant_id(staff_client, make_tenant):
    wanted, _other = make_tenant(), make_tenant()
    body = staff_client.get("tenants", {"tenant_id": str(wanted.id)}).json()
    assert [t["id"] for t in body["results"]] == [str(wanted.id)]
    assert body["count"] == 1
    response = staff_client.get("tenants", {"tenant_id": "nope"})
    assert_400(response, "tenant_id")
