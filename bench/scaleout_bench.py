"""Scale-out benchmark (issue 17 part 6): the billing cycle fanned out as chunk tasks
(`billing_cycle_dispatch`) to 1 and then 2 Celery worker processes, invoices/s and the speed-up,
beside the inline cycle (`billing_cycle_run`, one process) over the same data in the same run.

    .venv/bin/python bench/scaleout_bench.py [--tenants 4000] [--chunk 100] [--workers 1 2]

Each measurement starts from a fresh scratch database cloned from the test template (DATABASE_URL
names the server), `--tenants` Developer subscriptions due on 2026-02-01 with 5 metrics of
January usage each (rollups), and a private redis-server on a free port as the broker; workers
are `celery worker --pool solo` processes (one process each). No PDFs or emails (deliver off).
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REDIS_PORT = free_port()
os.environ["TEST_REDIS_PORT"] = str(REDIS_PORT)
os.environ["TEST_REDIS_DB"] = "15"
sys.path.insert(0, str(ROOT))

from bench import invoicing_bench as ib  # noqa: E402  (sets Django up)
from bench.scratch import scratch_database  # noqa: E402

NOW = datetime(2026, 2, 1, tzinfo=UTC)
WORKER_ARGS = ["--pool", "solo", "-l", "info", "--without-heartbeat", "--without-gossip"]
WORKER_ARGS += ["--without-mingle"]
BASE_DB = ib.settings.DATABASES["default"]["NAME"]


def start_redis():
    workdir = tempfile.mkdtemp(prefix="lvb-scaleout-redis-")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def start_workers(count: int, db_name: str) -> list:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db_name}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/15",
    }
    workers, logs = [], []
    for n in range(count):
        log = Path(tempfile.mkstemp(prefix=f"lvb-scaleout-worker{n}-", suffix=".log")[1])
        logs.append(log)
        cmd = [sys.executable, "-m", "celery", "-A", "billing_project", "worker", *WORKER_ARGS]
        cmd += ["-n", f"bench{n}@%h", "--logfile", str(log)]
        workers.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not all(" ready." in p.read_text() for p in logs):
        time.sleep(0.2)
    return workers


def stop(procs) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def fresh(count: int) -> str:
    from django.conf import settings
    from django.db import connections

    # scratch_database() names the scratch copy after the current database: start from the same
    settings.DATABASES["default"]["NAME"] = BASE_DB
    connections["default"].settings_dict["NAME"] = BASE_DB
    name = scratch_database("invoicing")
    tenants = ib.seed(count)
    ib.seed_usage(tenants)
    return name


def inline(count: int) -> float:
    from invoicing.services.cycle import billing_cycle_run

    fresh(count)
    started = time.perf_counter()
    result = billing_cycle_run(now=NOW, deliver=False)
    elapsed = time.perf_counter() - started
    assert result.invoices == count, result.summary_line()
    return count / elapsed


def fanned_out(count: int, workers: int, chunk: int) -> float:
    from django.conf import settings

    from invoicing.models import Invoice
    from invoicing.services.cycle import billing_cycle_dispatch

    name = fresh(count)
    procs = start_workers(workers, name)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        started = time.perf_counter()
        chunks = billing_cycle_dispatch(now=NOW, chunk_size=chunk, deliver=False)
        assert chunks == -(-count // chunk)
        deadline = time.monotonic() + 1800
        while Invoice.objects.count() < count and time.monotonic() < deadline:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        settings.CELERY_TASK_ALWAYS_EAGER = True
        stop(procs)
    assert Invoice.objects.count() == count
    totals = set(Invoice.objects.values_list("total", flat=True).distinct())
    # fee 5,000 + overages 7,000, and California's tax on them (the seeded tenants are in CA)
    assert totals == {12992}, totals
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=4000)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    redis = start_redis()
    try:
        base = inline(args.tenants)
        print(f"scale-out: {args.tenants} due subscriptions, chunks of {args.chunk}, no PDFs")
        print(f"  inline billing_cycle_run (one process): {base:7.0f} invoices/s")
        rates = {}
        for workers in args.workers:
            rates[workers] = fanned_out(args.tenants, workers, args.chunk)
            print(
                f"  fanned out to {workers} worker process{'es' if workers > 1 else ''}:"
                f"     {rates[workers]:7.0f} invoices/s ({rates[workers] / base:.2f}x inline)"
            )
        if 1 in rates and 2 in rates:
            print(
                f"  speed-up 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x"
                " (2 cores, shared with PostgreSQL)"
            )
    finally:
        stop([redis])


if __name__ == "__main__":
    main()
