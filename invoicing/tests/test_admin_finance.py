"""The finance reports in the admin: trial balance, AR aging, revenue, a tenant statement."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing_project.shared.clock import utcnow
from invoicing.tests.conftest import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_web():
    user = get_user_model().objects.create_superuser("fin", "fin@leanvibe.example", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_each_finance_report_renders_from_the_ledger(tenant, staff_web):
    start(tenant, "team", when=utcnow().isoformat())  # a $200.00 invoice, open
    url = "/admin/invoicing/invoice/finance-reports/"
    html = staff_web.get(url).content.decode()
    assert "Trial balance" in html and "Accounts receivable" in html and "$200.00" in html
    html = staff_web.get(url, {"report": "ar_aging"}).content.decode()
    assert f"/admin/subscriptions/tenant/{tenant.pk}/change/" in html and "$200.00" in html
    html = staff_web.get(url, {"report": "revenue"}).content.decode()
    assert "Deferred at month end" in html
    html = staff_web.get(url, {"report": "statement", "tenant_id": str(tenant.pk)}).content
    assert b"Closing balance" in html and b"$200.00" in html
    assert staff_web.get(url, {"report": "statement", "tenant_id": "nope"}).status_code == 200
    assert b"Finance reports" in staff_web.get("/admin/invoicing/invoice/").content
