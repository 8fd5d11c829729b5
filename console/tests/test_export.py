"""CSV export of the admin lists (django-import-export on BillingAdmin): money as major units
beside the stored minor units, the list's filters applied, view permission enough, no import."""

import csv
import io

import pytest
from django.contrib import admin

from billing_project.shared.admin import BillingAdmin
from console.tests.helpers import billed, failed_collection
from invoicing.services.lifecycle import invoice_void
from subscriptions.models import ApiToken
from subscriptions.services.tokens import api_token_create

pytestmark = pytest.mark.django_db


def export_page(client, url: str):
    return client.get(f"{url}export/")


def export_csv(client, url: str, query: str = "", **unticked) -> list[dict]:
    """Post the export form as shown (every column ticked, CSV), return the rows."""
    page = client.get(f"{url}export/{query}")
    assert page.status_code == 200, page.status_code
    form = page.context["form"]
    data = {"format": "0", "resource": "0"}
    data |= {name: "on" for name, field in form.fields.items() if field.initial is True}
    for name in unticked:
        data.pop(name)
    response = client.post(f"{url}export/{query}", data)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('.csv"')
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_every_list_of_ours_exports_and_nothing_imports():
    ours = [
        model_admin
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, BillingAdmin) and model_admin.opts.model_name != "audittrail"
    ]
    assert len(ours) > 30
    for model_admin in ours:
        resource = model_admin.get_export_resource_classes(None)[0]
        assert resource().get_export_order(), model_admin
        assert not hasattr(model_admin, "import_action"), model_admin


def test_invoices_export_with_amounts_in_major_and_minor_units(superuser_web, tenant, other_tenant):
    _, invoice = billed(tenant)  # developer: $50.00
    _, void = billed(other_tenant)
    invoice_void(invoice_id=void.pk, now=void.issued_at)
    url = "/admin/invoicing/invoice/"
    assert b"/admin/invoicing/invoice/export/" in superuser_web.get(url).content
    rows = {row["id"]: row for row in export_csv(superuser_web, url)}
    row = rows[str(invoice.pk)]
    assert (row["total"], row["total_minor"], row["currency"]) == ("50.00", "5000", "USD")
    assert (row["amount_due"], row["amount_due_minor"]) == ("50.00", "5000")
    assert row["tenant_label"] == tenant.name and row["status"] == "open"
    # The list's filters apply to the export.
    open_rows = export_csv(superuser_web, url, "?status__exact=open")
    assert [r["id"] for r in open_rows] == [str(invoice.pk)]


def test_columns_can_be_left_out(superuser_web, tenant):
    billed(tenant)
    rows = export_csv(superuser_web, "/admin/invoicing/invoice/", invoiceresource_notes=True)
    assert "notes" not in rows[0] and "total" in rows[0]


def test_jpy_amounts_have_no_decimals(superuser_web):
    from subscriptions.services.catalog import plan_create

    plan_create(slug="yen", name="Yen", amount=2500, currency="jpy", metrics=[])
    rows = export_csv(superuser_web, "/admin/subscriptions/plan/", "?q=yen")
    assert [(r["amount"], r["amount_minor"], r["currency"]) for r in rows] == [
        ("2500", "2500", "JPY")
    ]


def test_payments_and_dunning_cases_export_their_amounts(superuser_web, tenant):
    _, invoice = billed(tenant)
    failed_collection(invoice)
    attempts = export_csv(superuser_web, "/admin/payments/paymentattempt/")
    assert (attempts[0]["amount"], attempts[0]["currency"]) == ("50.00", "USD")
    cases = export_csv(superuser_web, "/admin/dunning/dunningcase/")
    assert (cases[0]["invoice__amount_due"], cases[0]["currency"]) == ("50.00", "USD")


def test_secrets_are_not_exported(superuser_web, tenant):
    api_token_create(
        role="tenant_admin", tenant=tenant, user=None, name="ci", now=tenant.created_at
    )
    rows = export_csv(superuser_web, "/admin/subscriptions/apitoken/")
    assert rows and "token_hash" not in rows[0]
    assert ApiToken.objects.get().token_hash not in str(rows)


def test_an_auditor_can_export_and_a_user_without_view_permission_cannot(web_for, tenant):
    billed(tenant)
    auditor = web_for("auditor")
    assert export_csv(auditor, "/admin/invoicing/invoice/")[0]["total"] == "50.00"
    from django.contrib.auth import get_user_model
    from django.test import Client

    nobody = get_user_model().objects.create_user("nobody", "n@x.example", "pw", is_staff=True)
    client = Client()
    client.force_login(nobody)
    assert client.get("/admin/invoicing/invoice/export/").status_code == 403
    assert client.post("/admin/invoicing/invoice/export/", {"format": "0"}).status_code == 403


def test_the_audit_trail_exports_what_the_page_shows(superuser_web, web_for):
    from subscriptions.models import Plan
    from subscriptions.tests.test_catalog_admin import change

    plan = Plan.objects.get(slug="developer")
    change(superuser_web, plan, name="Developer Plus")
    response = web_for("auditor").get(
        "/admin/console/audittrail/?model=subscriptions.Plan&export=csv"
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    database = [r for r in rows if r["source"] == "database"]
    assert database[0]["user"] == "boss" and database[0]["object_id"] == str(plan.pk)
    assert "name: Developer -> Developer Plus" in database[0]["changes"]
    assert "export=csv" in superuser_web.get("/admin/console/audittrail/").content.decode()
