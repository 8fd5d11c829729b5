"""Staff roles: auditor reads everything and changes nothing, billing_operator does the finance
work it is given, billing_admin everything of ours; the guards hold for actions and views."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import RequestFactory

from billing_project.shared.admin import GuardedActionsMixin, requires_perm
from console.roles import AUDITOR, BILLING_ADMIN, BILLING_OPERATOR, OPERATOR_PERMS, OUR_APPS
from invoicing.models import Invoice
from invoicing.tests.conftest import start
from subscriptions.models import Plan
from subscriptions.tests.test_catalog_admin import form_data

pytestmark = pytest.mark.django_db


def perms_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_data_migration_made_three_roles():
    auditor, operator, admin_role = (
        perms_of(AUDITOR),
        perms_of(BILLING_OPERATOR),
        perms_of(BILLING_ADMIN),
    )
    assert auditor and all(p.split(".")[1].startswith("view_") for p in auditor)
    for perm in (
        "invoicing.view_invoice",
        "subscriptions.view_tenant",
        "ledger.view_journalentry",
        "admin.view_logentry",
        "console.view_audittrail",
        "axes.view_accessattempt",
    ):
        assert perm in auditor
    assert not any(p.startswith("otp_totp.") for p in auditor | operator | admin_role)
    assert operator - auditor == set(OPERATOR_PERMS)
    assert "invoicing.delete_invoice" not in operator
    assert {
        "invoicing.delete_invoice",
        "subscriptions.add_plan",
        "tax.change_taxrate",
    } <= admin_role
    assert not any(p.startswith("auth.") and not p.split(".")[1].startswith("view_")
                   for p in admin_role)  # fmt: skip


def test_create_staff_user_command(capsys):
    call_command("create_staff_user", "--username", "ann", "--role", "auditor")
    out = capsys.readouterr().out
    assert "created staff user ann with role auditor" in out and "password: " in out
    user = get_user_model().objects.get(username="ann")
    assert user.is_staff and not user.is_superuser
    assert user.check_password(out.split("password: ")[1].strip())
    call_command("create_staff_user", "--username", "ann", "--role", "billing_operator",
                 "--password", "s3cret-pass")  # fmt: skip
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["billing_operator"]
    assert user.check_password("s3cret-pass")
    assert user.has_perm("invoicing.add_creditnote") and not user.has_perm(
        "invoicing.delete_invoice"
    )


def test_create_staff_user_refuses_a_superuser():
    from django.core.management.base import CommandError

    get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    with pytest.raises(CommandError):
        call_command("create_staff_user", "--username", "root", "--role", "auditor")


def test_api_staff_tokens_work_as_before(capsys):
    call_command("create_api_token", "--staff", "finance")
    token = capsys.readouterr().out.strip()
    from conftest import BillingClient

    assert BillingClient(token).get("invoices").status_code == 200


def _our_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
    ]


def test_auditor_opens_every_changelist_and_detail_page(web_for, tenant):
    start(tenant)  # a tenant, subscription, invoice, journal entry...
    web = web_for(AUDITOR)
    assert web.get("/admin/").status_code == 200
    opened = 0
    for model, model_admin in _our_admins():
        opts = model._meta
        url = f"/admin/{opts.app_label}/{opts.model_name}/"
        response = web.get(url)
        assert response.status_code == 200, url
        obj = model._default_manager.first()
        if obj is not None and opts.model_name != "audittrail":
            detail = web.get(f"{url}{obj.pk}/change/")
            assert detail.status_code == 200, f"{url}{obj.pk}/change/"
            assert b'name="_save"' not in detail.content  # read-only: no save button
            opened += 1
    assert opened >= 8


def test_auditor_sees_no_action_and_posting_one_is_403(web_for, tenant):
    _, invoice = start(tenant)
    web = web_for(AUDITOR)
    page = web.get("/admin/invoicing/invoice/")
    assert page.status_code == 200
    # Only the read-only action (the PDF download) is offered.
    offered = {name for name, _ in page.context["action_form"].fields["action"].choices if name}
    assert offered == {"download_pdf"}
    response = web.post(
        "/admin/invoicing/invoice/", {"action": "void", "_selected_action": [str(invoice.pk)]}
    )
    assert response.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).status == "open"


def test_auditor_cannot_change_add_or_delete(web_for, superuser_web):
    plan = Plan.objects.get(slug="developer")
    url = f"/admin/subscriptions/plan/{plan.pk}/change/"
    data = form_data(superuser_web.get(url))
    web = web_for(AUDITOR)
    assert web.post(url, {**data, "name": "Hacked"}).status_code == 403
    assert web.post("/admin/subscriptions/tenant/add/", {"name": "X"}).status_code == 403
    assert (
        web.post(f"/admin/subscriptions/plan/{plan.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Plan.objects.get(pk=plan.pk).name == plan.name


def test_auditor_can_still_read_only_actions_and_sign_out(web_for, tenant):
    _, invoice = start(tenant)
    web = web_for(AUDITOR)
    # A custom admin page that only reads (GET) opens; signing out is a POST it may make.
    assert web.get("/admin/invoicing/invoice/finance-reports/").status_code == 200
    assert web.post("/admin/logout/").status_code in (200, 302)


def test_operator_acts_on_invoices_but_cannot_delete(web_for, tenant):
    _, invoice = start(tenant)
    web = web_for(BILLING_OPERATOR)
    page = web.get("/admin/invoicing/invoice/")
    assert b'value="void"' in page.content
    web.post("/admin/invoicing/invoice/", {"action": "void", "_selected_action": [str(invoice.pk)]})
    assert Invoice.objects.get(pk=invoice.pk).status == "void"
    plan = Plan.objects.get(slug="developer")
    assert (
        web.post(f"/admin/subscriptions/plan/{plan.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Plan.objects.filter(pk=plan.pk).exists()
    # Not the operator's: API tokens (revoke needs subscriptions.change_apitoken).
    tokens = web.get("/admin/subscriptions/apitoken/")
    assert tokens.status_code == 200 and b'value="revoke"' not in tokens.content


def test_billing_admin_may_delete_what_the_admin_allows(web_for):
    from subscriptions.services.catalog import plan_create

    plan = plan_create(slug="temp", name="Temp", amount=100, currency="usd", metrics=[])
    web = web_for(BILLING_ADMIN)
    response = web.post(f"/admin/subscriptions/plan/{plan.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Plan.objects.filter(pk=plan.pk).exists()


def test_requires_perm_guards_views_and_actions(role_user):
    factory = RequestFactory()

    @requires_perm("invoicing.add_creditnote")
    def issue_credit_note(modeladmin, request, queryset):
        return "issued"

    class FakeAdmin:
        pass

    operator, auditor = role_user(BILLING_OPERATOR), role_user(AUDITOR)
    request = factory.post("/admin/invoicing/invoice/")
    request.user = operator
    assert issue_credit_note(FakeAdmin(), request, None) == "issued"
    request.user = auditor
    with pytest.raises(PermissionDenied):
        issue_credit_note(FakeAdmin(), request, None)
    assert issue_credit_note.required_perms == ("invoicing.add_creditnote",)


def test_every_registered_admin_is_guarded():
    assert all(isinstance(model_admin, GuardedActionsMixin)
               for model_admin in admin.site._registry.values())  # fmt: skip


def test_view_site_goes_to_the_api_docs(superuser_web):
    assert admin.site.site_url == "/api/v1/billing/docs/"
    assert b'href="/api/v1/billing/docs/"' in superuser_web.get("/admin/").content
