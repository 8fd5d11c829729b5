"""Renders docs/example-invoice.pdf: a demo month billed end to end on a scratch database.

    .venv/bin/python scripts/example_invoice.py

The scratch database is a new one on DATABASE_URL's server when it is set (dropped afterwards),
else a throwaway embedded PostgreSQL in a temporary folder.

A Developer subscription from 2026-01-01 (PO number on the tenant's invoices), an upgrade to
Team on 2026-01-22 with proration, January usage over the limits, then the billing cycle as of
2026-02-01: the February invoice (Team fee in advance, January overages in arrears) and the
proration invoice are written under docs/.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from billing_project import localdb  # noqa: E402


def scratch_database(scratch: Path) -> tuple[str, object]:
    """A URL to an empty database, and how to get rid of it."""
    server = os.environ.get("DATABASE_URL")
    if not server:
        scratch.chmod(0o711)  # as root, PostgreSQL runs as another user that must reach it
        url = localdb.start(scratch / "pg").url
        return url, lambda: localdb.stop(scratch / "pg")
    parts = urlsplit(server)
    name = f"lvb_example_{os.getpid()}"
    url = parts._replace(path=f"/{name}").geturl()
    localdb.ensure_database(url)

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        params = localdb._connect_params(url)
        params.pop("dbname")
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="lvb-example-"))
    url, dispose = scratch_database(scratch)
    try:
        render(scratch, url)
    finally:
        dispose()
        shutil.rmtree(scratch, ignore_errors=True)


def render(scratch: Path, url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="billing_project.settings.local",
        DATABASE_URL=url,
        MEDIA_ROOT=str(scratch / "media"),
        EMAIL_URL="dummymail://",
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("STRIPE_SECRET_KEY", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)

    import django

    django.setup()
    from datetime import UTC, datetime
    from io import StringIO

    from django.core.management import call_command

    from invoicing.models import Invoice
    from invoicing.services.documents import invoice_pdf_bytes
    from invoicing.services.subscription_billing import (
        subscription_change_plan_and_invoice,
        subscription_start_and_invoice,
    )
    from subscriptions.models import Plan
    from subscriptions.services.tenants import tenant_create
    from usage.services import usage_batch_record

    jan1 = datetime(2026, 1, 1, tzinfo=UTC)
    tenant = tenant_create(
        name="Northwind Analytics GmbH",
        email="ap@northwind.example",
        country="DE",
        state="BE",
        postal_code="10115",
        address_line1="Invalidenstrasse 117",
        city="Berlin",
        vat_id="DE136695976",
        payment_terms="net_30",
        now=jan1,
    )
    sub, _ = subscription_start_and_invoice(
        tenant=tenant, plan=Plan.objects.get(slug="developer"), now=jan1, actor="example"
    )
    _, _, proration = subscription_change_plan_and_invoice(
        subscription=sub,
        plan=Plan.objects.get(slug="team"),
        prorate=True,
        now=datetime(2026, 1, 22, tzinfo=UTC),
        actor="example",
    )
    from usage.catalog import metric_catalog

    records = [
        {"metric_type": "api_calls", "quantity": 130000, "timestamp": "2026-01-20T12:00:00Z"},
        {"metric_type": "storage_gb", "quantity": 112, "timestamp": "2026-01-25T12:00:00Z"},
        {"metric_type": "ai_requests", "quantity": 5200, "timestamp": "2026-01-28T12:00:00Z"},
    ]
    usage_batch_record(
        tenant_id=tenant.pk,
        records=records,
        catalog=metric_catalog(),
        now=datetime(2026, 1, 31, tzinfo=UTC),
    )
    call_command("run_billing_cycle", "--now", "2026-02-01T00:00:00Z", stdout=StringIO())
    february = Invoice.objects.get(tenant=tenant, period_start=datetime(2026, 2, 1, tzinfo=UTC))
    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    (out / "example-invoice.pdf").write_bytes(invoice_pdf_bytes(february))
    (out / "example-proration-invoice.pdf").write_bytes(invoice_pdf_bytes(proration))
    print(f"docs/example-invoice.pdf: {february.number}, total {february.total}")
    print(f"docs/example-proration-invoice.pdf: {proration.number}, total {proration.total}")


if __name__ == "__main__":
    main()
