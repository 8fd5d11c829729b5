"""create_tenant, create_api_token and seed_demo (product.md sections 2, 3 and 14)."""

import hashlib
from io import StringIO
from uuid import UUID

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from conftest import BillingClient
from subscriptions.models import ApiToken, Tenant

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def test_create_tenant_prints_only_the_id():
    out = run("create_tenant", "--name", "Cmd Co", "--email", "billing@cmd.example")
    tenant_id = UUID(out.strip())
    assert out == f"{tenant_id}\n"
    tenant = Tenant.objects.get(pk=tenant_id)
    assert (tenant.name, tenant.email, tenant.country, tenant.currency, tenant.timezone) == (
        "Cmd Co",
        "billing@cmd.example",
        "US",
        "usd",
        "UTC",
    )
    assert (tenant.status, tenant.service_level, tenant.payment_terms) == (
        "active",
        "full",
        "due_on_receipt",
    )


def test_create_tenant_with_every_option():
    out = run(
        "create_tenant",
        "--name",
        "Berlin GmbH",
        "--email",
        "rechnung@berlin.example",
        "--country",
        "DE",
        "--state",
        "BE",
        "--postal-code",
        "10115",
        "--vat-id",
        "DE136695976",
        "--timezone",
        "Europe/Berlin",
        "--currency",
        "eur",
    )
    tenant = Tenant.objects.get(pk=out.strip())
    assert (tenant.country, tenant.state, tenant.postal_code, tenant.vat_id) == (
        "DE",
        "BE",
        "10115",
        "DE136695976",
    )
    assert (tenant.timezone, tenant.currency) == ("Europe/Berlin", "eur")


@pytest.mark.parametrize(
    "extra",
    [
        ["--country", "XX"],
        ["--vat-id", "DE136695977", "--country", "DE"],
        ["--timezone", "Nowhere/City"],
        ["--currency", "zzz"],
        ["--payment-terms", "net_90"],
    ],
)
def test_create_tenant_bad_input_is_a_command_error(extra):
    with pytest.raises(CommandError):
        run("create_tenant", "--name", "Bad", "--email", "bad@bad.example", *extra)
    assert Tenant.objects.count() == 0


@pytest.mark.parametrize("email", ["nope", "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "example"])
def test_create_tenant_bad_email_is_a_command_error(email):
    with pytest.raises(CommandError, match="email"):
        run("create_tenant", "--name", "Bad", "--email", email)
    assert Tenant.objects.count() == 0


@pytest.mark.parametrize("role", ["tenant_admin", "tenant_member"])
def test_create_api_token_for_a_tenant_prints_a_working_token(tenant, role):
    out = run("create_api_token", "--tenant", str(tenant.id), "--role", role)
    raw = out.strip()
    assert out == f"{raw}\n"
    assert raw.startswith("lvb_")
    token = ApiToken.objects.get(token_hash=hashlib.sha256(raw.encode()).hexdigest())
    assert (token.role, token.tenant_id, token.user_id) == (role, tenant.id, None)
    response = BillingClient(raw).get(f"tenants/{tenant.id}")
    assert response.status_code == 200
    assert response.json()["id"] == str(tenant.id)


def test_create_api_token_for_staff_creates_the_user():
    User = get_user_model()
    assert not User.objects.filter(username="carol").exists()
    raw = run("create_api_token", "--staff", "carol").strip()
    user = User.objects.get(username="carol")
    assert user.is_staff and user.is_active
    token = ApiToken.objects.get(token_hash=hashlib.sha256(raw.encode()).hexdigest())
    assert (token.role, token.user_id, token.tenant_id) == ("staff", user.id, None)
    assert BillingClient(raw).get("tenants").status_code == 200
    # A second token reuses the user.
    run("create_api_token", "--staff", "carol")
    assert User.objects.filter(username="carol").count() == 1
    assert ApiToken.objects.filter(user=user).count() == 2


def test_create_api_token_for_an_existing_non_staff_user_makes_it_staff():
    User = get_user_model()
    User.objects.create_user(username="dave", password="pw")
    raw = run("create_api_token", "--staff", "dave").strip()
    assert User.objects.get(username="dave").is_staff
    assert BillingClient(raw).get("tenants").status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        ["--tenant", "not-a-uuid", "--role", "tenant_admin"],
        ["--tenant", "00000000-0000-4000-8000-000000000000", "--role", "tenant_admin"],
    ],
)
def test_create_api_token_bad_tenant_is_a_command_error(args):
    with pytest.raises(CommandError):
        run("create_api_token", *args)
    assert ApiToken.objects.count() == 0


def test_create_api_token_needs_a_role_with_tenant(tenant):
    with pytest.raises(CommandError, match="--role"):
        run("create_api_token", "--tenant", str(tenant.id))
    assert ApiToken.objects.count() == 0


def test_create_api_token_rejects_a_role_with_staff():
    with pytest.raises(CommandError, match="--role"):
        run("create_api_token", "--staff", "erin", "--role", "tenant_admin")
    assert ApiToken.objects.count() == 0
    assert not get_user_model().objects.filter(username="erin").exists()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--tenant", "x", "--staff", "y"],
        ["--tenant", "00000000-0000-4000-8000-000000000000", "--role", "owner"],
    ],
)
def test_create_api_token_argument_errors(args):
    with pytest.raises(CommandError):
        run("create_api_token", *args)
    assert ApiToken.objects.count() == 0


def test_seed_demo_twice_creates_one_demo_tenant(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    first = run("seed_demo")
    second = run("seed_demo")
    tenants = Tenant.objects.filter(name="Demo Tenant Inc.")
    assert tenants.count() == 1
    assert Tenant.objects.count() == 1
    demo = tenants.get()
    assert f"demo tenant:  {demo.id}" in first
    assert f"demo tenant:  {demo.id}" in second
    user = get_user_model().objects.get(username="admin")
    assert user.is_staff and user.check_password("admin")
    assert get_user_model().objects.filter(username="admin").count() == 1
    # The printed tokens work.
    for out in (first, second):
        lines = {
            line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
            for line in out.splitlines()
            if ":" in line
        }
        staff_token = lines["staff token"]
        tenant_token = lines["tenant_admin token (demo tenant)"]
        assert BillingClient(staff_token).get("tenants").status_code == 200
        assert BillingClient(tenant_token).get(f"tenants/{demo.id}").status_code == 200


def test_seed_demo_quiet_tokens_creates_none():
    run("seed_demo", "--quiet-tokens")
    assert ApiToken.objects.count() == 0
    assert Tenant.objects.filter(name="Demo Tenant Inc.").count() == 1
