"""Invoicing benchmarks: billing cycle throughput, PDF rendering overhead, GET invoices.

    python bench/invoicing_bench.py [--tenants 10000] [--skip-http]

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

METRICS = {  # 5 metrics of usage per tenant, some above the Developer plan's limits
    "api_calls": Decimal(15000),
    "storage_gb": Decimal(12),
    "ai_requests": Decimal(400),
    "active_users": Decimal(4),
    "concurrent_sessions": Decimal(3),
}


def scratch_database() -> str:
    db = settings.DATABASES["default"]
    template = f"{db['NAME']}_tmpl_{conftest._migrations_hash()}"
    conftest._ensure_template(db, template)
    name = f"{db['NAME']}_bench_invoicing"
    for alias in connections:
        connections[alias].close()
    with conftest._admin_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    return name


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


def bench_cycle(count: int) -> None:
    from invoicing import usage_source
    from invoicing.models import Invoice
    from invoicing.services.cycle import billing_cycle_run

    seed(count)
    # Usage per (tenant, period) from memory when the usage app is not installed: the query the
    # real selector makes is not counted then (see README).
    if not _usage_app_ready():
        usage_source.usage_totals = lambda **kwargs: dict(METRICS)
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = billing_cycle_run(now=datetime(2026, 2, 1, tzinfo=UTC), deliver=False)
    elapsed = time.perf_counter() - started
    assert result.invoices == count == Invoice.objects.count(), result.summary_line()
    print(f"billing cycle: {count} tenants, 5 metrics each, no PDFs")
    print(f"  {result.summary_line()}")
    print(f"  total {elapsed:.2f} s, {count / elapsed:.0f} invoices/s, "
          f"{counter.count / count:.2f} queries per invoice")  # fmt: skip


def _usage_app_ready() -> bool:
    try:
        from usage import selectors  # noqa: F401
    except ImportError:
        return False
    return True


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


def bench_http(db_name: str) -> None:
    from django.db import connection as conn

    from invoicing.models import Invoice
    from subscriptions.services.tokens import api_token_create, staff_user_get_or_create

    # keep 1,000 invoices
    keep = list(Invoice.objects.order_by("number").values_list("pk", flat=True)[:1000])
    Invoice.objects.exclude(pk__in=keep).delete()
    token = api_token_create(
        role="staff", user=staff_user_get_or_create(username="bench"), now=datetime.now(UTC)
    )[1]
    settings.DEBUG = True
    from django.test import Client

    reset_queries()
    with CaptureQueriesContext(conn) as queries:
        Client().get("/api/v1/billing/invoices", HTTP_AUTHORIZATION=f"Bearer {token}")
    settings.DEBUG = False
    print(f"GET invoices: {len(queries)} queries per page (50 invoices)")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": conftest._database_url(db, db_name),
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.test",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:8765",
         "billing_project.wsgi:application", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        time.sleep(3)
        out = subprocess.run(
            ["ab", "-n", "500", "-c", "10", "-H", f"Authorization: Bearer {token}",
             "http://127.0.0.1:8765/api/v1/billing/invoices"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        for line in out.splitlines():
            if line.startswith(("Requests per second", "Failed requests", "Non-2xx")):
                print("  " + line.strip())
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    name = scratch_database()
    try:
        bench_cycle(args.tenants)
        bench_pdf()
        if not args.skip_http:
            bench_http(name)
    finally:
        for alias in connections:
            connections[alias].close()
        with conftest._admin_connection(settings.DATABASES["default"]) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
