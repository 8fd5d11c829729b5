from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from billing_project.shared.admin import ReadOnlyAdmin
from subscriptions.models import Subscription
from usage.models import UsageEvent, UsagePeriodClose
from usage.selectors import usage_current


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    """Read-only: events are facts; corrections are new events or credit notes."""

    list_display = (
        "timestamp",
        "tenant",
        "metric",
        "quantity",
        "idempotency_key",
        "unique_key",
        "received_at",
    )
    list_filter = ("metric", ("tenant", admin.RelatedOnlyFieldListFilter), "timestamp")
    search_fields = ("=idempotency_key", "=unique_key", "=id")
    date_hierarchy = "timestamp"
    list_select_related = ("tenant", "metric")
    show_full_result_count = False
    readonly_fields = [f.name for f in UsageEvent._meta.fields]
    change_list_template = "admin/usage/usageevent/change_list.html"

    def get_urls(self):
        summary = self.admin_site.admin_view(self.summary_view)
        return [path("summary/", summary, name="usage_summary"), *super().get_urls()]

    def summary_view(self, request):
        """Current-period usage of every tenant with a live subscription (50 a page)."""
        live = Subscription.objects.live().select_related("tenant").order_by("tenant__name")
        query = request.GET.get("q", "").strip()
        if query:
            live = live.filter(tenant__name__icontains=query)
        raw_page = request.GET.get("p", "1")
        page = max(1, int(raw_page)) if raw_page.isdigit() else 1
        rows = []
        for subscription in live[(page - 1) * 50 : page * 50]:
            usage = usage_current(tenant_id=subscription.tenant_id)
            rows.append({"tenant": subscription.tenant, "usage": usage})
        context = {
            **self.admin_site.each_context(request),
            "title": "Usage this period, per tenant",
            "opts": self.model._meta,
            "rows": rows,
            "query": query,
            "page": page,
            "has_next": live[page * 50 : page * 50 + 1].exists(),
        }
        return TemplateResponse(request, "admin/usage/summary.html", context)


@admin.register(UsagePeriodClose)
class UsagePeriodCloseAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "period_start", "period_end", "closed_at")
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("tenant", "period_start", "period_end", "closed_at")
