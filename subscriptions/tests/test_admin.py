"""Finance staff in the Django admin: tenants, tokens, plans (product.md section 0)."""

import hashlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.clock import utcnow
from conftest import BillingClient
from subscriptions.models import ApiToken, Plan
from subscriptions.services.tokens import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_web():
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_admin_login_page_and_password_login():
    get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    assert client.get("/admin/login/").status_code == 200
    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_index_for_staff(staff_web):
    response = staff_web.get("/admin/")
    assert response.status_code == 200
    for model in ("tenant", "apitoken", "plan", "metric"):
        assert f"/admin/subscriptions/{model}/".encode() in response.content


def test_admin_needs_login():
    response = Client().get("/admin/subscriptions/tenant/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_tenant_changelist_with_filters(staff_web, make_tenant):
    make_tenant(name="Shown Corp")
    make_tenant(name="Hidden Corp", country="DE", state="BE")
    url = "/admin/subscriptions/tenant/"
    assert staff_web.get(url).status_code == 200
    response = staff_web.get(
        url, {"status__exact": "active", "service_level__exact": "full", "country__exact": "US"}
    )
    assert response.status_code == 200
    assert b"Shown Corp" in response.content
    assert b"Hidden Corp" not in response.content
    assert staff_web.get(url, {"q": "Shown"}).status_code == 200


def test_tenant_change_page(staff_web, tenant):
    response = staff_web.get(f"/admin/subscriptions/tenant/{tenant.id}/change/")
    assert response.status_code == 200
    assert tenant.name.encode() in response.content


def test_token_add_shows_raw_token_once_and_stores_only_the_hash(staff_web, tenant):
    response = staff_web.post(
        "/admin/subscriptions/apitoken/add/",
        {"name": "ci", "role": "tenant_admin", "tenant": str(tenant.id), "user": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert b"shown once" in response.content
    token = ApiToken.objects.get()
    match = re.search(r"(lvb_[A-Za-z0-9_\-]{43})", response.content.decode())
    assert match, response.content
    raw = match.group(1)
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12]
    assert (token.role, token.tenant_id, token.name) == ("tenant_admin", tenant.id, "ci")
    assert response.content.decode().count(raw) == 1
    # It authenticates, and it is never shown again.
    assert BillingClient(raw).get(f"tenants/{tenant.id}").status_code == 200
    for url in (
        "/admin/subscriptions/apitoken/",
        f"/admin/subscriptions/apitoken/{token.pk}/change/",
    ):
        page = staff_web.get(url)
        assert page.status_code == 200
        assert raw.encode() not in page.content


def test_token_add_for_staff_user(staff_web):
    user = get_user_model().objects.get(username="boss")
    response = staff_web.post(
        "/admin/subscriptions/apitoken/add/",
        {"name": "ops", "role": "staff", "tenant": "", "user": str(user.pk)},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert (token.role, token.user_id, token.tenant_id) == ("staff", user.pk, None)


def test_token_add_with_mismatched_owner_is_refused(staff_web):
    response = staff_web.post(
        "/admin/subscriptions/apitoken/add/",
        {"name": "bad", "role": "tenant_admin", "tenant": "", "user": ""},
    )
    assert response.status_code == 200  # the form again, with an error
    assert ApiToken.objects.count() == 0


def test_revoke_action_sets_revoked_at(staff_web, tenant):
    token, raw = api_token_create(role="tenant_member", tenant=tenant, now=utcnow())
    kept, kept_raw = api_token_create(role="tenant_member", tenant=tenant, now=utcnow())
    response = staff_web.post(
        "/admin/subscriptions/apitoken/",
        {"action": "revoke", "_selected_action": [str(token.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    kept.refresh_from_db()
    assert token.revoked_at is not None
    assert kept.revoked_at is None
    assert BillingClient(raw).get("plans").status_code == 401
    assert BillingClient(kept_raw).get("plans").status_code == 200


def test_plan_change_page_with_metric_inlines(staff_web):
    plan = Plan.objects.get(slug="team")
    response = staff_web.get(f"/admin/subscriptions/plan/{plan.id}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "plan_metrics-TOTAL_FORMS" in content
    assert 'name="plan_metrics-TOTAL_FORMS" value="5"' in content
    assert staff_web.get("/admin/subscriptions/plan/").status_code == 200
    assert staff_web.get("/admin/subscriptions/metric/").status_code == 200
