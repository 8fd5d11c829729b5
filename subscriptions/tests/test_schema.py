"""The OpenAPI schema and docs are public (product.md section 5) and valid."""

import json

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

API_PATHS = {
    "/api/v1/billing/tenants",
    "/api/v1/billing/tenants/{tenant_id}",
    "/api/v1/billing/plans",
    "/api/v1/billing/plans/{plan_id}",
}


def test_schema_is_public_openapi_3(anon_client):
    response = anon_client.get("/api/v1/billing/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "LeanVibe Billing API"
    assert set(schema["paths"]) >= API_PATHS
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_schema_as_json(anon_client):
    response = anon_client.get("/api/v1/billing/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= API_PATHS


def test_schema_ignores_a_bad_token(anon_client):
    anon_client.raw.credentials(HTTP_AUTHORIZATION="Bearer lvb_wrong")
    assert anon_client.get("/api/v1/billing/schema/").status_code == 200


def test_docs_are_public_html(anon_client):
    response = anon_client.get("/api/v1/billing/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()
    assert b"/api/v1/billing/schema/" in response.content


def test_spectacular_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]) >= API_PATHS


def test_tenant_list_documents_the_tenant_id_filter(anon_client):
    schema = yaml.safe_load(anon_client.get("/api/v1/billing/schema/").content)
    params = schema["paths"]["/api/v1/billing/tenants"]["get"]["parameters"]
    tenant_id = next(p for p in params if p["name"] == "tenant_id")
    assert (tenant_id["in"], tenant_id["schema"]["format"]) == ("query", "uuid")


def test_request_schemas_say_what_the_services_accept(anon_client):
    schema = yaml.safe_load(anon_client.get("/api/v1/billing/schema/").content)
    components = schema["components"]["schemas"]
    assert "US" in components["CountryEnum"]["enum"]
    assert "usd" in components["CurrencyEnum"]["enum"]
    assert "Europe/Berlin" in components["TimezoneEnum"]["enum"]
    limit = components["PlanMetricInputRequest"]["properties"]["limit"]
    assert [variant["type"] for variant in limit["oneOf"]] == ["integer", "string"]
    coupon = schema["paths"]["/api/v1/billing/coupons"]["post"]["requestBody"]
    ref = coupon["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert len(components[ref]["oneOf"]) == 4  # percent or amount, repeating or not


def test_every_operation_documents_its_errors(anon_client):
    schema = yaml.safe_load(anon_client.get("/api/v1/billing/schema/").content)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404"} <= set(operation["responses"]), (method, path)
            error = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert error["$ref"].endswith("/Error")
