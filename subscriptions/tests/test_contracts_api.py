"""`contracts`: the guide's body, versions, overlaps, bad input, staff only."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.clock import utcnow
from subscriptions.models import Contract, ContractVersion

pytestmark = pytest.mark.django_db


def guide_body(tenant, **terms):
    contract_terms = {
        "annual_minimum": 100000,
        "custom_pricing": {
            "base_price": 50000,
            "user_price": 100,
            "overage_rates": {"api_calls": 0.5, "storage_gb": 300},
        },
        "payment_terms": "Net 60",
        "auto_renewal": True,
        "volume_discounts": [
            {"threshold": 100000, "discount": 10},
            {"threshold": 500000, "discount": 20},
        ],
    }
    contract_terms.update(terms)
    return {"tenant_id": str(tenant.id), "contract_terms": contract_terms}


def test_create_with_the_guide_body(staff_client, tenant):
    response = staff_client.post("contracts", guide_body(tenant))
    assert response.status_code == 201, response.json()
    body = response.json()
    today = utcnow().date()
    assert body["tenant_id"] == str(tenant.id)
    assert (body["status"], body["version"]) == ("active", 1)
    assert body["start_date"] == today.isoformat()
    assert body["end_date"] == today.replace(year=today.year + 1).isoformat()
    assert body["contract_terms"] == {
        "annual_minimum": 100000,
        "custom_pricing": {
            "base_price": 50000,
            "user_price": 100,
            "overage_rates": {"api_calls": 0.5, "storage_gb": 300},
        },
        "payment_terms": "net_60",
        "auto_renewal": True,
        "volume_discounts": [
            {"threshold": 100000, "discount": 10},
            {"threshold": 500000, "discount": 20},
        ],
    }
    assert [v["version"] for v in body["versions"]] == [1]
    assert staff_client.get(f"contracts/{body['id']}").json() == body
    listed = staff_client.get("contracts", {"tenant_id": str(tenant.id)}).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_list_filters_by_tenant(staff_client, tenant, other_tenant):
    assert staff_client.post("contracts", guide_body(tenant)).status_code == 201
    assert staff_client.post("contracts", guide_body(other_tenant)).status_code == 201
    assert staff_client.get("contracts").json()["count"] == 2
    only = staff_client.get("contracts", {"tenant_id": str(other_tenant.id)}).json()
    assert [c["tenant_id"] for c in only["results"]] == [str(other_tenant.id)]


def test_tenant_tokens_get_403(staff_client, tenant, tenant_admin_client, tenant_member_client):
    contract_id = staff_client.post("contracts", guide_body(tenant)).json()["id"]
    for client in (tenant_admin_client, tenant_member_client):
        assert client.post("contracts", guide_body(tenant)).status_code == 403
        assert client.get("contracts").status_code == 403
        assert client.get(f"contracts/{contract_id}").status_code == 403
        assert client.patch(f"contracts/{contract_id}", {"note": "x"}).status_code == 403
    assert Contract.objects.count() == 1


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (
            {"custom_pricing": {"base_price": -1, "user_price": 100}},
            "contract_terms.custom_pricing.base_price",
        ),
        (
            {"custom_pricing": {"base_price": 1, "user_price": -100}},
            "contract_terms.custom_pricing.user_price",
        ),
        (
            {"custom_pricing": {"base_price": 1, "overage_rates": {"api_calls": -1}}},
            "contract_terms.custom_pricing.overage_rates.api_calls",
        ),
        (
            {"custom_pricing": {"base_price": 1, "overage_rates": {"teleports": 1}}},
            "contract_terms.custom_pricing.overage_rates.teleports",
        ),
        (
            {"volume_discounts": [{"threshold": 100000, "discount": 150}]},
            "contract_terms.volume_discounts.0.discount",
        ),
        ({"payment_terms": "Net 45"}, "contract_terms.payment_terms"),
        ({"annual_minimum": -5}, "contract_terms.annual_minimum"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(staff_client, tenant, terms, field):
    response = staff_client.post("contracts", guide_body(tenant, **terms))
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "validation_error" and field in body["errors"]
    assert Contract.objects.count() == 0 and ContractVersion.objects.count() == 0


def test_missing_terms_unknown_tenant_and_bad_dates(staff_client, tenant):
    assert staff_client.post("contracts", {"tenant_id": str(tenant.id)}).status_code == 400
    body = guide_body(tenant)
    body["tenant_id"] = "00000000-0000-0000-0000-000000000001"
    assert staff_client.post("contracts", body).status_code == 404
    body = {**guide_body(tenant), "start_date": "2027-03-01", "end_date": "2027-03-01"}
    response = staff_client.post("contracts", body)
    assert response.status_code == 400 and "end_date" in response.json()["errors"]
    assert staff_client.get("contracts/not-a-uuid").status_code == 404


def test_overlapping_contracts_are_409(staff_client, tenant):
    assert staff_client.post("contracts", guide_body(tenant)).status_code == 201
    # the first renews automatically: any later contract would overlap it
    later = {**guide_body(tenant), "start_date": "2031-01-01"}
    response = staff_client.post("contracts", later)
    assert response.status_code == 409 and response.json()["code"] == "contract_overlap"
    assert Contract.objects.count() == 1


def test_back_to_back_contracts_do_not_overlap(staff_client, tenant):
    first = {**guide_body(tenant, auto_renewal=False), "start_date": "2027-01-01",
             "end_date": "2028-01-01"}  # fmt: skip
    assert staff_client.post("contracts", first).status_code == 201
    second = {**guide_body(tenant), "start_date": "2028-01-01"}
    response = staff_client.post("contracts", second)
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "scheduled"
    inside = {**guide_body(tenant), "start_date": "2027-06-01", "end_date": "2027-07-01"}
    assert staff_client.post("contracts", inside).status_code == 409


def test_patch_makes_a_new_version_and_keeps_the_history(staff_client, tenant):
    contract_id = staff_client.post("contracts", guide_body(tenant)).json()["id"]
    response = staff_client.patch(
        f"contracts/{contract_id}",
        {
            "contract_terms": {"custom_pricing": {"base_price": 60000}, "auto_renewal": False},
            "note": "renegotiated",
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2
    assert body["contract_terms"]["custom_pricing"] == {
        "base_price": 60000,
        "user_price": 100,
        "overage_rates": {"api_calls": 0.5, "storage_gb": 300},
    }
    assert body["contract_terms"]["auto_renewal"] is False
    v1, v2 = body["versions"]
    assert v1["contract_terms"]["custom_pricing"]["base_price"] == 50000
    assert (v2["version"], v2["note"]) == (2, "renegotiated")


def test_patch_moves_the_end_and_refuses_bad_input(staff_client, tenant):
    contract_id = staff_client.post("contracts", guide_body(tenant)).json()["id"]
    new_end = (utcnow().date() + timedelta(days=30)).isoformat()
    response = staff_client.patch(f"contracts/{contract_id}", {"end_date": new_end})
    assert response.status_code == 200 and response.json()["end_date"] == new_end
    bad = staff_client.patch(
        f"contracts/{contract_id}",
        {"contract_terms": {"volume_discounts": [{"threshold": 1, "discount": 101}]}},
    )
    assert bad.status_code == 400
    assert (
        staff_client.patch(f"contracts/{contract_id}", {"start_date": "2030-01-01"}).status_code
        == 400
    )
    ignored = staff_client.patch(f"contracts/{contract_id}", {"surprise": 1, "note": "x"})
    assert ignored.status_code == 200  # unknown fields are ignored, as everywhere
    assert Contract.objects.get().version == 3
    assert ContractVersion.objects.count() == 3


def test_patch_that_would_overlap_is_409(staff_client, tenant):
    first = {**guide_body(tenant, auto_renewal=False), "start_date": "2027-01-01",
             "end_date": "2028-01-01"}  # fmt: skip
    first_id = staff_client.post("contracts", first).json()["id"]
    second = {**guide_body(tenant), "start_date": "2028-01-01"}
    assert staff_client.post("contracts", second).status_code == 201
    response = staff_client.patch(
        f"contracts/{first_id}", {"contract_terms": {"auto_renewal": True}}
    )
    assert response.status_code == 409
    assert Contract.objects.get(pk=first_id).version == 1


def test_a_start_date_is_local_midnight(staff_client, make_tenant):
    tenant = make_tenant(timezone="America/New_York")
    body = {**guide_body(tenant), "start_date": "2027-01-01"}
    response = staff_client.post("contracts", body)
    assert response.json()["starts_at"] == "2027-01-01T05:00:00Z"
    assert Contract.objects.get().end_date == date(2028, 1, 1)


def test_admin_lists_contracts_with_their_versions(staff_client, tenant):
    contract_id = staff_client.post("contracts", guide_body(tenant)).json()["id"]
    staff_client.patch(f"contracts/{contract_id}", {"note": "second", "contract_terms": {}})
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    web = Client()
    web.force_login(user)
    listing = web.get("/admin/subscriptions/contract/")
    assert listing.status_code == 200 and tenant.name.encode() in listing.content
    page = web.get(f"/admin/subscriptions/contract/{contract_id}/change/")
    assert page.status_code == 200 and b"second" in page.content
    assert web.get("/admin/subscriptions/contract/add/").status_code == 403
