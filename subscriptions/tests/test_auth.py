"""Access matrix of product.md section 3 for every current endpoint, and the tokens themselves."""

import hashlib

import pytest
from django.contrib.auth import get_user_model

from billing_project.shared.clock import utcnow
from conftest import BillingClient
from subscriptions.models import ApiToken, Tenant
from subscriptions.services.tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

NEW_TENANT = {"name": "New Co", "email": "billing@new.example", "country": "US"}
NEW_PLAN = {"slug": "starter", "name": "Starter", "amount": 1000, "metrics": []}


def _calls(tenant):
    """(method, path, body) for every current endpoint, naming `tenant` where an id is needed."""
    return [
        ("get", "tenants", None),
        ("post", "tenants", NEW_TENANT),
        ("get", f"tenants/{tenant.id}", None),
        ("patch", f"tenants/{tenant.id}", {"email": "new@tenant.example"}),
        ("get", "plans", None),
        ("post", "plans", NEW_PLAN),
        ("get", "plans/developer", None),
    ]


def _send(client, method, path, body):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body)


def _assert_401(response):
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")
    assert response["WWW-Authenticate"] == "Bearer"


def _raw_header_client(header: str) -> BillingClient:
    client = BillingClient()
    client.raw.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.parametrize("index", range(7))
def test_no_token_is_401_everywhere(tenant, index):
    method, path, body = _calls(tenant)[index]
    response = _send(BillingClient(), method, path, body)
    _assert_401(response)
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Token lvb_abc",
        "Basic dXNlcjpwYXNz",
        "Bearer two parts",
        "lvb_no_keyword_at_all",
    ],
)
@pytest.mark.parametrize("index", range(7))
def test_malformed_header_is_401_everywhere(tenant, index, header):
    method, path, body = _calls(tenant)[index]
    response = _send(_raw_header_client(header), method, path, body)
    _assert_401(response)


@pytest.mark.parametrize("index", range(7))
def test_unknown_token_is_401_everywhere(tenant, index):
    method, path, body = _calls(tenant)[index]
    response = _send(BillingClient("lvb_" + "x" * 43), method, path, body)
    _assert_401(response)
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("role", ["staff", "tenant_admin", "tenant_member"])
@pytest.mark.parametrize("index", range(7))
def test_revoked_token_is_401_everywhere(tenant, token_for, role, index):
    raw = token_for(role, None if role == "staff" else tenant)
    token = ApiToken.objects.get(token_hash=hashlib.sha256(raw.encode()).hexdigest())
    api_token_revoke(token=token, now=utcnow())
    method, path, body = _calls(tenant)[index]
    response = _send(BillingClient(raw), method, path, body)
    _assert_401(response)


def test_token_of_inactive_staff_user_is_401(token_for):
    raw = token_for("staff", username="gone")
    get_user_model().objects.filter(username="gone").update(is_active=False)
    _assert_401(BillingClient(raw).get("plans"))


def test_nothing_written_by_rejected_requests(tenant):
    before = Tenant.objects.count()
    BillingClient().post("tenants", NEW_TENANT)
    BillingClient("lvb_bad").post("tenants", NEW_TENANT)
    assert Tenant.objects.count() == before


# --- 403: a role that may not ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["tenant_admin", "tenant_member"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("get", "tenants", None), ("post", "tenants", NEW_TENANT), ("post", "plans", NEW_PLAN)],
)
def test_tenant_tokens_on_staff_endpoints_are_403(tenant, token_for, role, method, path, body):
    tenants_before = Tenant.objects.count()
    response = _send(BillingClient(token_for(role, tenant)), method, path, body)
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "Your role may not perform this action.",
    }
    assert Tenant.objects.count() == tenants_before
    assert not Tenant.objects.filter(name="New Co").exists()


def test_tenant_member_may_not_patch_own_tenant(tenant, tenant_member_client):
    response = tenant_member_client.patch(f"tenants/{tenant.id}", {"email": "x@tenant.example"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    tenant.refresh_from_db()
    assert tenant.email != "x@tenant.example"


@pytest.mark.parametrize("client_fixture", ["tenant_admin_client", "tenant_member_client"])
def test_tenant_reads_own_tenant_and_plans(request, tenant, client_fixture):
    client = request.getfixturevalue(client_fixture)
    response = client.get(f"tenants/{tenant.id}")
    assert response.status_code == 200
    assert response.json()["id"] == str(tenant.id)
    assert client.get("plans").status_code == 200
    assert client.get("plans/developer").json()["slug"] == "developer"


def test_tenant_admin_patches_own_tenant(tenant, tenant_admin_client):
    response = tenant_admin_client.patch(f"tenants/{tenant.id}", {"email": "new@tenant.example"})
    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.email == "new@tenant.example"


# --- 404: another tenant's id --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["tenant_admin", "tenant_member"])
@pytest.mark.parametrize("method", ["get", "patch"])
def test_tenant_token_on_other_tenant_is_404(tenant, other_tenant, token_for, role, method):
    client = BillingClient(token_for(role, tenant))
    response = _send(client, method, f"tenants/{other_tenant.id}", {"email": "x@evil.example"})
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Tenant not found."}
    other_tenant.refresh_from_db()
    assert other_tenant.email != "x@evil.example"


def test_unknown_tenant_id_is_the_same_404(tenant_admin_client):
    response = tenant_admin_client.get("tenants/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Tenant not found."}


# --- staff can do all -------------------------------------------------------------------------


def test_staff_can_do_everything(tenant, staff_client):
    expected = [200, 201, 200, 200, 200, 201, 200]
    got = [_send(staff_client, *call).status_code for call in _calls(tenant)]
    assert got == expected


# --- tokens -----------------------------------------------------------------------------------


def test_token_is_stored_only_as_sha256_hash(tenant):
    token, raw = api_token_create(role="tenant_admin", tenant=tenant, now=utcnow())
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in row.values())
    # >= 32 random bytes after the visible `lvb_` prefix: token_urlsafe(32) is 43 characters.
    assert raw.startswith("lvb_")
    assert len(raw) >= len("lvb_") + 43
    assert row["prefix"] == raw[:12]
    assert str(token).startswith(raw[:12])


def test_tokens_are_unique(tenant):
    now = utcnow()
    raws = {api_token_create(role="tenant_member", tenant=tenant, now=now)[1] for _ in range(20)}
    assert len(raws) == 20


def test_last_used_at_is_set_on_use(tenant, token_for):
    raw = token_for("tenant_member", tenant)
    token = ApiToken.objects.get(token_hash=hashlib.sha256(raw.encode()).hexdigest())
    assert token.last_used_at is None
    before = utcnow()
    assert BillingClient(raw).get("plans").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before


def test_keyword_is_case_insensitive(tenant, token_for):
    raw = token_for("tenant_member", tenant)
    client = _raw_header_client(f"bearer {raw}")
    assert client.get("plans").status_code == 200


@pytest.mark.parametrize(
    ("role", "tenant_given", "user_given"),
    [
        ("staff", False, False),
        ("staff", True, True),
        ("tenant_admin", False, False),
        ("tenant_member", False, True),
        ("owner", True, False),
    ],
)
def test_token_owner_must_match_role(tenant, role, tenant_given, user_given):
    from billing_project.shared.errors import ValidationFailed
    from subscriptions.services.tokens import staff_user_get_or_create

    user = staff_user_get_or_create(username="someone") if user_given else None
    with pytest.raises(ValidationFailed):
        api_token_create(
            role=role, tenant=tenant if tenant_given else None, user=user, now=utcnow()
        )
    assert ApiToken.objects.count() == 0
