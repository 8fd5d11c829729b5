"""Finance's actions in a real browser (Playwright driving Debian's Chromium against the live
server; fixtures in tests/browser/conftest.py): one scenario per test, real services, and a
screenshot of the tenant page and of each action's result."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

if not (Path(__file__).parent / "conftest.py").exists():  # the console's browser fixtures
    pytest.skip(
        "tests/browser/conftest.py (the browser fixtures) is absent", allow_module_level=True
    )


@pytest.fixture
def customer(browser_db):
    """A tenant on Team since two days ago, its first invoice open ($200.00 due)."""
    from console.tests.helpers import billed
    from subscriptions.tests.factories import TenantFactory

    tenant = TenantFactory(name="Acme Rockets")
    sub, invoice = billed(tenant, "team")
    return tenant, sub, invoice


@pytest.fixture
def signed_in(page, staff_user, sign_in):
    sign_in(page, staff_user)
    return page


def open_action(page, console_url, path, label):
    page.goto(f"{console_url}{path}")
    page.get_by_role("link", name=label, exact=True).first.click()
    page.wait_for_selector("#console-submit")


def success_message(page) -> str:
    return page.locator(".messagelist li.success").first.inner_text().strip()


def assert_audited(page, console_url, object_id, action: str, message: str) -> None:
    """The audit trail of the object shows the action: the admin log's "<action>: <message>" by
    the staff user, beside the database's own events."""
    page.goto(f"{console_url}console/audittrail/?object={object_id}")
    rows = page.locator("#audit-trail tr.audit-row").all_inner_texts()
    assert any(
        "finance" in row and "admin log" in row and f"{action}: " in row and message in row
        for row in rows
    ), "\n".join(rows)


def test_find_a_tenant_and_see_its_balance_equal_the_ledgers(
    signed_in, console_url, customer, screenshot
):
    from billing_project.shared.money import format_money
    from ledger.selectors import receivable_for_tenant

    page = signed_in
    tenant, _, _ = customer
    page.goto(f"{console_url}subscriptions/tenant/")
    page.fill("input[name=q]", "Acme")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Acme Rockets").first.click()
    page.wait_for_url(re.compile(rf"/subscriptions/tenant/{tenant.pk}/change/"))
    owed = receivable_for_tenant(tenant_id=tenant.pk)["usd"]
    assert owed == 20000
    page.get_by_text("Standing", exact=True).first.click()  # the tab of the balance
    balance = page.locator(".console-balance").first
    balance.wait_for(state="visible")
    assert balance.inner_text() == format_money(owed, "usd")
    screenshot(page, "tenant-page")


def test_record_a_bank_transfer_and_see_the_invoice_paid(
    signed_in, console_url, customer, screenshot
):
    from invoicing.models import Invoice

    page = signed_in
    _, _, invoice = customer
    open_action(page, console_url, f"invoicing/invoice/{invoice.pk}/change/",
                "Record bank transfer")  # fmt: skip
    page.fill("input[name=amount]", "200.00")
    page.fill("input[name=reference]", "WIRE-2026-12")
    page.click("#console-submit")
    page.wait_for_url(re.compile(rf"/invoicing/invoice/{invoice.pk}/change/"))
    assert f"{invoice.number} is paid, $0.00 due." in success_message(page)
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    screenshot(page, "action-bank-transfer")
    assert_audited(
        page, console_url, invoice.pk, "Record bank transfer", f"{invoice.number} is paid"
    )


def test_issue_a_credit_note_and_download_its_pdf(signed_in, console_url, customer, screenshot):
    from invoicing.models import CreditNote

    page = signed_in
    _, _, invoice = customer
    open_action(page, console_url, f"invoicing/invoice/{invoice.pk}/change/",
                "Issue credit note")  # fmt: skip
    page.fill("textarea[name=reason]", "Outage on Dec 1")
    page.fill("input[name=line_1_description]", "Service credit")
    page.fill("input[name=line_1_amount]", "25.00")
    page.click("#console-submit")
    note = CreditNote.objects.get(invoice=invoice)
    page.wait_for_url(re.compile(rf"/invoicing/creditnote/{note.pk}/change/"))
    assert f"Credit note {note.number} issued for $25.00" in success_message(page)
    screenshot(page, "action-credit-note")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF", exact=True).first.click()
    download = info.value
    assert download.suggested_filename == f"{note.number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    assert_audited(page, console_url, invoice.pk, "Issue credit note", f"Credit note {note.number}")


def test_void_an_invoice(signed_in, console_url, customer, screenshot):
    from invoicing.models import Invoice

    page = signed_in
    _, _, invoice = customer
    open_action(page, console_url, f"invoicing/invoice/{invoice.pk}/change/", "Void")
    page.click("#console-submit")
    page.wait_for_url(re.compile(rf"/invoicing/invoice/{invoice.pk}/change/"))
    assert success_message(page) == f"{invoice.number} is void."
    assert Invoice.objects.get(pk=invoice.pk).status == "void"
    screenshot(page, "action-void")
    assert_audited(page, console_url, invoice.pk, "Void", f"{invoice.number} is void.")
    # The database's own event of the same change: the status before and after.
    rows = page.locator("#audit-trail tr.audit-row").all_inner_texts()
    assert any(
        "finance\tdatabase" in row and re.search(r"^status\s+open\s+→\s+void", row, re.M)
        for row in rows
    ), "\n".join(rows)
    screenshot(page, "audit-trail")


def test_change_a_plan_after_reading_its_preview(signed_in, console_url, customer, screenshot):
    from invoicing.models import Invoice
    from subscriptions.models import Plan

    page = signed_in
    _, sub, _ = customer
    open_action(page, console_url, f"subscriptions/subscription/{sub.pk}/change/", "Change plan")
    page.select_option("select[name=plan]", str(Plan.objects.get(slug="enterprise").pk))
    page.click("#console-submit")
    preview = page.locator(".console-preview")
    preview.wait_for()
    assert "Change to Enterprise" in preview.inner_text()
    assert "Proration invoice" in preview.inner_text()
    assert Invoice.objects.filter(subscription=sub, kind="proration").count() == 0
    screenshot(page, "action-change-plan-preview")
    page.click("#console-submit")  # Confirm plan change
    page.wait_for_url(re.compile(rf"/subscriptions/subscription/{sub.pk}/change/"))
    proration = Invoice.objects.get(subscription=sub, kind="proration")
    assert success_message(page).startswith(
        f"Upgraded: Team to Enterprise; proration invoice {proration.number}"
    )
    sub.refresh_from_db()
    assert sub.plan.slug == "enterprise"
    screenshot(page, "action-change-plan")
    assert_audited(page, console_url, sub.pk, "Change plan", "Upgraded: Team to Enterprise")


def test_pause_a_dunning_case(signed_in, console_url, customer, screenshot):
    from billing_project.shared.clock import utcnow
    from console.tests.helpers import failed_collection
    from dunning.models import DunningCase

    page = signed_in
    _, _, invoice = customer
    _, case = failed_collection(invoice, now=utcnow() - timedelta(hours=1))
    open_action(page, console_url, f"dunning/dunningcase/{case.pk}/change/", "Pause dunning")
    page.click("#console-submit")
    page.wait_for_url(re.compile(rf"/dunning/dunningcase/{case.pk}/change/"))
    assert success_message(page) == f"The case of {invoice.number} is paused (stage grace)."
    assert DunningCase.objects.get(pk=case.pk).status == "paused"
    screenshot(page, "action-pause-dunning")
    assert_audited(page, console_url, case.pk, "Pause dunning", "is paused")
