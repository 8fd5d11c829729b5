"""Prometheus metrics: defined once here (shared imports no app), incremented by the app where
the fact happens, exposed at `/metrics` (analytics renders them with its scrape-time gauges).

Counters and histograms only: gauges that are facts in the database (open dunning cases, usage
reconciliation differences, success rates) are computed at scrape time by analytics' collector,
so they are right in every process and need no multiprocess mode.

Every increment goes through `inc`/`observe`/`inc_after_commit`, which never raise: a metrics
error must not break billing (it is logged once per metric at most).

Multiprocess (gunicorn, Celery prefork): set `PROMETHEUS_MULTIPROC_DIR` to an empty directory
writable by every process before they start (cleared at each deploy); prometheus-client then
writes each process's values to files there and `/metrics` sums them (`MultiProcessCollector`).
gunicorn's config must call `child_exit` below from its `child_exit` hook, so a dead worker's
files are merged and not counted as live.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager

from django.db import transaction
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

log = logging.getLogger(__name__)

# Label values are bounded: an event type is Stripe's (<= 100 chars), outcomes are fixed words.
WEBHOOK_EVENTS_RECEIVED = Counter(
    "billing_webhook_events_received",
    "Verified Stripe webhook deliveries received, by event type (duplicates: duplicate=yes).",
    ["type", "duplicate"],
)
WEBHOOK_EVENTS_PROCESSED = Counter(
    "billing_webhook_events_processed",
    "Stripe webhook events processed successfully (handled or ignored), by event type.",
    ["type", "result"],
)
WEBHOOK_EVENTS_FAILED = Counter(
    "billing_webhook_events_failed",
    "Stripe webhook handler runs that raised (retried later; final=yes when given up).",
    ["type", "final"],
)
PAYMENT_ATTEMPTS = Counter(
    "billing_payment_attempts",
    "Card payment attempt outcomes: succeeded, failed, postponed (Stripe unreachable or the "
    "intent still processing), not_collectable (the invoice was paid or voided meanwhile).",
    ["outcome"],
)
INVOICE_GENERATION_SECONDS = Histogram(
    "billing_invoice_generation_seconds",
    "Time to generate (price, tax, number, store) one invoice, by path: first_period "
    "(POST subscriptions), period and trial_end (billing cycle, one by one), bulk_period (the "
    "billing cycle's bulk roll-overs: the chunk's time divided among its invoices), upgrade.",
    ["path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
USAGE_EVENTS_INGESTED = Counter(
    "billing_usage_events_ingested",
    "Usage events accepted and stored (duplicates by idempotency key excluded), by source: "
    "single (POST usage) or batch (POST usage/batch).",
    ["source"],
)
CELERY_TASK_FAILURES = Counter(
    "billing_celery_task_failures",
    "Celery tasks that ended in failure (after their own retries), by task name.",
    ["task"],
)

_warned: set[str] = set()


def _warn(metric, exc: Exception) -> None:
    name = getattr(metric, "_name", repr(metric))
    if name not in _warned:
        _warned.add(name)
        log.warning("metrics: %s could not be updated: %s", name, exc)


def inc(metric: Counter, amount: float = 1, **labels) -> None:
    """`metric.labels(**labels).inc(amount)`, never raising."""
    try:
        (metric.labels(**labels) if labels else metric).inc(amount)
    except Exception as exc:
        _warn(metric, exc)


def observe(metric: Histogram, seconds: float, **labels) -> None:
    try:
        (metric.labels(**labels) if labels else metric).observe(seconds)
    except Exception as exc:
        _warn(metric, exc)


def inc_after_commit(metric: Counter, amount: float = 1, **labels) -> None:
    """Count a fact a transaction decides only once it is committed (at once in autocommit)."""
    try:
        transaction.on_commit(lambda: inc(metric, amount, **labels))
    except Exception as exc:
        _warn(metric, exc)


@contextmanager
def timed(metric: Histogram, **labels):
    """Observe the block's duration (also when it raises). Yields a dict whose `seconds` is
    set on exit, for callers that record the duration too."""
    spent: dict = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield spent
    finally:
        spent["seconds"] = time.perf_counter() - start
        observe(metric, spent["seconds"], **labels)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


class _Delegate:
    """A collector that yields what another registry collects (the process's own metrics)."""

    def __init__(self, registry):
        self._registry = registry

    def collect(self):
        yield from self._registry.collect()


def render_latest(*, extra_collectors=()) -> bytes:
    """The Prometheus text exposition: this process's metrics, or (PROMETHEUS_MULTIPROC_DIR set)
    every process's, summed from their files; then each extra collector (scrape-time gauges).
    A failing extra collector is left out (logged), the rest is still served."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Delegate(REGISTRY))
    output = generate_latest(registry)
    for collector in extra_collectors:
        extra = CollectorRegistry(auto_describe=False)
        extra.register(collector)
        try:
            output += generate_latest(extra)
        except Exception:
            log.exception("metrics: collector %r failed; left out of this scrape", collector)
    return output


def child_exit(server, worker) -> None:
    """For gunicorn.conf.py: `def child_exit(server, worker): metrics.child_exit(server, worker)`
    (merges a dead worker's live gauges; harmless without PROMETHEUS_MULTIPROC_DIR)."""
    if not multiprocess_dir():
        return
    try:
        multiprocess.mark_process_dead(worker.pid)
    except Exception as exc:
        log.warning("metrics: mark_process_dead(%s) failed: %s", getattr(worker, "pid", "?"), exc)
