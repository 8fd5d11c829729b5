"""An auditor in a real browser: reads every finance page, is offered no action, and is refused
one asked for anyway (the action page answers 403, a POST under /admin/ too); nothing changes."""

import pytest

from tests.browser.conftest import PASSWORD


@pytest.fixture
def auditor(browser_db):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("ann", "ann@leanvibe.example", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="auditor"))  # made by console/0002_staff_roles
    return user


def test_an_auditor_reads_but_cannot_act(page, console_url, auditor, login, screenshot):
    from console.tests.helpers import billed
    from invoicing.models import Invoice
    from subscriptions.tests.factories import TenantFactory

    tenant = TenantFactory(name="Acme Rockets")
    _, invoice = billed(tenant, "team")
    login(page, auditor.username)  # the login form, as a non-superuser
    page.locator("#console-dashboard").wait_for()
    page.goto(f"{console_url}subscriptions/tenant/{tenant.pk}/change/")
    assert page.locator(".console-balance").first.inner_text() == "$200.00"
    page.goto(f"{console_url}invoicing/invoice/{invoice.pk}/change/")
    assert invoice.number in page.content()
    for label in ("Record bank transfer", "Issue credit note", "Void", "Write off"):
        assert page.get_by_role("link", name=label, exact=True).count() == 0, label
    assert page.locator("input[type=submit][name=_save], button[name=_save]").count() == 0
    screenshot(page, "auditor-invoice")
    # Asked for anyway: the action page is refused, and so is a POST (with a valid CSRF token).
    void = f"{console_url}invoicing/invoice/{invoice.pk}/void-invoice/"
    assert page.goto(void).status == 403
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        void, form={"csrfmiddlewaretoken": csrf}, headers={"X-CSRFToken": csrf, "Referer": void}
    )
    assert answer.status == 403
    assert Invoice.objects.get(pk=invoice.pk).status == "open"
