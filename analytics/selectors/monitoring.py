"""The guide's four monitoring figures and the alert rules' metrics, from database rows over a
window [now - window, now), read through each app's selectors.

- `webhook_success_rate` (target > 99 %): Stripe events received, processed or ignored /
  (those + failed + waiting for a retry after a failed handler); events not tried yet are out.
- `payment_success_rate` (> 95 %): card payment attempts created, succeeded / (succeeded +
  failed); pending ones and attempts never sent (invoice paid or voided meanwhile) are out.
- `invoice_generation_time` (< 30 s): billing runs started and finished, the slowest invoice's
  generation time in seconds (bulk roll-overs: the chunk's time per invoice).
- `usage_accuracy` (100 %): (tenant, metric, hour) rollups of the hours touching the window,
  (buckets - differences usage_reconcile finds between raw events and rollups) / buckets.

`payment_failure_rate` = 100 - payment success rate and `webhook_failure_rate` = 100 - webhook
success rate (same rows). A window without rows has no value (None): it shows "no data" and
never fires an alert.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from analytics.calculations.alerts import breaches, percent, seconds_from_ms
from dunning import selectors as dunning_selectors
from invoicing import selectors as invoicing_selectors
from payments import selectors as payment_selectors
from usage import selectors as usage_selectors

FIGURES_WINDOW = timedelta(hours=24)
FIGURES_WINDOW_LABEL = "24h"
HUNDRED = Decimal(100)


def payment_success_rate(*, start: datetime, end: datetime) -> Decimal | None:
    succeeded, failed = payment_selectors.payment_attempt_outcomes(start=start, end=end)
    return percent(succeeded, succeeded + failed)


def webhook_success_rate(*, start: datetime, end: datetime) -> Decimal | None:
    succeeded, failed = payment_selectors.webhook_event_outcomes(start=start, end=end)
    return percent(succeeded, succeeded + failed)


def invoice_generation_time(*, start: datetime, end: datetime) -> Decimal | None:
    _runs, _generated, slowest_ms = invoicing_selectors.billing_run_generation(start=start, end=end)
    return seconds_from_ms(slowest_ms)


def usage_reconciliation(*, start: datetime, end: datetime) -> tuple[int, int]:
    """(hourly buckets, differences) in the window."""
    return usage_selectors.usage_accuracy_inputs(start=start, end=end)


def usage_accuracy(*, start: datetime, end: datetime) -> Decimal | None:
    buckets, differences = usage_reconciliation(start=start, end=end)
    if not buckets and not differences:
        return None
    if not buckets:
        return Decimal("0.00")
    return percent(max(buckets - differences, 0), buckets)


def _failure(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else HUNDRED - rate


def payment_failure_rate(*, start: datetime, end: datetime) -> Decimal | None:
    return _failure(payment_success_rate(start=start, end=end))


def webhook_failure_rate(*, start: datetime, end: datetime) -> Decimal | None:
    return _failure(webhook_success_rate(start=start, end=end))


# What an AlertRule's `metric` names: a function of the window, and its unit.
ALERT_METRICS = {
    "payment_failure_rate": (payment_failure_rate, "%"),
    "webhook_failure_rate": (webhook_failure_rate, "%"),
    "invoice_generation_time": (invoice_generation_time, "s"),
    "usage_accuracy": (usage_accuracy, "%"),
}


def alert_metric_value(*, metric: str, start: datetime, end: datetime) -> Decimal | None:
    function, _unit = ALERT_METRICS[metric]
    return function(start=start, end=end)


FIGURES = (
    ("webhook_success_rate", "Webhook success rate", webhook_success_rate, "%", "99", "gt"),
    ("payment_success_rate", "Payment success rate", payment_success_rate, "%", "95", "gt"),
    ("invoice_generation_time", "Invoice generation time", invoice_generation_time, "s", "30",
     "lt"),
    ("usage_accuracy", "Usage tracking accuracy", usage_accuracy, "%", "100", "gte"),
)  # fmt: skip


def monitoring_figures(*, now: datetime) -> list[dict]:
    """The guide's four figures over the last 24 hours: each `{key, label, value (Decimal or
    None: no data), unit, target, comparison (value <comparison> target is ok), ok (None
    without data), window}`."""
    start = now - FIGURES_WINDOW
    figures = []
    for key, label, function, unit, target, comparison in FIGURES:
        value = function(start=start, end=now)
        threshold = Decimal(target)
        figures.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "unit": unit,
                "target": threshold,
                "comparison": comparison,
                "ok": None
                if value is None
                else breaches(value=value, comparison=comparison, threshold=threshold),
                "window": FIGURES_WINDOW_LABEL,
            }
        )
    return figures


def dunning_cases_open() -> int:
    return dunning_selectors.open_case_count()
