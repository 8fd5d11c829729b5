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
from usage.reconcile import usage_reconcile
from usage.selectors import usage_totals, usage_totals_many
from usage.services import usage_batch_record, usage_event_record
from usage.validation import IngestContext, parse_record

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 5, 10, 7, 0, tzinfo=UTC)
NOW = BASE + timedelta(days=4)
METRICS = {"h_sum": "sum", "h_max": "max", "h_latest": "latest", "h_uniq": "unique_count"}

quantities = st.decimals(
    min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False
)
offsets = st.integers(min_value=0, max_value=10 * 3600 - 1)  # seconds after BASE
# Over 3.5 days from BASE (07:00): periods with whole UTC days, partial days and midnights.
long_offsets = st.one_of(
    st.integers(min_value=0, max_value=84 * 3600 - 1),
    st.sampled_from([17 * 3600 - 1, 17 * 3600, 41 * 3600 - 1, 41 * 3600, 65 * 3600]),  # midnights
)


def _events(offsets):
    return st.lists(
        st.tuples(
            st.sampled_from(sorted(METRICS)),
            quantities,
            offsets,
            st.sampled_from(["a", "b", "c", "d"]),
            st.booleans(),  # sent alone (POST usage path) or in the batch
        ),
        max_size=40,
    )


events = _events(offsets)
bounds = st.tuples(offsets, offsets).map(sorted)
long_events = _events(long_offsets)
long_bounds = st.tuples(long_offsets, long_offsets).map(sorted)


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
def test_totals_equal_direct_aggregation(metrics, data, period, extra_seconds):
    _check_totals(data, period, extra_seconds, BASE + timedelta(hours=10))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=long_events, period=long_bounds, extra_seconds=st.integers(0, 59))
def test_totals_across_days_equal_direct_aggregation(metrics, data, period, extra_seconds):
    """Periods over whole UTC days (daily rollups), partial days and edge hours."""
    _check_totals(data, period, extra_seconds, BASE + timedelta(hours=84))


def _ingest(tenant, data):
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


def _bounds(period, extra_seconds):
    """Bounds that are not hour-aligned (seconds and microseconds off the hour)."""
    start = BASE + timedelta(seconds=period[0], microseconds=extra_seconds)
    end = BASE + timedelta(seconds=period[1] + extra_seconds, microseconds=1)
    return start, end


def _check_totals(data, period, extra_seconds, whole_end):
    tenant = TenantFactory()
    _ingest(tenant, data)
    start, end = _bounds(period, extra_seconds)
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
        (tenant.id, BASE, whole_end),
        (tenant.id, BASE - timedelta(hours=7), whole_end + timedelta(hours=12)),  # midnights
        (uuid.uuid4(), start, end),
        (tenant.id, end, start),
    ]
    assert usage_totals_many(requests=requests) == [
        usage_totals(tenant_id=t, start=a, end=b) for t, a, b in requests
    ]
    for a, b in ((BASE, whole_end), (BASE - timedelta(hours=7), whole_end + timedelta(hours=12))):
        assert usage_totals(tenant_id=tenant.id, start=a, end=b) == {
            m: v for m in METRICS if (v := _direct(tenant, m, a, b)) is not None
        }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=long_events,
    period=long_bounds,
    extra_seconds=st.integers(0, 59),
    split=st.integers(0, 40),
    early=st.integers(0, 5 * 3600),
)
def test_totals_from_registered_boundaries_equal_direct_aggregation(
    metrics, data, period, extra_seconds, split, early
):
    """The period's boundaries are registered while events arrive (some before, some after):
    the edge rollups then stand for the partial edge hours (no raw event read), exactly, and an
    older boundary in the same hours changes nothing."""
    from usage.reconcile import _ceil_hour, _floor_hour
    from usage.selectors import _totals
    from usage.services import usage_boundaries_register

    tenant = TenantFactory()
    start, end = _bounds(period, extra_seconds)
    _ingest(tenant, data[:split])
    older = start - timedelta(seconds=early % 3600 + 1)  # maybe in the start's hour
    usage_boundaries_register(tenant_id=tenant.id, boundaries=[start, end, older])
    assert usage_boundaries_register(tenant_id=tenant.id, boundaries=[start, end]) == 0
    _ingest(tenant, data[split:])
    (totals,), (raw,) = _totals([(tenant.id, start, end)])
    if _ceil_hour(start) < _floor_hour(end):  # a whole hour inside: both edges from rollups
        assert raw == 0
    assert totals == {m: v for m in METRICS if (v := _direct(tenant, m, start, end)) is not None}
    assert usage_totals_many(requests=[(tenant.id, start, end)]) == [totals]
    assert usage_reconcile(tenant_id=tenant.id) == []


def test_a_read_of_many_raw_edge_events_registers_its_boundaries(metrics, monkeypatch):
    from usage import selectors
    from usage.models import UsageBoundary, UsageEdge

    monkeypatch.setattr(selectors, "EDGE_RAW_LIMIT", 5)
    tenant = TenantFactory()
    start = BASE + timedelta(minutes=23, seconds=45)
    end = start + timedelta(days=2)
    data = [("h_sum", Decimal(n), 60 * n, "a", n % 2 == 0) for n in range(40)]  # 07:00-07:39
    _ingest(tenant, data)
    expected = {"h_sum": sum(Decimal(n) for n in range(24, 40))}
    assert usage_totals(tenant_id=tenant.id, start=start, end=end) == expected
    assert set(UsageBoundary.objects.values_list("boundary", flat=True)) == {start, end}
    after = UsageEdge.objects.get(boundary=start, after=True)
    assert (after.event_count, after.sum_value) == (16, expected["h_sum"])
    assert UsageEdge.objects.get(boundary=start, after=False).event_count == 24
    _ingest(tenant, [("h_sum", Decimal(100), 30 * 60, "a", True)])  # 07:30, after the start
    _ingest(tenant, [("h_sum", Decimal(1000), 10 * 60, "a", False)])  # 07:10, before it
    assert usage_totals(tenant_id=tenant.id, start=start, end=end) == {
        "h_sum": expected["h_sum"] + 100
    }
    assert usage_reconcile(tenant_id=tenant.id) == []
    UsageEdge.objects.filter(boundary=start, after=True).update(sum_value=0)
    assert [d.kind for d in usage_reconcile(tenant_id=tenant.id)] == ["edge"]


def test_reconcile_finds_no_difference_after_random_ingestion(metrics, capsys):
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


def test_reconcile_reports_a_difference(metrics, capsys):
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


def _history_rows(tenant, metric_ids, *, hours_back: int):
    """Rollup rows of `tenant` in hours far outside the periods read: a long history."""
    from usage.models import UsageDaily, UsageHourly, UsageHourlyUnique

    hourly, daily, keys = [], [], []
    for metric_id in metric_ids:
        for n in range(1, hours_back + 1):
            for hour in (BASE - timedelta(days=3, hours=n), NOW + timedelta(days=3, hours=n)):
                values = {"sum_value": 7, "max_value": 999, "event_count": 1}
                hourly.append(
                    UsageHourly(
                        tenant=tenant, metric_id=metric_id, hour=hour, latest_at=hour,
                        latest_value=999, **values,
                    )
                )  # fmt: skip
                keys.append(
                    UsageHourlyUnique(
                        tenant=tenant, metric_id=metric_id, hour=hour, unique_key=f"old{n}"
                    )
                )
                if hour.hour == 0:
                    daily.append(
                        UsageDaily(
                            tenant=tenant, metric_id=metric_id, day=hour, latest_at=hour,
                            latest_value=999, **values,
                        )
                    )  # fmt: skip
    UsageHourly.objects.bulk_create(hourly, batch_size=500)
    UsageDaily.objects.bulk_create(daily, batch_size=500)
    UsageHourlyUnique.objects.bulk_create(keys, batch_size=500)


def test_history_outside_the_period_changes_nothing(metrics):
    """Rollups (hourly, daily, keys) of the same tenant and metrics before and after the period
    are not read: a year of history leaves every total of periods of any shape unchanged."""
    tenant = TenantFactory()
    records = [
        {
            "metric_type": metric_type,
            "quantity": str(n + 1),
            "timestamp": (BASE + timedelta(minutes=37 * n)).isoformat(),
            "unique_key": f"k{n % 3}",
        }
        for n in range(150)
        for metric_type in METRICS
    ]
    usage_batch_record(tenant_id=tenant.id, records=records, catalog=CATALOG, now=NOW)
    periods = [
        (BASE + timedelta(minutes=13, seconds=5), BASE + timedelta(hours=80, minutes=1)),
        (BASE - timedelta(hours=7), BASE + timedelta(hours=41)),  # whole days only
        (BASE + timedelta(minutes=5), BASE + timedelta(hours=3, minutes=5)),
        (BASE + timedelta(minutes=5), BASE + timedelta(minutes=50)),
    ]
    requests = [(tenant.id, start, end) for start, end in periods]
    before = [usage_totals(tenant_id=tenant.id, start=a, end=b) for a, b in periods]
    assert all(before) and usage_totals_many(requests=requests) == before
    metric_ids = list(Metric.objects.filter(metric_type__in=METRICS).values_list("id", flat=True))
    _history_rows(tenant, metric_ids, hours_back=24 * 30)  # 2 x 30 days per metric
    assert [usage_totals(tenant_id=tenant.id, start=a, end=b) for a, b in periods] == before
    assert usage_totals_many(requests=requests) == before
    for (start, end), totals in zip(periods, before, strict=True):
        assert totals == {
            m: v for m in METRICS if (v := _direct(tenant, m, start, end)) is not None
        }


def test_daily_rollups_are_maintained_on_both_ingestion_paths(metrics):
    from usage.models import UsageDaily

    tenant = TenantFactory()
    midnight = datetime(2026, 5, 11, tzinfo=UTC)
    times = [midnight - timedelta(microseconds=1), midnight, midnight + timedelta(hours=23)]
    usage_batch_record(
        tenant_id=tenant.id,
        records=[
            {"metric_type": "h_sum", "quantity": q, "timestamp": t.isoformat()}
            for q, t in zip((1, 2, 3), times, strict=True)
        ],
        catalog=CATALOG,
        now=NOW,
    )
    ctx = IngestContext(now=NOW, lower_bound=None)
    record = {"metric_type": "h_sum", "quantity": "4", "timestamp": times[1].isoformat()}
    parsed = parse_record(record, catalog=CATALOG, ctx=ctx, allow_date=False)
    usage_event_record(tenant_id=tenant.id, record=parsed, now=NOW)
    rows = UsageDaily.objects.filter(tenant=tenant).order_by("day")
    assert [(r.day, r.sum_value, r.max_value, r.event_count, r.latest_value) for r in rows] == [
        (midnight - timedelta(days=1), 1, 1, 1, 1),
        (midnight, 9, 4, 3, 3),
    ]
    assert rows[1].latest_at == times[2]


def test_reconcile_reports_a_daily_difference(metrics, capsys):
    from usage.models import UsageDaily

    tenant = TenantFactory()
    usage_batch_record(
        tenant_id=tenant.id,
        records=[{"metric_type": "h_sum", "quantity": 1, "timestamp": BASE.isoformat()}],
        catalog=CATALOG,
        now=NOW,
    )
    UsageDaily.objects.filter(tenant=tenant).update(event_count=5)
    with pytest.raises(SystemExit) as exit_info:
        call_command("usage_reconcile", "--tenant", str(tenant.id))
    out = capsys.readouterr().out
    assert exit_info.value.code == 1 and "1 differences" in out and out.startswith("daily ")


def test_migration_builds_daily_rollups_from_hourly(metrics, capsys):
    """The data migration's SQL rebuilds the daily rollups ingestion keeps."""
    import importlib
    import random

    from django.db import connection

    from usage.models import UsageDaily

    migration = importlib.import_module("usage.migrations.0002_usage_daily")
    tenant = TenantFactory()
    rng = random.Random(3)
    records = [
        {
            "metric_type": rng.choice(sorted(METRICS)),
            "quantity": str(rng.choice([1, 2, 5])),
            "timestamp": (BASE + timedelta(seconds=rng.randint(0, 60 * 3600))).isoformat(),
            "unique_key": "k",
        }
        for _ in range(300)
    ]
    usage_batch_record(tenant_id=tenant.id, records=records, catalog=CATALOG, now=NOW)
    expected = sorted(UsageDaily.objects.values_list())
    UsageDaily.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL_SQL)
    assert sorted(UsageDaily.objects.values_list()) == expected
    call_command("usage_reconcile")
    assert capsys.readouterr().out.strip().endswith("0 differences")
