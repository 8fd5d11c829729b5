"""Dunning pass benchmark (issue 11): `dunning_run` over 10,000 open cases.

    python bench/dunning_bench.py [--cases 10000] [--chunk-sizes 100 200] [--scenarios ...]
        [--skip-eager]

Runs in a scratch PostgreSQL database cloned from the test template (DATABASE_URL names the
server; default postgres://root@127.0.0.1:5432/leanvibe_billing), dropped at the end. Test
settings: Stripe is not configured (manual collection), email goes to the locmem backend.
Every scenario is seeded afresh (bulk inserts: tenants, open invoices, one failed attempt and
one open case with its `opened` event each) and prints seconds, cases/s and the queries of each
chunk (a chunk: its transaction, the retries after its commit and their after-commit work):

- `manual`: every case due for day 1 (retry + reminder), the decline soft, so the step wants a
  retry; with no card possible (manual collection) the runner records "retry not possible".
  Notices deferred at every chunk size (a broker is configured: one `send_task` per chunk
  to Redis db TEST_REDIS_DB, no worker), and at the last size also sent in-process to the
  locmem backend (eager mode: one email per notice, rendered and sent after each chunk's
  commit, as without a broker).
- `idle`: 10,000 open cases, none due (the cheap pass).
- `one_tenant`: as `manual` (deferred), but one tenant holds all cases but 1 % of them.
- `hard`: as `manual` (deferred) with a hard decline code (no retry at all).

Baseline in the same run: one bare `UPDATE` of the 10,000 case rows plus one
`INSERT ... SELECT` of 10,000 event rows (what a pass must at least write), rolled back.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://root@127.0.0.1:5432/leanvibe_billing")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

import conftest  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

DAY0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
DAY1 = datetime(2026, 3, 2, tzinfo=UTC)  # day 1 starts at midnight (tenants in UTC)
NOW = DAY1 + timedelta(hours=11)


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE dunning_dunningevent, dunning_dunningcase, payments_paymentattempt, "
            "invoicing_invoice, subscriptions_tenant, shared_outboxmessage CASCADE"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def seed(*, cases: int, tenants: int, main_share: float = 0.0, due: bool = True,
         decline: str = "insufficient_funds") -> None:  # fmt: skip
    """`cases` open cases over `tenants` tenants (round robin; with `main_share`, that share of
    the cases on the first tenant). Due for day 1 when `due`, else next action on day 3."""
    from dunning.models import CaseStatus, DunningCase, DunningEvent, EventKind
    from dunning.selectors import policy_default
    from invoicing.models import Invoice
    from payments.models import PaymentAttempt
    from subscriptions.models import Tenant

    reset()
    started = time.perf_counter()
    rows = Tenant.objects.bulk_create(
        Tenant(
            name=f"Dunning {i}",
            email=f"dunning{i}@example.com",
            country="US",
            state="CA",
            created_at=DAY0,
            updated_at=DAY0,
        )
        for i in range(tenants)
    )
    main = int(cases * main_share)

    def owner(i):
        if i < main:
            return rows[0]
        return rows[1 + (i - main) % (len(rows) - 1)] if main else rows[i % len(rows)]

    invoices = Invoice.objects.bulk_create(
        Invoice(
            tenant=owner(i),
            kind="custom",
            status="open",
            number=f"DUN-{i:06d}",
            currency="usd",
            subtotal=5000,
            total=5000,
            amount_due=5000,
            issued_at=DAY0,
            due_at=DAY0,
            created_at=DAY0,
            updated_at=DAY0,
        )
        for i in range(cases)
    )
    attempts = PaymentAttempt.objects.bulk_create(
        PaymentAttempt(
            invoice=inv,
            tenant_id=inv.tenant_id,
            number=1,
            amount=5000,
            currency="usd",
            status="failed",
            trigger="auto",
            stripe_customer_id="cus_bench",
            stripe_payment_method_id="pm_bench",
            failure_code="card_declined",
            decline_code=decline,
            failure_notified_at=DAY0,
            created_at=DAY0,
            updated_at=DAY0,
        )
        for inv in invoices
    )
    policy = policy_default()
    next_at = DAY1 if due else DAY1 + timedelta(days=2)
    made = DunningCase.objects.bulk_create(
        DunningCase(
            tenant_id=a.tenant_id,
            invoice_id=a.invoice_id,
            policy=policy,
            first_attempt=a,
            status=CaseStatus.OPEN,
            stage="grace",
            opened_at=DAY0,
            next_action_at=next_at,
            last_decline_code=decline,
            created_at=DAY0,
            updated_at=DAY0,
        )
        for a in attempts
    )
    DunningEvent.objects.bulk_create(
        DunningEvent(
            case=c,
            key="opened",
            kind=EventKind.OPENED,
            day=0,
            attempt_id=c.first_attempt_id,
            outcome=f"collection failed ({decline})",
            done=True,
            at=DAY0,
        )
        for c in made
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"  seeded {cases} cases over {tenants} tenants in {time.perf_counter() - started:.1f} s")


class ChunkCounter:
    """Counts queries (savepoints included) and splits them at each `_run_chunk` call."""

    def __init__(self):
        self.count = 0
        self.marks: list[int] = []
        self.seconds: dict[str, float] = {}

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split()[:4])[:70]
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started

    def slowest(self, n: int = 4) -> str:
        top = sorted(self.seconds.items(), key=lambda kv: -kv[1])[:n]
        return "; ".join(f"{sec:.2f} s {key}" for key, sec in top)

    def per_chunk(self) -> list[int]:
        ends = [*self.marks[1:], self.end]
        return [b - a for a, b in zip(self.marks, ends, strict=True)]


def timed_pass(*, chunk_size: int, eager: bool):
    """One `dunning_run(now=NOW)`; returns (seconds, result, total queries, per-chunk list)."""
    from dunning.services import runner

    counter = ChunkCounter()
    original = runner._run_chunk

    def marked(*args, **kwargs):
        counter.marks.append(counter.count)
        return original(*args, **kwargs)

    settings.CELERY_TASK_ALWAYS_EAGER = eager
    runner._run_chunk = marked
    try:
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            result = runner.dunning_run(now=NOW, chunk_size=chunk_size)
        elapsed = time.perf_counter() - started
    finally:
        runner._run_chunk = original
        settings.CELERY_TASK_ALWAYS_EAGER = True
        _flush_broker()
    counter.end = counter.count
    return elapsed, result, counter


def _flush_broker() -> None:
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")


def report(label: str, cases: int, elapsed: float, result, counter: ChunkCounter) -> None:
    chunks = counter.per_chunk()
    full = chunks[:-1] if len(chunks) > 1 else chunks
    fixed = counter.marks[0] if counter.marks else counter.count
    spread = (
        f"{min(full)}-{max(full)}"
        if full and min(full) != max(full)
        else f"{full[0]}"
        if full
        else "-"
    )
    print(
        f"    {elapsed:.2f} s, {cases / elapsed:,.0f} cases/s, {counter.count} queries "
        f"({fixed} before the first chunk, {len(chunks)} chunks: {spread} queries per chunk)"
    )
    print(f"    {result.summary_line()}")
    print(f"    time in SQL by statement: {counter.slowest()}")
    if result.errors:
        print(f"    errors: {result.errors[:3]}")


def check_manual(cases: int, *, notices_sent: bool) -> None:
    from dunning.models import DunningCase, DunningEvent

    events = DunningEvent.objects.filter(kind="step", key="day:1")
    assert events.count() == cases, events.count()
    assert events.filter(done=True).count() == cases
    outcomes = set(events.values_list("outcome", flat=True))
    assert all(o.startswith(("retry not possible", "retry skipped")) for o in outcomes), outcomes
    status = "sent" if notices_sent else "pending"
    assert events.filter(notice="reminder", notice_status=status).count() == cases
    assert not DunningCase.objects.filter(next_action_at__lte=NOW).exists()


def bench_baseline(cases: int) -> None:
    seed(cases=cases, tenants=cases)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dunning_dunningcase SET next_action_at = next_action_at + interval '2 days', "
            "updated_at = %s WHERE status = 'open' AND next_action_at <= %s",
            [NOW, NOW],
        )
        updated = cursor.rowcount
        update_s = time.perf_counter() - started
        cursor.execute(
            "INSERT INTO dunning_dunningevent (case_id, key, kind, day, actions, outcome, done, "
            "notice, notice_status, notice_subject, notice_error, actor, at) "
            "SELECT id, 'day:1', 'step', 1, '[\"retry\", \"email:reminder\"]', 'baseline', true, "
            "'reminder', 'pending', 'Payment reminder', '', '', %s FROM dunning_dunningcase",
            [NOW],
        )
        transaction.set_rollback(True)
    elapsed = time.perf_counter() - started
    assert updated == cases
    print(
        f"  baseline: bare UPDATE of {cases} case rows {update_s:.3f} s; with INSERT ... SELECT "
        f"of {cases} events {elapsed:.3f} s ({cases / elapsed:,.0f} cases/s), rolled back"
    )


def bench_manual(cases: int, chunk_sizes: list[int], *, eager_too: bool = True) -> None:
    for chunk_size in chunk_sizes:  # eager (slow: an email per notice) at the last size only
        last = chunk_size == chunk_sizes[-1] and eager_too
        for eager in (False, True) if last else (False,):
            how = "notices sent to locmem (eager)" if eager else "notices deferred (broker)"
            print(f"manual collection, {cases} due, chunk {chunk_size}, {how}:")
            seed(cases=cases, tenants=cases)
            elapsed, result, counter = timed_pass(chunk_size=chunk_size, eager=eager)
            report("manual", cases, elapsed, result, counter)
            check_manual(cases, notices_sent=eager)


def bench_idle(cases: int, chunk_sizes: list[int]) -> None:
    print(f"idle: {cases} open cases, none due:")
    seed(cases=cases, tenants=cases, due=False)
    elapsed, result, counter = timed_pass(chunk_size=chunk_sizes[0], eager=False)
    print(f"    {elapsed * 1000:.1f} ms, {counter.count} queries; {result.summary_line()}")
    assert result.cases == 0


def bench_one_tenant(cases: int, chunk_sizes: list[int]) -> None:
    for chunk_size in chunk_sizes:
        print(f"one tenant with 99 % of {cases} due cases, chunk {chunk_size}, notices deferred:")
        seed(cases=cases, tenants=max(cases // 100, 2), main_share=0.99)
        elapsed, result, counter = timed_pass(chunk_size=chunk_size, eager=False)
        report("one_tenant", cases, elapsed, result, counter)
        check_manual(cases, notices_sent=False)


def bench_hard(cases: int, chunk_sizes: list[int]) -> None:
    for chunk_size in chunk_sizes:
        print(f"hard declines (no retry), {cases} due, chunk {chunk_size}, notices deferred:")
        seed(cases=cases, tenants=cases, decline="stolen_card")
        elapsed, result, counter = timed_pass(chunk_size=chunk_size, eager=False)
        report("hard", cases, elapsed, result, counter)
        check_manual(cases, notices_sent=False)


SCENARIOS = {
    "baseline": lambda a: bench_baseline(a.cases),
    "manual": lambda a: bench_manual(a.cases, a.chunk_sizes, eager_too=not a.skip_eager),
    "idle": lambda a: bench_idle(a.cases, a.chunk_sizes),
    "one_tenant": lambda a: bench_one_tenant(a.cases, a.chunk_sizes),
    "hard": lambda a: bench_hard(a.cases, a.chunk_sizes),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--chunk-sizes", type=int, nargs="+", default=[100, 200])
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--skip-eager", action="store_true", help="no eager-notices run")
    args, _ = parser.parse_known_args()  # scripts/bench.sh passes every bench the same arguments
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    name = scratch_database("dunning")
    try:
        for scenario in args.scenarios.split(","):
            SCENARIOS[scenario](args)
    finally:
        for alias in connections:
            connections[alias].close()
        with conftest._admin_connection(settings.DATABASES["default"]) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
