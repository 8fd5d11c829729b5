"""Scrape-time gauges for `/metrics`: facts that live in the database, read through every app's
selectors when Prometheus scrapes (right in every process, no multiprocess gauge needed).
Cached for CACHE_SECONDS so frequent scrapes cost one computation."""

import logging

from django.core.cache import cache
from prometheus_client.core import GaugeMetricFamily

from analytics.selectors import monitoring
from billing_project.shared.clock import utcnow

log = logging.getLogger(__name__)

CACHE_KEY = "analytics:metrics:gauges"
CACHE_SECONDS = 30


def _gauges() -> dict:
    now = utcnow()
    start = now - monitoring.FIGURES_WINDOW
    buckets, differences = monitoring.usage_reconciliation(start=start, end=now)
    values = {
        "billing_dunning_cases_open": monitoring.dunning_cases_open(),
        "billing_usage_reconciliation_differences": differences,
        "billing_usage_reconciliation_buckets": buckets,
    }
    for figure in monitoring.monitoring_figures(now=now):
        values[f"billing_{figure['key']}"] = figure["value"]
    return values


HELP = {
    "billing_dunning_cases_open": "Dunning cases open now.",
    "billing_usage_reconciliation_differences": "Differences between raw usage events and "
    "their rollups (usage_reconcile) in the hours of the last 24 h.",
    "billing_usage_reconciliation_buckets": "(tenant, metric, hour) rollups in the last 24 h.",
    "billing_webhook_success_rate": "Webhook success rate over the last 24 h, percent.",
    "billing_payment_success_rate": "Payment success rate over the last 24 h, percent.",
    "billing_invoice_generation_time": "Slowest invoice generation of the billing runs of the "
    "last 24 h, seconds.",
    "billing_usage_accuracy": "Usage tracking accuracy over the last 24 h, percent.",
}


class DatabaseCollector:
    """Gauges computed from rows; a figure without data in its window is left out."""

    def collect(self):
        values = cache.get(CACHE_KEY)
        if values is None:
            values = _gauges()
            cache.set(CACHE_KEY, values, CACHE_SECONDS)
        for name, value in values.items():
            family = GaugeMetricFamily(name, HELP[name])
            if value is not None:
                family.add_metric([], float(value))
                yield family
