"""Every 4xx/5xx under /api/ is JSON `{"code", "message", "errors"?}` (product.md section 5)."""

import orjson
import pytest

from subscriptions import selectors
from subscriptions.apis import plans as plan_apis
from subscriptions.models import Plan, Tenant

pytestmark = pytest.mark.django_db

VALID_TENANT = {"name": "Acme", "email": "billing@acme.example", "country": "US"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = orjson.loads(response.content)
    assert set(body) <= {"code", "message", "errors"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/billing/nope",
        "/api/v1/billing/nope/",
        "/api/v1/billing/tenants/x/y",
        "/api/v1/billing/",
        "/api/v1/other",
    ],
)
def test_unknown_api_path_is_json_404(anon_client, staff_client, path):
    for client in (anon_client, staff_client):
        body = assert_error(client.get(path), 404, "not_found")
        assert "errors" not in body
        assert_error(client.post(path, {"a": 1}), 404, "not_found")


def test_pages_outside_the_api_keep_html(anon_client):
    response = anon_client.get("/definitely-not-here")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "tenants"),
        ("put", "tenants"),
        ("patch", "tenants"),
        ("post", "tenants/{id}"),
        ("delete", "tenants/{id}"),
        ("put", "tenants/{id}"),
        ("delete", "plans"),
        ("patch", "plans/developer"),
        ("post", "plans/developer"),
    ],
)
def test_wrong_method_is_json_405(staff_client, tenant, method, path):
    url = "/api/v1/billing/" + path.format(id=tenant.id)
    response = getattr(staff_client.raw, method)(url, {}, format="json")
    body = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in body["message"]


@pytest.mark.parametrize("payload", [b"{", b'{"name": "x",}', b"not json", b'{"a": 1}garbage'])
def test_malformed_json_is_400_parse_error(staff_client, payload):
    response = staff_client.raw.post(
        "/api/v1/billing/tenants", payload, content_type="application/json"
    )
    body = assert_error(response, 400, "parse_error")
    assert "errors" not in body
    assert Tenant.objects.count() == 0


def test_json_that_is_not_an_object_is_400(staff_client):
    for payload in (b"[1, 2]", b'"text"', b"42", b"null"):
        response = staff_client.raw.post(
            "/api/v1/billing/tenants", payload, content_type="application/json"
        )
        body = assert_error(response, 400, "validation_error")
        assert "non_field_errors" in body["errors"]
    assert Tenant.objects.count() == 0


def test_unsupported_media_type_is_json_415(staff_client):
    response = staff_client.raw.post(
        "/api/v1/billing/tenants", b"name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", ["tenants", "plans", "usage/batch-not-a-route"])
def test_body_over_one_megabyte_is_json_413(staff_client, path):
    payload = orjson.dumps({**VALID_TENANT, "padding": "x" * (1024 * 1024)})
    assert len(payload) > 1024 * 1024
    response = staff_client.raw.post(
        f"/api/v1/billing/{path}", payload, content_type="application/json"
    )
    body = assert_error(response, 413, "request_too_large")
    assert "1048576" in body["message"]
    assert Tenant.objects.count() == 0


def test_body_just_under_the_limit_is_read(staff_client):
    payload = orjson.dumps({**VALID_TENANT, "padding": "x" * (1024 * 1024 - 200)})
    assert len(payload) <= 1024 * 1024
    response = staff_client.raw.post(
        "/api/v1/billing/tenants", payload, content_type="application/json"
    )
    assert response.status_code == 201  # unknown fields are ignored


def test_bad_content_length_is_json_400(staff_client):
    response = staff_client.raw.generic(
        "POST",
        "/api/v1/billing/tenants",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH="abc",
    )
    assert_error(response, 400, "bad_request")


def test_unhandled_error_in_a_view_is_json_500(staff_client, monkeypatch, settings):
    settings.DEBUG = False

    def boom(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "tenant_list", boom)
    staff_client.raw.raise_request_exception = False
    response = staff_client.get("tenants")
    body = assert_error(response, 500, "server_error")
    assert body == {"code": "server_error", "message": "Internal server error."}
    assert "fire" not in response.content.decode()


def test_unhandled_error_outside_drf_handler_is_json_500(staff_client, monkeypatch, settings):
    """An exception that escapes DRF (raised while finalizing) reaches the middleware."""
    settings.DEBUG = False

    def boom(self, request, response, *args, **kwargs):
        raise RuntimeError("renderer on fire")

    monkeypatch.setattr(plan_apis.PlanDetailApi, "finalize_response", boom)
    staff_client.raw.raise_request_exception = False
    response = staff_client.get("plans/developer")
    assert_error(response, 500, "server_error")
    assert "fire" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "tenants/not-a-uuid",
        "tenants/123",
        "tenants/00000000-0000-0000-0000-00000000000g",
        "tenants/%00",
        "tenants/" + "a" * 300,
        "plans/not-a-uuid",
        "plans/00000000-0000-4000-8000-000000000000",
        "plans/" + "b" * 300,
    ],
)
def test_malformed_or_unknown_ids_in_paths_are_404(staff_client, tenant_admin_client, path):
    for client in (staff_client, tenant_admin_client):
        assert_error(client.get(path), 404, "not_found")
    if path.startswith("tenants/"):
        assert_error(staff_client.patch(path, {"email": "a@b.example"}), 404, "not_found")


def test_validation_errors_list_each_field(staff_client):
    response = staff_client.post(
        "tenants", {"name": "", "email": "nope", "country": "XX", "timezone": "Mars/Base"}
    )
    body = assert_error(response, 400, "validation_error")
    assert set(body["errors"]) >= {"name", "email"}
    for messages in body["errors"].values():
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    assert body["message"].startswith("Invalid input: ")
    assert Tenant.objects.count() == 0


def test_service_validation_errors_list_each_field(staff_client):
    response = staff_client.post(
        "tenants",
        {**VALID_TENANT, "country": "XX", "timezone": "Mars/Base", "currency": "zzz"},
    )
    body = assert_error(response, 400, "validation_error")
    assert set(body["errors"]) == {"country", "timezone", "currency"}
    assert Tenant.objects.count() == 0


def test_missing_required_fields_are_listed(staff_client):
    body = assert_error(staff_client.post("tenants", {}), 400, "validation_error")
    assert set(body["errors"]) == {"name", "email", "country"}
    assert body["errors"]["name"] == ["This field is required."]


def test_conflict_is_json_409(staff_client):
    response = staff_client.post("plans", {"slug": "developer", "name": "Again", "amount": 1})
    body = assert_error(response, 409, "plan_exists")
    assert "errors" not in body
    assert Plan.objects.filter(slug="developer").count() == 1


def test_trailing_slash_is_accepted_on_resources(staff_client, tenant):
    assert staff_client.get("/api/v1/billing/plans/").status_code == 200
    assert staff_client.get(f"/api/v1/billing/tenants/{tenant.id}/").status_code == 200
    response = staff_client.post("/api/v1/billing/tenants/", VALID_TENANT)
    assert response.status_code == 201


def test_page_out_of_range_is_json_404(staff_client):
    assert_error(staff_client.get("plans", {"page": 99}), 404, "not_found")
    assert_error(staff_client.get("plans", {"page": "x"}), 404, "not_found")
