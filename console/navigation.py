"""The console's sidebar, grouped by the work finance does (UNFOLD["SIDEBAR"]["navigation"]).

Each group lists models by label; a model that is not registered in the admin (or that the user
may not view) is left out, so a branch that adds a model only has to register it. Registered
models of ours that no group names are appended to their app's group (FALLBACK), so nothing
registered is ever unreachable. The dj-stripe mirror is one collapsed group at the end.
"""

from django.conf import settings
from django.contrib import admin
from django.http import QueryDict
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

# (title, icon, [entry]); an entry is a model label, or (title, icon, url name, query string).
GROUPS = [
    (
        "Customers",
        "groups",
        [
            "subscriptions.Tenant",
            (
                "Hierarchies",
                "account_tree",
                "admin:subscriptions_tenant_changelist",
                "hierarchy=member",
            ),
            "subscriptions.Contract",
            "subscriptions.PaymentMethod",
            "dunning.TenantDunningPolicy",
        ],
    ),
    (
        "Billing",
        "autorenew",
        [
            "subscriptions.Subscription",
            "subscriptions.Plan",
            "subscriptions.Metric",
            "subscriptions.Coupon",
            "subscriptions.CouponRedemption",
        ],
    ),
    ("Usage", "query_stats", ["usage.UsageEvent", "usage.UsagePeriodClose"]),
    (
        "Invoices",
        "receipt_long",
        [
            "invoicing.Invoice",
            "invoicing.CreditNote",
            "invoicing.ManualPayment",
            "payments.PaymentAttempt",
            "payments.Refund",
            "invoicing.InvoiceSettings",
        ],
    ),
    (
        "Collections",
        "notifications_active",
        [
            "dunning.DunningCase",
            ("Recovery", "trending_up", "admin:dunning_dunningcase_recovery", ""),
            "dunning.DunningPolicy",
            "dunning.DeclineCode",
        ],
    ),
    (
        "Tax",
        "account_balance",
        [
            "tax.TaxRate",
            "tax.TaxRegistration",
            ("Tax reports", "summarize", "admin:invoicing_tax_reports", ""),
        ],
    ),
    (
        "Ledger and reports",
        "menu_book",
        [
            ("Trial balance", "balance", "admin:invoicing_finance_reports", "report=trial_balance"),
            ("AR aging", "hourglass_bottom", "admin:invoicing_finance_reports", "report=ar_aging"),
            ("Revenue", "savings", "admin:invoicing_finance_reports", "report=revenue"),
            (
                "Tenant statement",
                "description",
                "admin:invoicing_finance_reports",
                "report=statement",
            ),
            ("Cost allocation", "pie_chart", "admin:invoicing_cost_allocation", ""),
            "ledger.JournalEntry",
            "ledger.Account",
        ],
    ),
    (
        "Analytics",
        "monitoring",
        [
            "analytics.MrrSnapshot",
            "analytics.SubscriptionMrrSnapshot",
            "analytics.AcquisitionSpend",
            "analytics.PlanCost",
        ],
    ),
    (
        "System",
        "settings",
        [
            "payments.WebhookEvent",
            "payments.MirrorFailure",
            "invoicing.BillingRun",
            "invoicing.BillingRunFailure",
            "analytics.AlertRule",
            "analytics.AlertFiring",
            "django_celery_beat.PeriodicTask",
            "django_celery_beat.IntervalSchedule",
            "django_celery_beat.CrontabSchedule",
            "django_celery_beat.ClockedSchedule",
            "django_celery_beat.SolarSchedule",
            "subscriptions.ApiToken",
            "shared.OutboxMessage",
            "auth.User",
            "auth.Group",
        ],
    ),
]

# Where a registered model that no group names goes, by app label.
FALLBACK = {
    "subscriptions": "Billing",
    "usage": "Usage",
    "invoicing": "Invoices",
    "payments": "Invoices",
    "dunning": "Collections",
    "tax": "Tax",
    "ledger": "Ledger and reports",
    "analytics": "Analytics",
    "console": "System",
    "shared": "System",
    "auth": "System",
    "django_celery_beat": "System",
}
STRIPE_MIRROR = "Stripe mirror (read-only)"


def _model_item(request, model, admin_instance) -> dict | None:
    if not admin_instance.has_view_or_change_permission(request):
        return None
    opts = model._meta
    try:
        link = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:
        return None
    return {"title": str(opts.verbose_name_plural).capitalize(), "link": link, "icon": None}


def _url_item(request, title, icon, url_name, query) -> dict | None:
    if not request.user.is_active or not request.user.is_staff:
        return None
    try:
        path = reverse(url_name)
    except NoReverseMatch:
        return None
    wanted = QueryDict(query)
    # Active only on its own page and query (several reports share one view).
    active = request.path == path and all(
        request.GET.get(key) == value for key, value in wanted.items()
    )
    if not query and request.path == path:
        active = True
    return {
        "title": title,
        "icon": icon,
        "link": f"{path}?{query}" if query else path,
        "active": active,
    }


def _registry() -> dict:
    return {
        model._meta.label: (model, model_admin)
        for model, model_admin in admin.site._registry.items()
    }


def sidebar(request) -> list[dict]:
    registry = _registry()
    named = set()
    groups = []
    for title, icon, entries in GROUPS:
        items = []
        for entry in entries:
            if isinstance(entry, tuple):
                item = _url_item(request, *entry)
            else:
                named.add(entry)
                found = registry.get(entry)
                item = _model_item(request, *found) if found else None
            if item is not None:
                items.append(item)
        groups.append({"title": title, "icon": icon, "items": items})
    by_title = {group["title"]: group for group in groups}
    mirror = []
    for label, (model, model_admin) in sorted(registry.items()):
        if label in named:
            continue
        app = model._meta.app_label
        item = _model_item(request, model, model_admin)
        if item is None:
            continue
        if app == "djstripe":
            mirror.append(item)
        elif app in FALLBACK:
            by_title[FALLBACK[app]]["items"].append(item)
        else:
            by_title["System"]["items"].append(item)
    home = {
        "title": "Dashboard",
        "separator": False,
        "items": [{"title": "Dashboard", "icon": "dashboard", "link": reverse("admin:index")}],
    }
    result = [home]
    for group in groups:
        if group["items"]:
            for item in group["items"]:
                item["icon"] = item["icon"] or group["icon"]
            result.append({"title": group["title"], "separator": True, "items": group["items"]})
    if mirror:
        for item in mirror:
            item["icon"] = "cloud_sync"
        result.append(
            {"title": STRIPE_MIRROR, "separator": True, "collapsible": True, "items": mirror}
        )
    return result


def environment(request) -> list[str]:
    """The badge beside the site name: which deployment this is."""
    if settings.DEBUG:
        return ["Development", "warning"]
    if not getattr(settings, "STRIPE_SECRET_KEY", ""):
        return ["Manual collection", "info"]
    return ["Stripe live" if settings.STRIPE_LIVE_MODE else "Stripe test", "success"]


def stylesheet(request) -> str:
    """UNFOLD["STYLES"]: the console's few rules on top of unfold's (tables inside read-only
    fields, which unfold's compiled CSS leaves unpadded)."""
    return static("console/console.css")
