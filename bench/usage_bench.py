"""Usage metering benchmark: COPY anchor, POST usage/batch, POST usage vs a bare DRF insert,
GET usage/current with few and with many (default 10 million) events.

    .venv/bin/python bench/usage_bench.py [--events-big 10000000] [--duration 10]

Needs PostgreSQL on 127.0.0.1 (DATABASE_URL's server; default root@127.0.0.1:5432). Creates the
database `lvb_bench_usage` (cloned from a migrated test template when one exists, else migrated),
starts 2 gunicorn workers on 127.0.0.1 with bench/settings.py (production settings, DEBUG off,
plus the bare view) and prints the figures.
"""

import argparse
import asyncio
import hashlib
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = os.environ.get("BENCH_DB", "lvb_bench_usage")
PG = os.environ.get("BENCH_PG", "postgres://root@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE_URL = f"http://127.0.0.1:{PORT}/api/v1/billing/"
METRICS = ["api_calls", "storage_gb", "ai_requests", "active_users", "concurrent_sessions"]


def log(*args):
    print(*args, flush=True)


# --- database -------------------------------------------------------------------------------


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")) + sorted(
        ROOT.glob("billing_project/*/migrations/*.py")
    ):
        digest.update(path.read_bytes())
    digest.update((ROOT / "requirements.txt").read_bytes())
    return digest.hexdigest()[:12]


def create_database() -> str:
    url = f"{PG}/{DB}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        template = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s LIMIT 1",
            [f"%_tmpl_{_migrations_hash()}"],
        ).fetchone()
        if template:
            log(f"database {DB}: cloned from template {template[0]}")
            conn.execute(f'CREATE DATABASE "{DB}" TEMPLATE "{template[0]}"')
            return url
        conn.execute(f'CREATE DATABASE "{DB}"')
    log(f"database {DB}: migrating (no template found)")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    env.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 40)
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--no-input"], check=True, env=env, cwd=ROOT
    )
    return url


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()


def make_tenants(n: int, *, with_subscription: bool, now: datetime):
    """n tenants with a tenant_admin token each (and a live subscription on `team`)."""
    from subscriptions.models import Plan, Subscription, Tenant
    from subscriptions.services.tokens import api_token_create

    plan = Plan.objects.get(slug="team")
    # Periods start at HH:23:45.5: a first partial hour of 36 minutes (the adversarial case).
    start = (now - timedelta(days=20, hours=8)).replace(minute=23, second=45, microsecond=500_000)
    tenants = Tenant.objects.bulk_create(
        [
            Tenant(
                name=f"Bench {i}",
                email=f"b{i}@bench.example",
                country="US",
                state="CA",
                created_at=now,
                updated_at=now,
            )
            for i in range(n)
        ]
    )
    if with_subscription:
        Subscription.objects.bulk_create(
            [
                Subscription(
                    tenant=t,
                    plan=plan,
                    status="active",
                    started_at=start,
                    current_period_start=start,
                    current_period_end=start + timedelta(days=30),
                    created_at=start,
                    updated_at=start,
                )
                for t in tenants
            ]
        )
    tokens = [api_token_create(role="tenant_admin", tenant=t, now=now)[1] for t in tenants]
    return tenants, tokens, start


# --- server -----------------------------------------------------------------------------------


def start_server(url: str, *, recipe: bool = False):
    """gunicorn on PORT: 2 sync workers, or with `recipe` the production recipe
    (`gunicorn -c gunicorn.conf.py`: WEB_CONCURRENCY workers, default 2 x cores + 1)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if recipe:
        env.update(GUNICORN_BIND=f"127.0.0.1:{PORT}", GUNICORN_ACCESS_LOG="")
        env.setdefault("GUNICORN_LOG_LEVEL", "warning")
        command = [str(gunicorn), "-c", "gunicorn.conf.py"]
    else:
        command = [str(gunicorn), "billing_project.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}"]
        command += ["--log-level", "warning", "--backlog", "2048"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    import urllib.request

    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("gunicorn did not start")


def stop_server(proc) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


# --- load generator -------------------------------------------------------------------------


async def _load(
    method, path, make_request, *, concurrency, duration=None, total=None, ok=(200, 201)
):
    """`duration` seconds of load, or exactly `total` requests (`ab -n total -c concurrency`)."""
    import aiohttp

    latencies, errors = [], 0
    deadline = time.perf_counter() + (duration if duration is not None else 3600)
    remaining = [total if total is not None else float("inf")]
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(n):
            nonlocal errors
            i = 0
            while time.perf_counter() < deadline and remaining[0] > 0:
                remaining[0] -= 1
                body, headers = make_request(n, i)
                i += 1
                started = time.perf_counter()
                url = BASE_URL + path
                async with session.request(method, url, data=body, headers=headers) as r:
                    await r.read()
                    if r.status not in ok:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "latencies": latencies,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "elapsed": elapsed,
    }


def load(*args, **kwargs):
    return asyncio.run(_load(*args, **kwargs))


def _json_headers(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


# --- scenarios ------------------------------------------------------------------------------


def batch_records(n_requests: int, per_request: int, now: datetime, dup_rate=0.05):
    """Request bodies of `per_request` records with unique keys, `dup_rate` of them repeating
    a key the same tenant already sent (or, in its first request, one earlier in the batch)."""
    import orjson

    rng = random.Random(1)
    bodies, history = [], []
    for r in range(n_requests):
        keys = [f"b{r}-{i}" for i in range(per_request)]
        n_dup = int(per_request * dup_rate)
        # Request r goes to tenant r % 10: repeat keys that tenant sent 10 requests earlier.
        source = history[r - 10] if r >= 10 else keys[: per_request // 2]
        for j in range(n_dup):
            keys[per_request - 1 - j] = source[j % len(source)]
        records = [
            {
                "metric_type": METRICS[i % 5],
                "quantity": rng.randint(1, 5000) / 100,
                "timestamp": (now - timedelta(seconds=rng.randint(0, 86_000))).isoformat(),
                "idempotency_key": key,
            }
            for i, key in enumerate(keys)
        ]
        history.append(keys[: per_request // 2])
        bodies.append(orjson.dumps({"records": records}))
    return bodies


def copy_rows(bodies, tenant_ids, metric_ids):
    import orjson

    rows = []
    for n, body in enumerate(bodies):
        tenant_id = tenant_ids[n % len(tenant_ids)]
        for rec in orjson.loads(body)["records"]:
            rows.append(
                (
                    uuid.uuid4(),
                    tenant_id,
                    metric_ids[rec["metric_type"]],
                    Decimal(repr(rec["quantity"])),
                    datetime.fromisoformat(rec["timestamp"]),
                    f"{n}:{len(rows)}",
                    None,
                    datetime.now(UTC),
                )
            )
    return rows


def bench_copy(url, rows) -> float:
    cols = "id, tenant_id, metric_id, quantity, timestamp, idempotency_key, unique_key, received_at"
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_event")
        conn.execute("CREATE TABLE bench_copy_event (LIKE usage_event INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bench_copy_event ({cols}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy_event")
        conn.commit()
    return len(rows) / elapsed


def unique_batches(n_requests: int, per_request: int, now: datetime, prefix: str = "u"):
    """Request bodies of `per_request` records with unique keys (`prefix`), the 5 metrics in
    turn, timestamps over the last day."""
    import orjson

    rng = random.Random(2)
    return [
        orjson.dumps(
            {
                "records": [
                    {
                        "metric_type": METRICS[i % 5],
                        "quantity": rng.randint(1, 5000) / 100,
                        "timestamp": (now - timedelta(seconds=rng.randint(0, 86_000))).isoformat(),
                        "idempotency_key": f"{prefix}{r}-{i}",
                    }
                    for i in range(per_request)
                ]
            }
        )
        for r in range(n_requests)
    ]


def bench_batch(bodies, tokens, concurrency=2):
    # Exactly one pass over the bodies: each worker takes its share.
    async def run():
        import aiohttp

        latencies, accepted = [], 0
        async with aiohttp.ClientSession() as session:

            async def worker(n):
                nonlocal accepted
                for k in range(n, len(bodies), concurrency):
                    started = time.perf_counter()
                    async with session.post(
                        BASE_URL + "usage/batch",
                        data=bodies[k],
                        headers=_json_headers(tokens[k % len(tokens)]),
                    ) as r:
                        result = await r.json()
                        assert r.status in (200, 201), result
                        accepted += result["accepted"]
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(worker(n) for n in range(concurrency)))
            return time.perf_counter() - started, accepted, latencies

    return asyncio.run(run())


def single_body(n, i, tokens):
    import orjson

    token = tokens[(n * 7 + i) % 10]
    body = orjson.dumps({"metric_type": METRICS[i % 5], "quantity": 1.5})
    return body, _json_headers(token)


def load_big(url, n_events, tenant_ids, metric_ids, start, now, keep_events=False):
    """COPY n_events straight into usage_event (`keep_events`: added to those there), then
    build the hourly rollups with one INSERT ... SELECT and the daily ones from them; VACUUM
    ANALYZE the usage tables."""
    metric_list = list(metric_ids.values())
    span = int((now - start).total_seconds()) - 60
    rng = random.Random(7)
    cols = "id, tenant_id, metric_id, quantity, timestamp, received_at"
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "TRUNCATE usage_hourly, usage_daily, usage_hourly_unique"
                if keep_events
                else "TRUNCATE usage_event, usage_hourly, usage_daily, usage_hourly_unique"
            )
            with cur.copy(f"COPY usage_event ({cols}) FROM STDIN") as cp:
                for i in range(n_events):
                    cp.write_row(
                        (
                            uuid.uuid4(),
                            tenant_ids[i % len(tenant_ids)],
                            metric_list[(i // len(tenant_ids)) % 5],
                            rng.randint(1, 1000),
                            start + timedelta(seconds=rng.randint(0, span)),
                            now,
                        )
                    )
        conn.commit()
        copied = time.perf_counter() - started
        conn.execute(
            """INSERT INTO usage_hourly (tenant_id, metric_id, hour, sum_value, max_value,
                 event_count, latest_at, latest_value)
               SELECT tenant_id, metric_id, date_trunc('hour', timestamp, 'UTC'), sum(quantity),
                 max(quantity), count(*), max(timestamp),
                 (array_agg(quantity ORDER BY timestamp DESC, quantity DESC))[1]
               FROM usage_event GROUP BY 1, 2, 3"""
        )
        conn.execute(
            """INSERT INTO usage_daily (tenant_id, metric_id, day, sum_value, max_value,
                 event_count, latest_at, latest_value)
               SELECT tenant_id, metric_id, date_trunc('day', hour, 'UTC'), sum(sum_value),
                 max(max_value), sum(event_count), max(latest_at),
                 (array_agg(latest_value ORDER BY latest_at DESC, latest_value DESC))[1]
               FROM usage_hourly GROUP BY 1, 2, 3"""
        )
        conn.commit()
        # Steady state: visibility map set and statistics fresh, so that autovacuum does not
        # race the measurement (index-only scans need the visibility map).
        conn.autocommit = True
        for table in ("usage_event", "usage_hourly", "usage_daily", "usage_hourly_unique"):
            conn.execute(f"VACUUM ANALYZE {table}")
        rollups = conn.execute("SELECT count(*) FROM usage_hourly").fetchone()[0]
    return copied, time.perf_counter() - started, rollups


def load_edge(url, per_tenant, tenant_ids, metric_ids, start, now):
    """`per_tenant` events for each tenant in the first partial hour of its period
    [start, next hour), plus 100 spread over the period; then the rollups rebuilt from the
    events (as `load_big`) and the usage tables vacuumed."""
    metric_list = list(metric_ids.values())
    first_hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    edge_us = int((first_hour - start).total_seconds() * 1_000_000)
    span = int((now - start).total_seconds()) - 60
    rng = random.Random(11)
    cols = "id, tenant_id, metric_id, quantity, timestamp, received_at"
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute("TRUNCATE usage_event, usage_hourly, usage_daily, usage_hourly_unique")
            for table in ("usage_boundary", "usage_edge", "usage_edge_unique"):  # since issue 10
                if cur.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]:
                    cur.execute(f"TRUNCATE {table}")
            with cur.copy(f"COPY usage_event ({cols}) FROM STDIN") as cp:
                for tenant_id in tenant_ids:
                    for i in range(per_tenant + 100):
                        if i < per_tenant:
                            ts = start + timedelta(microseconds=rng.randint(0, edge_us - 1))
                        else:
                            ts = start + timedelta(seconds=rng.randint(0, span))
                        cp.write_row(
                            (uuid.uuid4(), tenant_id, metric_list[i % 5], rng.randint(1, 1000),
                             ts, now)
                        )  # fmt: skip
        conn.commit()
    # The rollups exactly as ingestion would have kept them.
    return load_big(url, 0, tenant_ids, metric_ids, start, now, keep_events=True)


def scenario_ingest(url, tokens, tenant_ids, metric_ids, now, n_requests, rounds, chunks=5):
    """Issue 10: 4 clients, 1,000 events a request, 20 tenants, 5 metrics, unique keys, against
    COPY of the same rows into a copy of usage_event (same unique key and indexes). The two
    alternate in `chunks` slices per round, so that a burst of load on the shared machine
    falls on both."""
    ratios = []
    cols = "id, tenant_id, metric_id, quantity, timestamp, idempotency_key, unique_key, received_at"
    copy_sql = f"COPY bench_copy_event ({cols}) FROM STDIN"
    for round_ in range(rounds):
        bodies = unique_batches(n_requests, 1000, now, prefix=f"r{round_}-")
        rows = copy_rows(bodies, tenant_ids[:20], metric_ids)
        copy_s = batch_s = 0.0
        latencies, accepted = [], 0
        step = max(1, n_requests // chunks)
        with psycopg.connect(url) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_copy_event")
            conn.execute("CREATE TABLE bench_copy_event (LIKE usage_event INCLUDING ALL)")
            conn.commit()
            for first in range(0, n_requests, step):
                started = time.perf_counter()
                with conn.cursor() as cur, cur.copy(copy_sql) as cp:
                    for row in rows[first * 1000 : (first + step) * 1000]:
                        cp.write_row(row)
                conn.commit()
                copy_s += time.perf_counter() - started
                # Request k goes to tenant k % 20 (the slice starts at a multiple of 20 or not:
                # the tokens follow the bodies' own positions).
                part = bodies[first : first + step]
                part_tokens = [tokens[(first + k) % 20] for k in range(len(part))]
                elapsed, stored, lat = bench_batch(part, part_tokens, concurrency=4)
                batch_s += elapsed
                accepted += stored
                latencies += lat
            conn.execute("DROP TABLE bench_copy_event")
            conn.commit()
        copy_rate, rate = len(rows) / copy_s, len(rows) / batch_s
        ratios.append(rate / copy_rate)
        log(
            f"[ingest 4x20] round {round_ + 1}: COPY {copy_rate:,.0f} events/s; POST usage/batch "
            f"(4 clients, 20 tenants, {accepted:,} stored) {rate:,.0f} events/s = "
            f"{rate / copy_rate:.2f}x COPY, p50 {statistics.median(latencies) * 1000:.0f} ms"
        )
    log(f"[ingest 4x20] batch/COPY ratios {', '.join(f'{r:.2f}' for r in ratios)}")
    return ratios


def _sliced(path, make_request, *, concurrency, slice_total):
    """One slice of `slice_total` requests: elapsed seconds, latencies, errors."""
    r = load("GET", path, make_request, concurrency=concurrency, total=slice_total, ok=(200,))
    return r["elapsed"], r["latencies"], r["errors"]


def scenario_edge(url, tokens, tenant_ids, metric_ids, start, now, per_tenant, rounds, c,
                  chunks=5):  # fmt: skip
    """Issue 10: `per_tenant` events per tenant in the first partial hour of the period,
    `GET usage/current` against the bare aggregate view, 1,000 requests each at 50
    connections per round, in `chunks` alternating slices (as the ingest scenario: a burst of
    the shared machine's load falls on both)."""
    load_edge(url, per_tenant, tenant_ids[:50], metric_ids, start, now)

    def current(n, i):
        return None, {"Authorization": f"Bearer {tokens[(n * 31 + i) % 50]}"}

    for path in ("bench/bare-aggregate", "usage/current"):
        load("GET", path, current, concurrency=c, total=200, ok=(200,))  # warm-up
    ratios = []
    for round_ in range(rounds):
        runs = {"bench/bare-aggregate": [0.0, [], 0], "usage/current": [0.0, [], 0]}
        for _ in range(chunks):
            for path, acc in runs.items():
                elapsed, latencies, errors = _sliced(
                    path, current, concurrency=c, slice_total=1000 // chunks
                )
                acc[0] += elapsed
                acc[1] += latencies
                acc[2] += errors
        bare, cur = (
            {
                "rps": len(lat) / elapsed,
                "p50_ms": statistics.median(lat) * 1000,
                "p99_ms": sorted(lat)[int(len(lat) * 0.99) - 1] * 1000,
                "errors": errors,
            }
            for elapsed, lat, errors in runs.values()
        )
        ratios.append(cur["rps"] / bare["rps"])
        log(
            f"[edge {per_tenant:,}/tenant] round {round_ + 1}: bare aggregate {bare['rps']:,.0f} "
            f"req/s p99 {bare['p99_ms']:.0f} ms; usage/current {cur['rps']:,.0f} req/s "
            f"p50 {cur['p50_ms']:.0f} ms p99 {cur['p99_ms']:.0f} ms errors {cur['errors']} -> "
            f"{ratios[-1]:.2f}x"
        )
    listed = ", ".join(f"{r:.2f}" for r in ratios)
    log(f"[edge {per_tenant:,}/tenant] usage/current / bare ratios {listed}")
    return ratios


def classic(args, url, tokens, tenant_ids, metric_ids, start, now):
    """The scenarios of the earlier issues: COPY anchor and batch (2 clients), POST usage
    against the bare insert, GET usage/current with 1,000 and --events-big events."""
    from usage.models import UsageEvent

    results = {}
    # 1. COPY anchor and 2. POST usage/batch: the same rows.
    bodies = batch_records(args.batch_requests, 1000, now)
    rows = copy_rows(bodies, tenant_ids[:10], metric_ids)
    copy_rate = bench_copy(url, rows)
    results["copy_eps"] = copy_rate
    log(f"COPY into a copy of usage_event: {len(rows):,} rows, {copy_rate:,.0f} events/s")

    bench_batch(bodies[:4], tokens[500:510])  # warm-up (other tenants)
    elapsed, accepted, latencies = bench_batch(bodies, tokens[:10])
    received = len(bodies) * 1000
    batch_rate = received / elapsed
    results["batch_eps"] = batch_rate
    log(
        f"POST usage/batch (1,000 records, 5 % duplicates, 2 clients): {received:,} records "
        f"({accepted:,} stored) in {elapsed:.2f}s = {batch_rate:,.0f} events/s, "
        f"{batch_rate / copy_rate:.2f}x COPY, p50 {statistics.median(latencies) * 1000:.0f} ms"
    )

    # 3. POST usage vs the bare DRF insert, 50 connections.
    def bare(n, i):
        return single_body(n, i, tokens)

    load("POST", "bench/bare-insert", bare, concurrency=args.concurrency, duration=2)
    load("POST", "usage", bare, concurrency=args.concurrency, duration=2)
    bare_r = load(
        "POST", "bench/bare-insert", bare, concurrency=args.concurrency, duration=args.duration
    )
    usage_r = load("POST", "usage", bare, concurrency=args.concurrency, duration=args.duration)
    log(
        f"bare DRF insert, {args.concurrency} connections: {bare_r['rps']:,.0f} req/s, "
        f"p50 {bare_r['p50_ms']:.1f} ms, p99 {bare_r['p99_ms']:.1f} ms, "
        f"errors {bare_r['errors']}"
    )
    log(
        f"POST usage,      {args.concurrency} connections: {usage_r['rps']:,.0f} req/s, "
        f"p50 {usage_r['p50_ms']:.1f} ms, p99 {usage_r['p99_ms']:.1f} ms, errors "
        f"{usage_r['errors']}  -> {usage_r['rps'] / bare_r['rps']:.2f}x throughput, "
        f"{usage_r['p99_ms'] / bare_r['p99_ms']:.2f}x p99"
    )

    # 4. GET usage/current: 1,000 events, then args.events_big events.
    def current(n, i):
        return None, {"Authorization": f"Bearer {tokens[(n * 31 + i) % 50]}"}

    def measure():
        load("GET", "usage/current", current, concurrency=args.concurrency, duration=2)
        return load(
            "GET",
            "usage/current",
            current,
            concurrency=args.concurrency,
            duration=args.duration,
            ok=(200,),
        )

    _, _, small_rollups = load_big(url, 1000, tenant_ids, metric_ids, start, now)
    small = measure()
    log(
        f"GET usage/current, 1,000 events ({small_rollups:,} rollup rows): "
        f"{small['rps']:,.0f} req/s, p50 {small['p50_ms']:.1f} ms, "
        f"p99 {small['p99_ms']:.1f} ms, errors {small['errors']}"
    )
    big_copy, big_total, big_rollups = load_big(
        url, args.events_big, tenant_ids, metric_ids, start, now
    )
    count = UsageEvent.objects.count()
    log(
        f"loaded {count:,} events with COPY in {big_copy:.0f}s ({count / big_copy:,.0f}/s), "
        f"{big_rollups:,} rollup rows, total {big_total:.0f}s"
    )
    big = measure()
    log(
        f"GET usage/current, {count:,} events: {big['rps']:,.0f} req/s, "
        f"p50 {big['p50_ms']:.1f} ms, p99 {big['p99_ms']:.1f} ms, errors {big['errors']}  -> "
        f"{big['rps'] / small['rps']:.2f}x the throughput with 1,000 events"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events-big", type=int, default=10_000_000)
    parser.add_argument("--batch-requests", type=int, default=200)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--scenarios",
        default="classic,ingest,edge",
        help="comma list: classic (COPY/batch/single/current/big), ingest (4 clients x 20 "
        "tenants), edge (10,000 events in the first partial hour)",
    )
    parser.add_argument("--ingest-requests", type=int, default=200)
    parser.add_argument("--edge-events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    scenarios = set(args.scenarios.split(","))

    url = create_database()
    setup_django(url)
    from subscriptions.models import Metric

    now = datetime.now(UTC)
    metrics = Metric.objects.filter(metric_type__in=METRICS)
    metric_ids = dict(metrics.values_list("metric_type", "id"))
    tenants, tokens, start = make_tenants(1000, with_subscription=True, now=now)
    tenant_ids = [t.id for t in tenants]
    with psycopg.connect(url) as conn:
        from bench.bare_app import BARE_TABLE_DDL

        conn.execute(BARE_TABLE_DDL)
    server = start_server(url)
    try:
        bench_batch(unique_batches(4, 1000, now, "w"), tokens[500:504])  # warm-up (other tenants)
        if "ingest" in scenarios:
            scenario_ingest(url, tokens, tenant_ids, metric_ids, now, args.ingest_requests,
                            args.rounds)  # fmt: skip
        if "edge" in scenarios:
            scenario_edge(url, tokens, tenant_ids, metric_ids, start, now, args.edge_events,
                          args.rounds, args.concurrency)  # fmt: skip
        if "classic" in scenarios:
            classic(args, url, tokens, tenant_ids, metric_ids, start, now)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
