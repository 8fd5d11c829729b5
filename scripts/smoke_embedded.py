"""Smoke test of the embedded mode (`make run` defaults): SQLite, no Redis, no Stripe.

    .venv/bin/python scripts/smoke_embedded.py

Migrates a temporary SQLite file (the migrated file is cached under /tmp, keyed by a hash of the
migrations, so only the first run pays dj-stripe's ~40 s), then drives the API in-process with
Django's test client: plans, tenant, subscription, usage (single, idempotent repeat, batch),
current usage, invoices, a custom invoice, its finalisation and PDF. Prints one line per step;
exits non-zero at the first mismatch. `make test` runs it after pytest.
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
API = "/api/v1/billing/"


def migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")) + sorted(
        ROOT.glob("billing_project/*/migrations/*.py")
    ):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update((ROOT / "requirements.txt").read_bytes())
    return digest.hexdigest()[:16]


def step(name: str, ok: bool, detail="") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{f': {detail}' if detail else ''}", flush=True)
    if not ok:
        sys.exit(1)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lvb-smoke-"))
    db_file = workdir / "db.sqlite3"
    cached = Path(tempfile.gettempdir()) / f"lvb_embedded_{migrations_hash()}.sqlite3"
    hit = cached.exists()
    if hit:
        shutil.copyfile(cached, db_file)
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY"):
        os.environ.pop(name, None)
    os.environ["DATABASE_URL"] = f"sqlite:///{db_file}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "billing_project.settings.local"
    os.environ["EMAIL_URL"] = "memorymail://"
    import logging

    import django

    django.setup()
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools", "celery", "django.request"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    from django.core.management import call_command
    from django.db import connection, connections

    try:
        if not hit:
            call_command("migrate", verbosity=0, interactive=False)
            connections.close_all()
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(db_file, partial)
            partial.replace(cached)
        step("migrate", connection.vendor == "sqlite", f"{'cached' if hit else 'built'} {cached}")
        run()
    finally:
        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)


def run() -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.test import Client

    def command(*args) -> str:
        out = StringIO()
        call_command(*args, stdout=out)
        return out.getvalue().strip()

    staff_token = command("create_api_token", "--staff", "smoke-staff")
    seed_tenant = command("create_tenant", "--name", "Seed Co", "--email", "seed@example.com")
    step("create_api_token / create_tenant", bool(staff_token and seed_tenant), seed_tenant)

    client = Client()

    def call(method, path, token, body=None, expect=200):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        response = getattr(client, method)(API + path, **kwargs)
        if response.status_code != expect:
            step(f"{method.upper()} {path}", False, f"{response.status_code} {response.content!r}")
        return response

    plans = call("get", "plans", staff_token).json()
    plans = plans["results"] if isinstance(plans, dict) else plans
    developer = next((p for p in plans if p.get("slug") == "developer"), None)
    step("GET plans", developer is not None, f"{len(plans)} plans")

    tenant = call(
        "post",
        "tenants",
        staff_token,
        {"name": "Smoke Co", "email": "smoke@example.com", "country": "US", "state": "CA"},
        expect=201,
    ).json()
    step("POST tenants", bool(tenant.get("id")), tenant["id"])
    tenant_id = tenant["id"]

    subscription = call(
        "post",
        "subscriptions",
        staff_token,
        {"tenant_id": tenant_id, "plan_id": developer["id"]},
        expect=201,
    ).json()
    step("POST subscriptions", subscription.get("status") in ("active", "trialing"), "developer")

    def usage(body, expect):
        return call("post", "usage", staff_token, {"tenant_id": tenant_id, **body}, expect=expect)

    first = usage({"metric_type": "api_calls", "quantity": 15000, "idempotency_key": "s1"}, 201)
    usage({"metric_type": "storage_gb", "quantity": 12, "idempotency_key": "s2"}, 201)
    step("POST usage x2", first.json()["duplicate"] is False)
    again = usage({"metric_type": "api_calls", "quantity": 99, "idempotency_key": "s1"}, 200)
    data = again.json()
    step(
        "POST usage, same key",
        data["duplicate"] is True
        and data["id"] == first.json()["id"]
        and data["quantity"] == 15000,
        "200 duplicate",
    )

    batch = call(
        "post",
        "usage/batch",
        staff_token,
        {
            "tenant_id": tenant_id,
            "records": [
                {"metric_type": "api_calls", "quantity": 1000, "idempotency_key": "b1"},
                {"metric_type": "storage_gb", "quantity": "14.5", "idempotency_key": "b2"},
                {"metric_type": "api_calls", "quantity": 7, "idempotency_key": "s1"},
            ],
        },
        expect=201,
    ).json()
    step(
        "POST usage/batch",
        batch == {"received": 3, "accepted": 2, "duplicates": 1},
        json.dumps(batch),
    )

    current = call("get", f"usage/current?tenant_id={tenant_id}", staff_token).json()
    metrics = current["usage_metrics"]
    # developer: 10,000 api_calls at 1 cent over; 10 storage_gb (max) at 500 cents over.
    expected = {
        "api_calls": {"current": 16000, "limit": 10000, "overages": 6000, "unit_price_cents": 1},
        "storage_gb": {"current": 14.5, "limit": 10, "overages": 4.5, "unit_price_cents": 500},
    }
    got = {k: metrics.get(k) for k in expected}
    step("GET usage/current", got == expected, json.dumps(got))
    step(
        "projected_overage_cost",
        current["projected_overage_cost"] == 6000 + 2250,
        str(current["projected_overage_cost"]),
    )

    invoices = call("get", f"invoices?tenant_id={tenant_id}", staff_token).json()
    invoices = invoices["results"] if isinstance(invoices, dict) else invoices
    first_invoice = [
        i
        for i in invoices
        if i.get("kind") == "subscription" and i.get("subscription_id") == subscription["id"]
    ]
    step("GET invoices", len(first_invoice) == 1, f"{len(invoices)} invoice(s)")

    custom = call(
        "post",
        "invoices",
        staff_token,
        {
            "tenant_id": tenant_id,
            "billing_period": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-31T23:59:59Z"},
            "line_items": [
                {"description": "Setup", "quantity": 2, "unit_price": 2500, "total": 5000}
            ],
            "due_date": "2099-02-15T00:00:00Z",
        },
        expect=201,
    ).json()
    step("POST invoices (custom)", custom.get("status") == "draft", custom["id"])
    final = call("post", f"invoices/{custom['id']}/finalize", staff_token).json()
    step("POST invoices/{id}/finalize", final.get("status") == "open", final.get("number", ""))
    pdf = call("get", f"invoices/{custom['id']}/pdf", staff_token)
    step(
        "GET invoices/{id}/pdf",
        pdf["Content-Type"].startswith("application/pdf") and pdf.content[:5] == b"%PDF-",
        f"{len(pdf.content)} bytes",
    )
    period_end = subscription["current_period_end"]
    summary = command("run_billing_cycle", "--now", period_end)
    renewed = call("get", "invoices", staff_token).json()["results"]
    step(
        "run_billing_cycle at the period end",
        "1 invoices" in summary
        and "0 failures" in summary
        and any(i["period_start"] == period_end for i in renewed),
        summary.strip(),
    )
    print("embedded smoke test passed", flush=True)


if __name__ == "__main__":
    main()
