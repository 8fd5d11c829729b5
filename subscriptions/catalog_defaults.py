"""The default catalog of product.md section 4 (loaded by a data migration)."""

from django.apps import apps as django_apps

METRICS = [
    # metric_type, name, unit, aggregation
    ("api_calls", "API calls", "calls", "sum"),
    ("storage_gb", "Storage", "GB", "max"),
    ("ai_requests", "AI requests", "requests", "sum"),
    ("active_users", "Active users", "users", "max"),
    ("concurrent_sessions", "Concurrent sessions", "sessions", "max"),
]

# metric_type -> overage price in cents per unit
OVERAGE_PRICES = {
    "api_calls": 1,
    "storage_gb": 500,
    "ai_requests": 2,
    "active_users": 1000,
    "concurrent_sessions": 200,
}

PLANS = [
    {
        "slug": "developer",
        "name": "Developer",
        "description": "Perfect for individual developers and small projects",
        "amount": 5000,
        "included": {
            "api_calls": 10_000,
            "storage_gb": 10,
            "ai_requests": 500,
            "active_users": 3,
            "concurrent_sessions": 5,
        },
    },
    {
        "slug": "team",
        "name": "Team",
        "description": "Ideal for growing development teams",
        "amount": 20000,
        "included": {
            "api_calls": 100_000,
            "storage_gb": 100,
            "ai_requests": 5_000,
            "active_users": 25,
            "concurrent_sessions": 50,
        },
    },
    {
        "slug": "enterprise",
        "name": "Enterprise",
        "description": "Full enterprise features with unlimited scale",
        "amount": 80000,
        "included": {
            "api_calls": 1_000_000,
            "storage_gb": 1_000,
            "ai_requests": 50_000,
            "active_users": 200,
            "concurrent_sessions": 500,
        },
    },
]


def load_default_catalog(apps=None) -> None:
    """Idempotent. `apps` is the migration state registry, or None for the real models."""
    if apps is None:
        apps = django_apps
    Metric = apps.get_model("subscriptions", "Metric")
    Plan = apps.get_model("subscriptions", "Plan")
    PlanMetric = apps.get_model("subscriptions", "PlanMetric")
    metrics = {}
    for metric_type, name, unit, aggregation in METRICS:
        metrics[metric_type], _ = Metric.objects.get_or_create(
            metric_type=metric_type,
            defaults={"name": name, "unit": unit, "aggregation": aggregation},
        )
    for spec in PLANS:
        plan, _ = Plan.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "amount": spec["amount"],
                "currency": "usd",
                "interval": "month",
            },
        )
        for metric_type, included in spec["included"].items():
            PlanMetric.objects.get_or_create(
                plan=plan,
                metric=metrics[metric_type],
                defaults={
                    "included_quantity": included,
                    "overage_unit_price": OVERAGE_PRICES[metric_type],
                },
            )
