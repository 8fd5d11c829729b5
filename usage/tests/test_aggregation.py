"""Rollups + edge hours == a direct aggregation over raw events, for random data (hypothesis)."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Max, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscriptions.models import Metric
from subscriptions.tests.factories import TenantFactory
from usage.catalog import CATALOG, metric_catalog_clear
from usage.models import UsageEvent
from usage.selectors import usage_totals, usage_totals_many
from usage.services import usage_batch_record, usage_event_record
from usage.validation import IngestContext, parse_record

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 5, 10, 7, 0, tzinfo=UTC)
NOW = BASE + timedelta(days=2)
METRICS = {"h_sum": "sum", "h_max": "max", "h_latest": "latest", "h_uniq": "unique_count"}

quantities = st.decimals(
    min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False
)
offsets = st.integers(min_value=0, max_value=10 * 3600 - 1)  # seconds after BASE
events = st.lists(
    st.tuples(
        st.sampled_from(sorted(METRICS)),
        quantities,
        offsets,
        st.sampled_from(["a", "b", "c", "d"]),
        st.booleans(),  # sent alone (POST usage path) or in the batch
    ),
    max_size=40,
)
bounds = st.tuples(offsets, offsets).map(sorted)


def _direct(tenant, metric_type, start, end):
    rows = UsageEvent.objects.filter(
        tenant=tenant, metric__metric_type=metric_type, timestamp__gte=start, timestamp__lt=end
    )
    if not rows.exists():
        return None
    aggregation = METRICS[metric_type]
    if aggregation == "sum":
        return rows.aggregate(v=Sum("quantity"))["v"]
    if aggregation == "max":
        return rows.aggregate(v=Max("quantity"))["v"]
    if aggregation == "latest":
        return rows.order_by("-timestamp", "-quantity").first().quantity
    return Decimal(rows.values("unique_key").distinct().count())


@pytest.fixture
def metrics(db):
    for metric_type, aggregation in METRICS.items():
        Metric.objects.get_or_create(
            metric_type=metric_type, defaults={"name": metric_type, "aggregation": aggregation}
        )
    metric_catalog_clear()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=events, period=bounds, extra_seconds=st.integers(0, 59))
def test_totals_equal_direct_aggregation(metrics, usage_path, data, period, extra_seconds):
    tenant = TenantFactory()
    ctx = IngestContext(now=NOW, lower_bound=None)
    batch = []
    for metric_type, quantity, offset, key, alone in data:
        record = {
            "metric_type": metric_type,
            "quantity": str(quantity),
            "timestamp": (BASE + timedelta(seconds=offset)).isoformat(),
            "unique_key": key,
        }
        if alone:
            parsed = parse_record(record, catalog=CATALOG, ctx=ctx, allow_date=False)
            usage_event_record(tenant_id=tenant.id, record=parsed, now=NOW)
        else:
            batch.append(record)
    if batch:
        usage_batch_record(tenant_id=tenant.id, records=batch, catalog=CATALOG, now=NOW)
    # Bounds that are not hour-aligned (seconds and microseconds off the hour).
    start = BASE + timedelta(seconds=period[0], microseconds=extra_seconds)
    end = BASE + timedelta(seconds=period[1] + extra_seconds, microseconds=1)
    totals = usage_totals(tenant_id=tenant.id, start=start, end=end)
    expected = {}
    for metric_type in METRICS:
        value = _direct(tenant, metric_type, start, end)
        if value is not None:
            expected[metric_type] = value
    assert totals == expected
    # The chunk form answers the same, request by request, in one query.
    requests = [
        (tenant.id, start, end),
        (tenant.id, BASE, BASE + timedelta(hours=10)),
        (uuid.uuid4(), start, end),
        (tenant.id, end, start),
    ]
    assert usage_totals_many(requests=requests) == [
        usage_totals(tenant_id=t, start=a, end=b) for t, a, b in requests
    ]
    whole = usage_totals(tenant_id=tenant.id, start=BASE, end=BASE + timedelta(hours=10))
    assert whole == {
        m: v
        for m in METRICS
        if (v := _direct(tenant, m, BASE, BASE + timedelta(hours=10))) is not None
    }


def test_reconcile_finds_no_difference_after_random_ingestion(metrics, usage_path, capsys):
    import random

    rng = random.Random(5)
    tenant = TenantFactory()
    records = [
        {
            "metric_type": rng.choice(sorted(METRICS)),
            "quantity": f"{rng.randint(0, 10_000) / 100}",
            "timestamp": (BASE + timedelta(seconds=rng.randint(0, 86_399))).isoformat(),
            "unique_key": rng.choice("pqrst"),
            "idempotency_key": f"r{rng.randint(0, 400)}",
        }
        for _ in range(600)
    ]
    usage_batch_record(tenant_id=tenant.id, records=records[:300], catalog=CATALOG, now=NOW)
    ctx = IngestContext(now=NOW, lower_bound=None)
    for record in records[300:400]:
        parsed = parse_record(record, catalog=CATALOG, ctx=ctx, allow_date=False)
        usage_event_record(tenant_id=tenant.id, record=parsed, now=NOW)
    usage_batch_record(tenant_id=tenant.id, records=records[400:], catalog=CATALOG, now=NOW)
    call_command("usage_reconcile")
    assert capsys.readouterr().out.strip().endswith("0 differences")
    call_command(
        "usage_reconcile",
        "--tenant",
        str(tenant.id),
        "--period",
        "2026-05-10T07:30:00Z",
        "2026-05-10T12:10:00Z",
    )
    assert capsys.readouterr().out.strip() == "0 differences"


def test_reconcile_reports_a_difference(metrics, usage_path, capsys):
    from usage.models import UsageHourly

    tenant = TenantFactory()
    usage_batch_record(
        tenant_id=tenant.id,
        records=[{"metric_type": "h_sum", "quantity": 1, "timestamp": BASE.isoformat()}],
        catalog=CATALOG,
        now=NOW,
    )
    UsageHourly.objects.filter(tenant=tenant).update(sum_value=2)
    with pytest.raises(SystemExit) as exit_info:
        call_command("usage_reconcile", "--tenant", str(tenant.id))
    assert exit_info.value.code == 1
    assert "1 differences" in capsys.readouterr().out


def test_totals_use_one_query(metrics, django_assert_num_queries):
    tenant = TenantFactory()
    start = BASE + timedelta(minutes=23, seconds=45)
    with django_assert_num_queries(1):
        assert usage_totals(tenant_id=tenant.id, start=start, end=start + timedelta(days=30)) == {}
