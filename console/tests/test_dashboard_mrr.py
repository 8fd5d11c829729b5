"""The dashboard's MRR, its trend, net new MRR by movement and the four monitoring figures, each
linking to its rows; the MRR page behind them."""

from django.urls import reverse

from analytics.selectors.mrr import mrr_report
from billing_project.shared.clock import utcnow
from console.tests.helpers import billed
from subscriptions.tests.factories import TenantFactory


def test_dashboard_shows_mrr_trend_movements_and_monitoring(admin_client):
    tenant = TenantFactory(name="Acme Rockets")
    billed(tenant, "team")
    now = utcnow()
    api = mrr_report(start_date=now.date().replace(day=1), end_date=now.date(), now=now)
    assert api["metrics"]["total_mrr"] == 20000
    html = admin_client.get(reverse("admin:index")).content.decode()
    mrr_page = reverse("admin:subscriptions_subscription_mrr")
    month = now.strftime("%Y-%m")
    assert 'id="mrr-total"' in html and "$200.00" in html.split('id="mrr-total"')[1][:200]
    assert html.count('class="trend-month') == 12
    assert f'href="{mrr_page}?month={month}"' in html
    for kind in ("new", "expansion", "contraction", "churn", "reactivation"):
        assert f'href="{mrr_page}?month={month}&amp;movement={kind}"' in html, kind
    for key in ("webhook_success_rate", "payment_success_rate", "invoice_generation_time",
                "usage_accuracy"):  # fmt: skip
        tile = html.split(f'id="tile-{key}"')[1].split("</section>")[0]
        assert "href=" in tile and "target" in tile, key
    for changelist in ("payments_webhookevent", "payments_paymentattempt",
                       "invoicing_billingrun", "usage_usageevent"):  # fmt: skip
        assert f'href="{reverse(f"admin:{changelist}_changelist")}?' in html, changelist


def test_mrr_page_lists_the_tenants_and_movements_behind_the_figures(admin_client):
    tenant = TenantFactory(name="Acme Rockets")
    billed(tenant, "team", days_ago=0)  # new this month, whatever the day
    url = reverse("admin:subscriptions_subscription_mrr")
    html = admin_client.get(url, {"movement": "new"}).content.decode()
    movements = html.split('id="mrr-movements"')[1].split("</table>")[0]
    tenants = html.split('id="mrr-tenants"')[1].split("</table>")[0]
    tenant_url = reverse("admin:subscriptions_tenant_change", args=[tenant.pk])
    assert "Acme Rockets" in movements and "$200.00" in movements and tenant_url in movements
    assert "Acme Rockets" in tenants and "$200.00" in tenants
    other = admin_client.get(url, {"movement": "churn"}).content.decode()
    assert "Acme Rockets" not in other.split('id="mrr-movements"')[1].split("</table>")[0]


def test_mrr_page_needs_the_subscription_view_permission(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:subscriptions_subscription_mrr")).status_code == 403
