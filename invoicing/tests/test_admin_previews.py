"""The admin's tenant and subscription pages show the previews (nothing stored)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.clock import utcnow
from invoicing.models import Invoice
from invoicing.tests.conftest import plan, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_web():
    user = get_user_model().objects.create_superuser("boss", "boss@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_tenant_page_shows_the_upcoming_invoice(tenant, staff_web):
    start(tenant, "team", when=utcnow().isoformat())
    invoices = Invoice.objects.count()
    page = staff_web.get(f"/admin/subscriptions/tenant/{tenant.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Next invoice as it would be issued now" in html
    assert "$200.00" in html
    assert Invoice.objects.count() == invoices


def test_subscription_page_previews_a_plan_change(tenant, staff_web):
    sub, _ = start(tenant, "team", when=utcnow().isoformat())
    url = f"/admin/subscriptions/subscription/{sub.pk}/change/"
    html = staff_web.get(url).content.decode()
    assert "Preview a change to:" in html and "Enterprise" in html
    enterprise = plan("enterprise")
    html = staff_web.get(url, {"preview_plan": str(enterprise.pk)}).content.decode()
    assert "Change to Enterprise: upgraded" in html
    assert "Proration invoice" in html and "Next period invoice" in html
    assert "$800.00" in html
    sub.refresh_from_db()
    assert sub.plan.slug == "team"
    assert staff_web.get(url, {"preview_plan": "nope"}).status_code == 200
