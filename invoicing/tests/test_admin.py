import pytest
from django.contrib.auth import get_user_model

from invoicing.models import Invoice
from invoicing.tests.conftest import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_invoice_changelist_filters_totals_and_actions(admin_web, tenant):
    sub, invoice = start(tenant)
    response = admin_web.get("/admin/invoicing/invoice/", {"status": "open", "overdue": "yes"})
    assert response.status_code == 200
    response = admin_web.get("/admin/invoicing/invoice/", {"q": invoice.number})
    assert response.status_code == 200 and b"$50.00" in response.content
    assert response.context["invoice_totals"][0]["count"] == 1
    assert admin_web.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").status_code == 200
    pdf = admin_web.post(
        "/admin/invoicing/invoice/",
        {"action": "download_pdf", "_selected_action": [str(invoice.pk)]},
    )
    assert pdf["Content-Type"] == "application/pdf"
    admin_web.post(
        "/admin/invoicing/invoice/", {"action": "void", "_selected_action": [str(invoice.pk)]}
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "void"


def test_other_admin_pages(admin_web):
    for url in (
        "/admin/invoicing/creditnote/",
        "/admin/invoicing/billingrunfailure/",
        "/admin/invoicing/invoicesettings/",
        "/admin/invoicing/invoicesettings/add/",
    ):
        assert admin_web.get(url).status_code == 200, url
