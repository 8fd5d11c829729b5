"""The metric catalog (metric_type -> id, aggregation), cached in process memory.

Ingestion looks a metric up on every event; the catalog changes rarely (staff add metrics), so
each process keeps it for `TTL_SECONDS` and reloads it at once when an unknown metric_type
arrives (at most once a second, so a stream of typos cannot hammer the database).
"""

import threading
import time
from dataclasses import dataclass
from uuid import UUID

from subscriptions.models import Metric

TTL_SECONDS = 30.0
MISS_RELOAD_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class MetricInfo:
    id: UUID
    metric_type: str
    aggregation: str


_lock = threading.Lock()
_state: dict = {"loaded_at": float("-inf"), "by_type": {}}


def _load() -> dict[str, MetricInfo]:
    rows = Metric.objects.values_list("id", "metric_type", "aggregation")
    by_type = {metric_type: MetricInfo(pk, metric_type, agg) for pk, metric_type, agg in rows}
    with _lock:
        _state["by_type"] = by_type
        _state["loaded_at"] = time.monotonic()
    return by_type


def metric_catalog() -> dict[str, MetricInfo]:
    if time.monotonic() - _state["loaded_at"] > TTL_SECONDS:
        return _load()
    return _state["by_type"]


def metric_lookup(metric_type: str) -> MetricInfo | None:
    catalog = metric_catalog()
    info = catalog.get(metric_type)
    if info is None and time.monotonic() - _state["loaded_at"] > MISS_RELOAD_SECONDS:
        info = _load().get(metric_type)
    return info


def metric_catalog_clear() -> None:
    with _lock:
        _state["loaded_at"] = float("-inf")
        _state["by_type"] = {}


class _Catalog:
    """A mapping-like view whose `get` reloads on a miss (what validation is given)."""

    @staticmethod
    def get(metric_type: str) -> MetricInfo | None:
        return metric_lookup(metric_type)


CATALOG = _Catalog()
