"""Log in to the finance console in a real browser and find the work grouped in the sidebar."""

from console.navigation import STRIPE_MIRROR


def test_log_in_and_see_the_sidebar_groups(page, console_url, staff_user, login, screenshot):
    login(page, staff_user.username)
    for group in ("Customers", "Billing", "Usage", "Invoices", "Collections", "Tax",
                  "Ledger and reports", "System"):  # fmt: skip
        assert page.get_by_role("heading", name=group, exact=True).count() == 1, group
    mirror = page.locator("h2", has_text=STRIPE_MIRROR)
    assert mirror.count() == 1
    # The mirror is folded away: its links are hidden until the group is opened.
    mirror_link = page.locator("a[href='/admin/djstripe/customer/']").first
    assert not mirror_link.is_visible()
    screenshot(page, "navigation")
    mirror.click()
    mirror_link.wait_for(state="visible")
    # A group's link opens its list.
    page.locator("a[href='/admin/subscriptions/tenant/']:visible").first.click()
    page.wait_for_url(f"{console_url}subscriptions/tenant/")
    screenshot(page, "tenant-list")


def test_dashboard_and_pages_screenshots(page, console_url, staff_user, sign_in, screenshot):
    sign_in(page, staff_user)
    page.goto(console_url)
    page.locator("#console-dashboard").wait_for()
    screenshot(page, "dashboard")
    for name, path in (
        ("invoice-list", "invoicing/invoice/"),
        ("dunning-cases", "dunning/dunningcase/"),
        ("report-ar-aging", "invoicing/invoice/finance-reports/?report=ar_aging"),
    ):
        page.goto(f"{console_url}{path}")
        screenshot(page, name)
