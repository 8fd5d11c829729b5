"""Load benchmark (issue 17 part 4): the guide's `ab -n 1000 -c 50` on `GET usage/current` beside
the bare aggregate view (same DRF stack, one indexed read) in the same run, then a mixed load
driven by locust (80 % `POST usage`, 15 % `GET usage/current`, 5 % `GET invoices`) reporting
throughput and errors; afterwards the stored event count must equal the accepted count exactly.

    .venv/bin/python bench/load_bench.py [--duration 60] [--users 50] [--tenants 200]

Needs PostgreSQL on 127.0.0.1 and ApacheBench (`ab`, from apache2-utils: `make bench` installs
it). Uses the database `lvb_bench_load` and port 8768 (BENCH_DB, BENCH_PORT), gunicorn with 2
workers and bench/settings.py (production settings, DEBUG off).
"""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DB", "lvb_bench_load")
os.environ.setdefault("BENCH_PORT", "8768")

from bench import usage_bench as common

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
AB_FIGURES = {
    "rps": r"Requests per second:\s+([\d.]+)",
    "failed": r"Failed requests:\s+(\d+)",
    "non_2xx": r"Non-2xx responses:\s+(\d+)",
    "p50_ms": r"^\s+50%\s+(\d+)",
    "p99_ms": r"^\s+99%\s+(\d+)",
}


def ab(path: str, token: str, *, requests: int, concurrency: int) -> dict:
    url = common.BASE_URL + path
    auth = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(
        ["ab", "-q", "-k", "-n", str(requests), "-c", str(concurrency), *auth, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = {}
    for key, pattern in AB_FIGURES.items():
        match = re.search(pattern, out, re.MULTILINE)
        figures[key] = float(match.group(1)) if match else 0.0
    return figures


def make_invoices(tenants, now: datetime) -> None:
    """One finalized custom invoice per tenant, so `GET invoices` reads real rows."""
    from decimal import Decimal

    from invoicing.services.custom import CustomLine, invoice_custom_create
    from invoicing.services.lifecycle import invoice_finalize

    line = CustomLine(
        description="Onboarding", quantity=Decimal(1), unit_price=Decimal(5000), total=5000
    )
    for tenant in tenants:
        invoice = invoice_custom_create(tenant_id=tenant.id, data={"line_items": [line]}, now=now)
        invoice_finalize(invoice_id=invoice.id, now=now, deliver=False)


def locust(tokens, *, users: int, duration: int) -> dict:
    """Runs locust headless; returns {name: (requests, failures)} and the aggregated figures."""
    workdir = Path(tempfile.mkdtemp(prefix="lvb-locust-"))
    try:
        (workdir / "tokens.json").write_text(json.dumps(tokens))
        accepted_file = workdir / "accepted.txt"
        env = {
            **os.environ,
            "LVB_TOKENS": str(workdir / "tokens.json"),
            "LVB_ACCEPTED": str(accepted_file),
        }
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--only-summary",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{duration}s",
                "--stop-timeout",
                "10",
                "--host",
                f"http://127.0.0.1:{common.PORT}",
                "--csv",
                str(workdir / "run"),
                "--loglevel",
                "ERROR",
            ],
            check=False,
            env=env,
            capture_output=True,
            text=True,
        )
        rows = {}
        with open(workdir / "run_stats.csv") as stats:
            for row in csv.DictReader(stats):
                rows[row["Name"]] = row
        keys = accepted_file.read_text().split()
        return rows, keys
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--ab-requests", type=int, default=1000)
    parser.add_argument("--ab-concurrency", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("ab"):
        sys.exit("ab (ApacheBench) is missing: `make bench` installs apache2-utils")
    now = datetime.now(UTC)
    url = common.create_database()
    common.setup_django(url)
    from django.db import connection

    tenants, tokens, _ = common.make_tenants(args.tenants, with_subscription=True, now=now)
    make_invoices(tenants, now)
    connection.close()
    server = common.start_server(url)
    try:
        ab("usage/current", tokens[0], requests=100, concurrency=10)  # warm-up
        bare = ab(
            "bench/bare-aggregate",
            tokens[0],
            requests=args.ab_requests,
            concurrency=args.ab_concurrency,
        )
        current = ab(
            "usage/current", tokens[0], requests=args.ab_requests, concurrency=args.ab_concurrency
        )
        with psycopg.connect(url) as conn:
            before = conn.execute("SELECT count(*) FROM usage_event").fetchone()[0]
        mixed, keys = locust(tokens, users=args.users, duration=args.duration)
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM usage_event").fetchone()[0] - before
            stored_of_accepted = conn.execute(
                "SELECT count(*) FROM usage_event WHERE idempotency_key = ANY(%s)", [keys]
            ).fetchone()[0]
    finally:
        common.stop_server(server)

    n = args.ab_requests
    print(f"ab -n {n} -c {args.ab_concurrency} (keep-alive), gunicorn -w 2, {args.tenants} tenants")
    for name, f in (("GET bench/bare-aggregate", bare), ("GET usage/current", current)):
        print(
            f"  {name:26s} {f['rps']:7.0f} req/s  p50 {f['p50_ms']:4.0f} ms  "
            f"p99 {f['p99_ms']:4.0f} ms  failed {f['failed']:.0f}  non-2xx {f['non_2xx']:.0f}"
        )
    verdict = "met" if current["p99_ms"] < 100 and not current["failed"] else "MISSED"
    print(
        f"  usage/current p99 {current['p99_ms']:.0f} ms, target < 100 ms with 0 failures: "
        f"{verdict}; {current['rps'] / bare['rps']:.2f}x the bare view's throughput"
    )
    total = mixed["Aggregated"]
    mix = "80 % POST usage, 15 % usage/current, 5 % invoices"
    print(f"locust {args.users} users, {args.duration} s: {mix}")
    for name in ("POST usage", "GET usage/current", "GET invoices", "Aggregated"):
        row = mixed.get(name)
        if row is None:
            continue
        print(
            f"  {name:20s} {int(row['Request Count']):7d} requests  "
            f"{float(row['Requests/s']):7.1f} req/s  failures {int(row['Failure Count'])}  "
            f"p50 {float(row['50%']):5.0f} ms  p99 {float(row['99%']):5.0f} ms"
        )
    accepted = len(keys)
    check = "equal" if accepted == stored == stored_of_accepted else "DIFFERENT"
    print(
        f"  usage events accepted (201) {accepted}, stored {stored}, of them with an accepted"
        f" key {stored_of_accepted}: {check}"
    )
    print(f"  errors in all {int(total['Failure Count'])}")
    if check != "equal":
        sys.exit(1)


if __name__ == "__main__":
    main()
