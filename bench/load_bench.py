"""Load benchmark (issue 17 part 4): the guide's `ab -n 1000 -c 50` on `GET usage/current` beside
the bare aggregate view (same DRF stack, one indexed read) in the same run, then a mixed load
driven by locust (80 % `POST usage`, 15 % `GET usage/current`, 5 % `GET invoices`) reporting
throughput and errors; afterwards the stored event count must equal the accepted count exactly.

    .venv/bin/python bench/load_bench.py [--duration 60] [--users 50] [--tenants 200]

Needs PostgreSQL on 127.0.0.1 and ApacheBench (`ab`, from apache2-utils: `make bench` installs
it). Uses the database `lvb_bench_load` and port 8768 (BENCH_DB, BENCH_PORT) and the production
recipe, `gunicorn -c gunicorn.conf.py` (WEB_CONCURRENCY workers, default 2 x cores + 1; access
log off) with bench/settings.py (production settings, DEBUG off, plus the bare view). `ab` runs
as the guide writes it (no -k) `--ab-rounds` times, alternating with the bare view; the medians
are the figures.
"""

import argparse
import csv
import json
import os
import re
import shutil
import statistics
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


def ab(path: str, token: str, *, requests: int, concurrency: int, keepalive: bool) -> dict:
    url = common.BASE_URL + path
    auth = ["-H", f"Authorization: Bearer {token}"]
    options = ["-k"] if keepalive else []
    out = subprocess.run(
        ["ab", "-q", *options, "-n", str(requests), "-c", str(concurrency), *auth, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = {}
    for key, pattern in AB_FIGURES.items():
        match = re.search(pattern, out, re.MULTILINE)
        figures[key] = float(match.group(1)) if match else 0.0
    return figures


def ab_line(f: dict) -> str:
    return (
        f"{f['rps']:7.0f} req/s  p50 {f['p50_ms']:4.0f} ms  p99 {f['p99_ms']:4.0f} ms"
        f"  failed {f['failed']:.0f}  non-2xx {f['non_2xx']:.0f}"
    )


def median_figures(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


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
    parser.add_argument("--ab-rounds", type=int, default=5)
    parser.add_argument(
        "--keepalive", action="store_true", help="ab -k (the guide's command has no -k)"
    )
    parser.add_argument(
        "--two-workers",
        action="store_true",
        help="gunicorn -w 2 as the other benches, instead of the production gunicorn.conf.py",
    )
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
    server = common.start_server(url, recipe=not args.two_workers)
    load = {"requests": args.ab_requests, "concurrency": args.ab_concurrency}
    try:
        ab("usage/current", tokens[0], requests=200, concurrency=10, keepalive=args.keepalive)
        rounds = []
        for _ in range(args.ab_rounds):
            bare = ab("bench/bare-aggregate", tokens[0], keepalive=args.keepalive, **load)
            current = ab("usage/current", tokens[0], keepalive=args.keepalive, **load)
            rounds.append((bare, current))
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

    server_kind = "gunicorn -w 2" if args.two_workers else "gunicorn -c gunicorn.conf.py"
    print(
        f"ab -n {args.ab_requests} -c {args.ab_concurrency}"
        f"{' -k' if args.keepalive else ''}, {server_kind}, {args.tenants} tenants,"
        f" {args.ab_rounds} rounds alternating the bare view and usage/current"
    )
    for number, pair in enumerate(rounds, 1):
        for name, f in zip(("GET bench/bare-aggregate", "GET usage/current"), pair, strict=True):
            print(f"  round {number} {name:26s} {ab_line(f)}")
    bare = median_figures([pair[0] for pair in rounds])
    current = median_figures([pair[1] for pair in rounds])
    print(f"  median   {'GET bench/bare-aggregate':26s} {ab_line(bare)}")
    print(f"  median   {'GET usage/current':26s} {ab_line(current)}")
    failed = sum(pair[1]["failed"] + pair[1]["non_2xx"] for pair in rounds)
    verdict = "met" if current["p99_ms"] < 100 and not failed else "MISSED"
    print(
        f"  usage/current median p99 {current['p99_ms']:.0f} ms, target < 100 ms with 0 failures"
        f" ({failed:.0f} in all rounds): {verdict}; {current['rps'] / bare['rps']:.2f}x the bare"
        " view's throughput"
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
