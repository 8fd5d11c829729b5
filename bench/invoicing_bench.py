"""Invoicing benchmarks: billing cycle throughput, PDF rendering overhead, GET invoices.

    python bench/invoicing_bench.py [--tenants 10000] [--baseline 1000] [--skip-pdf] [--skip-http]
        [--conn-max-age 0 60] [--rounds 2]

Runs in a scratch PostgreSQL database cloned from the test template (DATABASE_URL names the
server; default postgres://root@127.0.0.1:5432/leanvibe_billing). Prints its figures.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://root@127.0.0.1:5432/leanvibe_billing")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import conftest  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

METRICS = {  # 5 metrics of usage per tenant, some above the Developer plan's limits
    "api_calls": Decimal(15000),
    "storage_gb": Decimal(12),
    "ai_requests": Decimal(400),
    "active_users": Decimal(4),
    "concurrent_sessions": Decimal(3),
}


def seed(count: int):
    from subscriptions.models import Plan, Subscription, Tenant

    now = datetime(2026, 1, 1, tzinfo=UTC)
    plan = Plan.objects.get(slug="developer")
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"Bench {i}",
            email=f"bench{i}@example.com",
            country="US",
            state="CA",
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    )
    Subscription.objects.bulk_create(
        Subscription(
            tenant=t,
            plan=plan,
            status="active",
            started_at=now,
            period_index=0,
            current_period_start=now,
            current_period_end=datetime(2026, 2, 1, tzinfo=UTC),
            created_at=now,
            updated_at=now,
        )
        for t in tenants
    )
    return tenants


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def seed_usage(tenants) -> None:
    """January's usage as hourly (and daily) rollups: per tenant and metric two hours whose sum,
    max and latest value are METRICS (what ingestion would have left for those events)."""
    from subscriptions.models import Metric

    metric_ids = dict(Metric.objects.values_list("metric_type", "id"))
    first, second = datetime(2026, 1, 10, 9, tzinfo=UTC), datetime(2026, 1, 20, 15, tzinfo=UTC)
    rows = [
        (t.pk, metric_ids[metric], hour, half, top, 1, hour, top)
        for t in tenants
        for metric, value in METRICS.items()
        for hour, half, top in ((first, value / 2, value / 2), (second, value / 2, value))
    ]
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY usage_hourly (tenant_id, metric_id, hour, sum_value, max_value, event_count, "
            "latest_at, latest_value) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO usage_daily (tenant_id, metric_id, day, sum_value, max_value,
                 event_count, latest_at, latest_value)
               SELECT tenant_id, metric_id, date_trunc('day', hour, 'UTC'), sum(sum_value),
                 max(max_value), sum(event_count), max(latest_at),
                 (array_agg(latest_value ORDER BY latest_at DESC, latest_value DESC))[1]
               FROM usage_hourly GROUP BY 1, 2, 3"""
        )


def bench_cycle(count: int, baseline: int) -> None:
    """The cycle over `count` tenants, after the one-transaction-per-subscription path
    (`subscription_bill_due`, what the cycle did before chunking) over `baseline` others."""
    from invoicing.models import Invoice
    from invoicing.services.cycle import CycleResult, billing_cycle_run, subscription_bill_due
    from invoicing.services.generation import TermsCache

    tenants = seed(count + baseline)
    seed_usage(tenants)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    print("billing cycle: 5 metrics of usage (rollups) per tenant, no PDFs")
    rate = None
    if baseline:
        from subscriptions.models import Subscription

        ids = list(
            Subscription.objects.filter(tenant__in=tenants[:baseline]).values_list("pk", flat=True)
        )
        counter, result, cache = QueryCounter(), CycleResult(now=now), TermsCache()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            for sub_id in ids:
                subscription_bill_due(
                    subscription_id=sub_id, now=now, result=result, cache=cache, deliver=False
                )
        elapsed = time.perf_counter() - started
        assert result.invoices == baseline, result.summary_line()
        rate = baseline / elapsed
        per_invoice = counter.count / baseline
        print(f"  one transaction per subscription (before): {baseline} in {elapsed:.2f} s, "
              f"{rate:.0f} invoices/s, {per_invoice:.2f} queries per invoice")  # fmt: skip
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = billing_cycle_run(now=now, deliver=False)
    elapsed = time.perf_counter() - started
    assert result.invoices == count, result.summary_line()
    assert Invoice.objects.count() == count + baseline
    # fee 5,000 + overages: api_calls 5,000, storage_gb 1,000, active_users 1,000
    totals = set(Invoice.objects.values_list("total", flat=True).distinct())
    assert totals == {12000}, totals
    print(f"  billing_cycle_run, {count} tenants: {result.summary_line()}")
    print(f"  total {elapsed:.2f} s, {count / elapsed:.0f} invoices/s, "
          f"{counter.count / count:.2f} queries per invoice"
          + (f", {count / elapsed / rate:.2f}x the one-by-one path" if rate else ""))  # fmt: skip


def bench_pdf() -> None:
    from weasyprint import HTML

    from invoicing.models import Invoice, InvoiceLine
    from invoicing.services import documents

    base = Invoice.objects.order_by("number").first()
    for count in (10, 200):
        InvoiceLine.objects.filter(invoice=base).delete()
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=base,
                position=i,
                kind="custom",
                description=f"Line {i}",
                quantity=1,
                unit_price=100,
                amount=100,
                period_start=base.period_start,
                period_end=base.period_end,
            )
            for i in range(count)
        )
        invoice = Invoice.objects.select_related("tenant").get(pk=base.pk)
        html = documents.invoice_html(invoice)
        rounds = 5
        documents.invoice_pdf_bytes(invoice)  # warm fonts
        t0 = time.perf_counter()
        for _ in range(rounds):
            documents.invoice_pdf_bytes(Invoice.objects.select_related("tenant").get(pk=base.pk))
        ours = (time.perf_counter() - t0) / rounds
        t0 = time.perf_counter()
        for _ in range(rounds):
            HTML(string=html).write_pdf()
        bare = (time.perf_counter() - t0) / rounds
        print(f"PDF {count} lines: ours {ours * 1000:.0f} ms, "
              f"bare WeasyPrint {bare * 1000:.0f} ms, ratio {ours / bare:.2f}x")  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ab(port: int, token: str, path: str) -> tuple[float, str]:
    url = f"http://127.0.0.1:{port}/{path if path == 'health' else f'api/v1/billing/{path}'}"
    out = subprocess.run(
        ["ab", "-n", "500", "-c", "10", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate, problems = 0.0, []
    for line in out.splitlines():
        if line.startswith("Requests per second"):
            rate = float(line.split()[3])
        elif line.startswith(("Failed requests", "Non-2xx")) and not line.strip().endswith(" 0"):
            problems.append(line.strip())
    return rate, "; ".join(problems)


def bench_http(db_name: str, conn_max_ages: list[int], rounds: int) -> None:
    """`GET invoices` vs the legacy list (bench/bare_app.py) on the same server, alternating."""
    import orjson
    from django.db import connection as conn
    from django.test import Client, override_settings

    from invoicing.models import Invoice
    from subscriptions.services.tokens import api_token_create, staff_user_get_or_create

    # keep 1,000 invoices
    keep = list(Invoice.objects.order_by("number").values_list("pk", flat=True)[:1000])
    Invoice.objects.exclude(pk__in=keep).delete()
    token = api_token_create(
        role="staff", user=staff_user_get_or_create(username="bench"), now=datetime.now(UTC)
    )[1]
    bodies = {}
    with override_settings(ROOT_URLCONF="bench.bare_app", DEBUG=True):
        for path in ("invoices-legacy", "invoices"):
            url = f"/api/v1/billing/{'bench/' if path.endswith('legacy') else ''}{path}"
            Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")  # last_used_at written
            reset_queries()
            with CaptureQueriesContext(conn) as queries:
                response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
            bodies[path] = orjson.loads(
                response.content.replace(b"bench/invoices-legacy", b"invoices")
            )
            print(f"GET {path}: {len(queries)} queries per page (50 invoices)")
    if bodies["invoices"] != bodies["invoices-legacy"]:
        a, b = bodies["invoices"], bodies["invoices-legacy"]
        diff = {k: (a[k], b[k]) for k in a if k != "results" and a[k] != b[k]}
        rows = [(x, y) for x, y in zip(a["results"], b["results"], strict=False) if x != y]
        raise AssertionError(f"the two lists differ: {diff} {rows[:1]}")
    print("  same JSON from both")
    db = settings.DATABASES["default"]
    for max_age in conn_max_ages:
        env = {
            **os.environ,
            "DATABASE_URL": conftest._database_url(db, db_name),
            "DJANGO_SETTINGS_MODULE": "bench.invoicing_settings",
            "BENCH_CONN_MAX_AGE": str(max_age),
        }
        port = _free_port()  # other sessions' benches may hold a fixed one
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "billing_project.wsgi:application", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        label = "new connection per request" if max_age == 0 else f"CONN_MAX_AGE={max_age}"
        print(f"GET invoices, 2 gunicorn workers, ab -n 500 -c 10, {label}:")
        try:
            time.sleep(3)
            _ab(port, token, "invoices")  # warm-up
            best = {"invoices-legacy": 0.0, "invoices": 0.0}
            for _ in range(rounds):
                for path in ("bench/invoices-legacy", "invoices"):
                    rate, problems = _ab(port, token, path)
                    key = path.removeprefix("bench/")
                    best[key] = max(best[key], rate)
                    print(f"  {key}: {rate:.1f} req/s {problems}".rstrip())
            health, _ = _ab(port, token, "health")
            print(f"  (machine ceiling now: GET /health, no auth, SELECT 1: {health:.0f} req/s)")
            ratio = best["invoices"] / best["invoices-legacy"]
            print(f"  best: invoices {best['invoices']:.1f} req/s, legacy "
                  f"{best['invoices-legacy']:.1f} req/s, ratio {ratio:.2f}x")  # fmt: skip
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument(
        "--baseline",
        type=int,
        default=1000,
        help="tenants billed one transaction per subscription first (0: none)",
    )
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        nargs="+",
        default=[0, 60],
        help="CONN_MAX_AGE of the gunicorn runs (0: a connection per request)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="ab runs of each list, alternated")
    args = parser.parse_args()
    name = scratch_database("invoicing")
    try:
        bench_cycle(args.tenants, args.baseline)
        if not args.skip_pdf:
            bench_pdf()
        if not args.skip_http:
            bench_http(name, args.conn_max_age, args.rounds)
    finally:
        for alias in connections:
            connections[alias].close()
        with conftest._admin_connection(settings.DATABASES["default"]) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
