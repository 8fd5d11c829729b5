"""Admin: alert rules and firings, and the "Monitoring" page (the guide's four figures with
their current values, the last billing run, recent firings)."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from analytics.models import AlertFiring, AlertRule
from analytics.selectors.monitoring import monitoring_figures
from billing_project.shared.admin import BillingAdmin, ReadOnlyAdmin
from billing_project.shared.clock import utcnow
from invoicing.selectors import billing_run_last


def monitoring_view(admin_site, request):
    now = utcnow()
    context = {
        **admin_site.each_context(request),
        "title": "Monitoring",
        "figures": monitoring_figures(now=now),
        "now": now,
        "last_run": billing_run_last(),
        "firings": AlertFiring.objects.select_related("rule").order_by("-fired_at")[:20],
    }
    return TemplateResponse(request, "admin/analytics/monitoring.html", context)


@admin.register(AlertRule)
class AlertRuleAdmin(BillingAdmin):
    list_display = ("name", "metric", "comparison", "threshold", "period", "action", "target",
                    "enabled")  # fmt: skip
    list_filter = ("metric", "action", "enabled")
    readonly_fields = ("created_at", "updated_at")
    change_list_template = "admin/analytics/alertrule/change_list.html"

    def get_urls(self):
        return [
            path(
                "monitoring/",
                self.admin_site.admin_view(self.monitoring_view),
                name="analytics_monitoring",
            ),
            *super().get_urls(),
        ]

    def monitoring_view(self, request):
        return monitoring_view(self.admin_site, request)

    def save_model(self, request, obj, form, change):
        now = utcnow()
        obj.updated_at = now
        if not change:
            obj.created_at = now
        super().save_model(request, obj, form, change)


@admin.register(AlertFiring)
class AlertFiringAdmin(ReadOnlyAdmin):
    list_display = ("rule", "period_start", "value", "threshold", "fired_at", "delivered_at",
                    "attempts", "last_error")  # fmt: skip
    list_filter = ("rule",)
