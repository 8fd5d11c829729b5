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
    for name, path in (
        ("invoice-list", "invoicing/invoice/"),
        ("dunning-cases", "dunning/dunningcase/"),
        ("report-ar-aging", "invoicing/invoice/finance-reports/?report=ar_aging"),
    ):
        page.goto(f"{console_url}{path}")
        screenshot(page, name)


def test_the_dashboard_shows_mrr_equal_to_the_api(
    page, console_url, console_server, staff_user, sign_in, screenshot
):
    from billing_project.shared.clock import utcnow
    from billing_project.shared.money import format_money
    from console.tests.helpers import billed
    from subscriptions.services.tokens import api_token_create
    from subscriptions.tests.factories import TenantFactory

    billed(TenantFactory(name="Acme Rockets"), "team", days_ago=0)  # new this month
    sign_in(page, staff_user)
    page.goto(console_url)
    today = utcnow().date()
    token = api_token_create(role="staff", user=staff_user, now=utcnow())[1]
    answer = page.request.get(
        f"{console_server.url}/api/v1/billing/analytics/mrr",
        params={"start_date": today.replace(day=1).isoformat(), "end_date": today.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.ok, answer.text()
    body = answer.json()
    metrics, currency = body["metrics"], body["currency"]
    assert metrics["total_mrr"] == 20000
    assert page.locator("#mrr-total").inner_text() == format_money(metrics["total_mrr"], currency)
    assert page.locator("#mrr-net-new").inner_text() == format_money(
        metrics["net_new_mrr"], currency
    )
    new = page.locator("#tile-net-new .movement", has_text="New:").inner_text()
    assert new == f"New: {format_money(metrics['new_mrr'], currency)}"
    assert page.locator("#tile-mrr-trend a.trend-month").count() == 12
    assert page.locator("#tile-monitoring .monitoring-figure").count() == 4
    # Every figure links to the rows behind it.
    tiles = page.locator("#console-dashboard section")
    for i in range(tiles.count()):
        assert tiles.nth(i).locator("a[href]").count() >= 1, tiles.nth(i).get_attribute("id")
    screenshot(page, "dashboard")
    page.locator("#mrr-total").click()
    page.locator("#console-mrr").wait_for()
    assert "Acme Rockets" in page.locator("#mrr-tenants").inner_text()
    assert "Acme Rockets" in page.locator("#mrr-movements").inner_text()
    screenshot(page, "mrr")
