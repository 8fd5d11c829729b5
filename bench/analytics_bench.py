"""Analytics benchmark (issue 15 part 6): the MRR snapshot backfill and GET analytics/mrr over
100,000 subscriptions with 24 months of history.

    python bench/analytics_bench.py [--subscriptions 100000] [--requests 30] [--keep]

Runs in a scratch PostgreSQL database cloned from the test template (DATABASE_URL names the
server), dropped at the end (`--keep` leaves it for a look). Seeds with `INSERT ... SELECT`
(tenants, subscriptions started over 24 months, their change history: creations, trials
ending, upgrades, downgrades, past-due spells, cancellations; forever and repeating coupons;
triggers off while seeding), then measures:

- `analytics_snapshot --backfill-from` (24 months): the segments rebuilt from the history,
  against a baseline in the same run: a raw `COPY` of the same number of segment rows into a
  scratch table.
- `GET analytics/mrr` (the Django test client, staff token, whole stack) for several ranges,
  p50/p99 over `--requests` calls each, against a bare `SELECT SUM(mrr)` at one instant over
  the segments and over one day's daily totals (the load yardsticks of the same run).
- The read-time refresh: one plan change through the service, then the first GET after it.
"""

import argparse
import io
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://root@127.0.0.1:5432/leanvibe_billing")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402

import conftest  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

FIRST_DAY = date(2024, 12, 1)
SEED = """
SELECT setseed(0.15);
CREATE TEMP TABLE b AS
SELECT n, gen_random_uuid() AS tid, gen_random_uuid() AS sid,
       TIMESTAMPTZ '2024-12-01 00:00Z' + (random() * 715) * INTERVAL '1 day' AS started,
       random() AS r_plan, random() AS r_up, random() AS r_cancel, random() AS r_status,
       random() AS r_trial, random() AS r_coupon, random() AS r_t1, random() AS r_t2,
       random() AS r_down
  FROM generate_series(1, %(n)s) n;
ALTER TABLE b ADD COLUMN plan0 uuid, ADD COLUMN plan1 uuid, ADD COLUMN cancelled_at timestamptz,
              ADD COLUMN trial_end timestamptz;
UPDATE b SET plan0 = CASE WHEN r_plan < 0.6 THEN (SELECT id FROM subscriptions_plan WHERE slug = 'developer')
                          WHEN r_plan < 0.9 THEN (SELECT id FROM subscriptions_plan WHERE slug = 'team')
                          ELSE (SELECT id FROM subscriptions_plan WHERE slug = 'enterprise') END,
             plan1 = CASE WHEN r_plan < 0.6 THEN (SELECT id FROM subscriptions_plan WHERE slug = 'team')
                          ELSE (SELECT id FROM subscriptions_plan WHERE slug = 'enterprise') END,
             trial_end = CASE WHEN r_trial < 0.1 THEN started + INTERVAL '14 days' END,
             cancelled_at = CASE WHEN r_cancel < 0.25
                 THEN started + (0.5 + 0.5 * r_t2) * (TIMESTAMPTZ '2026-11-30Z' - started) END;
INSERT INTO subscriptions_tenant (id, name, email, address_line1, city, country, state,
    postal_code, vat_id, timezone, currency, payment_terms, tax_exempt, tax_exempt_reason,
    status, service_level, stripe_customer_id, created_at, updated_at, billing_consolidation,
    payment_responsibility)
SELECT tid, 'Tenant ' || n, 'b' || n || '@t.example', '', '', 'US', 'OR', '97201', '', 'UTC',
       'usd', 'due_on_receipt', false, '', 'active', 'full', '', started, started, false, false
  FROM b;
INSERT INTO subscriptions_subscription (id, tenant_id, plan_id, status, started_at,
    period_index, current_period_start, current_period_end, trial_end, cancel_at_period_end,
    cancellation_reason, cancelled_at, created_at, updated_at)
SELECT sid, tid, CASE WHEN r_up < 0.3 THEN plan1 ELSE plan0 END,
       CASE WHEN cancelled_at IS NOT NULL THEN 'cancelled' ELSE 'active' END, started, 0,
       started, started + INTERVAL '1 month', trial_end, false,
       CASE WHEN cancelled_at IS NOT NULL THEN (ARRAY['price', 'features', 'support', ''])[1 + (n %% 4)] ELSE '' END,
       cancelled_at, started, started
  FROM b;
INSERT INTO subscriptions_subscriptionchange (id, subscription_id, kind, from_plan_id,
    to_plan_id, effective_at, prorate, actor, note, created_at)
SELECT gen_random_uuid(), sid, kind, from_plan, to_plan, at, false, '', note, at FROM (
    SELECT sid, 'created' AS kind, NULL::uuid AS from_plan, plan0 AS to_plan, started AS at,
           '' AS note FROM b
    UNION ALL
    SELECT sid, 'trial_ended', NULL, plan0, trial_end, '' FROM b WHERE trial_end IS NOT NULL
    UNION ALL
    SELECT sid, 'upgraded', plan0, plan1,
           started + r_t1 * (COALESCE(cancelled_at, TIMESTAMPTZ '2026-11-30Z') - started), ''
      FROM b WHERE r_up < 0.3
    UNION ALL
    SELECT sid, 'downgrade_applied', plan0, (SELECT id FROM subscriptions_plan WHERE slug = 'developer'),
           started + (0.5 + 0.4 * r_t1) * (COALESCE(cancelled_at, TIMESTAMPTZ '2026-11-30Z') - started), ''
      FROM b WHERE r_up >= 0.3 AND r_down < 0.1
    UNION ALL
    SELECT sid, 'status_changed', NULL, NULL, started + r_t2 * 0.4 * (TIMESTAMPTZ '2026-11-30Z' - started) + INTERVAL '20 days',
           'active -> past_due' FROM b WHERE r_status < 0.15
    UNION ALL
    SELECT sid, 'status_changed', NULL, NULL, started + r_t2 * 0.4 * (TIMESTAMPTZ '2026-11-30Z' - started) + INTERVAL '26 days',
           'past_due -> active' FROM b WHERE r_status < 0.15
    UNION ALL
    SELECT sid, 'cancelled', NULL, NULL, cancelled_at, '' FROM b WHERE cancelled_at IS NOT NULL
) changes;
INSERT INTO subscriptions_coupon (id, code, name, percent_off, duration, duration_in_months,
    times_redeemed, active, created_at, currency)
VALUES (gen_random_uuid(), 'BENCH10', '', 10, 'forever', NULL, 0, true, '2024-01-01Z', ''),
       (gen_random_uuid(), 'BENCH3M', '', 20, 'repeating', 3, 0, true, '2024-01-01Z', '');
INSERT INTO subscriptions_couponredemption (coupon_id, subscription_id, tenant_id,
    first_period_index, redeemed_at)
SELECT (SELECT id FROM subscriptions_coupon WHERE code = CASE WHEN r_coupon < 0.1 THEN 'BENCH10' ELSE 'BENCH3M' END),
       sid, tid, 0, started
  FROM b WHERE r_coupon < 0.15;
"""  # noqa: E501


def drop(name: str) -> None:
    db = settings.DATABASES["default"]
    for alias in connections:
        connections[alias].close()
    with conftest._admin_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def baseline_copy(rows: int) -> float:
    """A raw COPY of `rows` segment-shaped rows into a scratch table (what a rebuild must at
    least write), with its buffer built beforehand."""
    buffer = io.StringIO()
    line = (
        "7b3c1c2e-0c55-4a55-9a39-3f7e0e9f1a01\t7b3c1c2e-0c55-4a55-9a39-3f7e0e9f1a02\t"
        "7b3c1c2e-0c55-4a55-9a39-3f7e0e9f1a03\tusd\t5000\t2025-01-05T12:00:00+00:00\t"
        "9999-12-31T00:00:00+00:00\n"
    )
    buffer.write(line * rows)
    data = buffer.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_baseline (LIKE analytics_mrrsegment INCLUDING ALL)")
        began = time.perf_counter()
        columns = "subscription_id, tenant_id, plan_id, currency, mrr, valid_from, valid_to"
        with cursor.copy(f"COPY copy_baseline ({columns}) FROM STDIN") as copy:
            copy.write(data)
        took = time.perf_counter() - began
        cursor.execute("DROP TABLE copy_baseline")
    return took


def timed(fn, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return statistics.median(samples), p99


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    name = scratch_database("analytics")
    try:
        run(args)
    finally:
        if not args.keep:
            drop(name)


def run(args) -> None:
    from analytics.selectors.facts import segments_refresh
    from analytics.snapshots import snapshot_run
    from billing_project.shared.clock import utcnow
    from conftest import BillingClient
    from subscriptions.services.tokens import api_token_create, staff_user_get_or_create

    began = time.perf_counter()
    with connection.cursor() as cursor:
        # no triggers while seeding: the console's audit history (pghistory) costs ~0.6 ms a
        # row and is not what is measured; the dirty marks are not needed before a full backfill
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(SEED, {"n": args.subscriptions})
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded {count('subscriptions_subscription')} subscriptions, "
        f"{count('subscriptions_subscriptionchange')} changes, "
        f"{count('subscriptions_couponredemption')} coupon redemptions "
        f"in {time.perf_counter() - began:.1f}s"
    )
    now = utcnow()
    run_ = snapshot_run(from_date=FIRST_DAY, to_date=now.date(), now=now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE analytics_mrrsegment")
    print(
        f"backfill (analytics_snapshot --backfill-from {FIRST_DAY}): "
        f"{run_.subscriptions} subscriptions -> {run_.segments} segments in {run_.seconds:.1f}s"
    )
    copy_seconds = baseline_copy(run_.segments)
    print(
        f"baseline: raw COPY of {run_.segments} rows {copy_seconds:.2f}s "
        f"(backfill / COPY = {run_.seconds / copy_seconds:.1f}x)"
    )
    assert count("analytics_mrrdirty") == 0

    def bare_sum():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT currency, SUM(mrr) FROM analytics_mrrsegment "
                "WHERE valid_from <= %(at)s AND valid_to > %(at)s GROUP BY currency",
                {"at": datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)},
            )
            cursor.fetchall()

    def daily_sum():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT currency, SUM(mrr) FROM analytics_mrrdaily WHERE day = %s GROUP BY 1",
                [date(2026, 10, 31)],
            )
            cursor.fetchall()

    p50, p99 = timed(bare_sum, args.requests)
    print(
        f"baseline: bare SUM(mrr) over the segments at one instant p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms"
    )
    p50, p99 = timed(daily_sum, args.requests)
    print(f"baseline: bare SUM(mrr) over one day's daily totals p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    user = staff_user_get_or_create(username="bench")
    client = BillingClient(api_token_create(role="staff", user=user, now=now)[1])
    today = now.date()
    ranges = {
        "last month": ("2026-10-01", "2026-10-31"),
        "month to date": (today.replace(day=1).isoformat(), today.isoformat()),
        "quarter": ("2026-07-01", "2026-09-30"),
        "12 months": ("2025-11-01", "2026-10-31"),
        "24 months": ("2024-12-01", "2026-11-30"),
    }
    for label, (start, end) in ranges.items():

        def call(start=start, end=end):
            response = client.get("analytics/mrr", {"start_date": start, "end_date": end})
            assert response.status_code == 200, response.content
            return response

        body = call().json()
        metrics = body["metrics"]
        p50, p99 = timed(call, args.requests)
        print(
            f"GET analytics/mrr {label} ({start}..{end}): p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
            f"total_mrr {metrics['total_mrr']}, net_new {metrics['net_new_mrr']}"
        )
    # the read-time refresh after a change (no snapshot run)
    from subscriptions.models import Plan, Subscription
    from subscriptions.services.subscriptions import subscription_change_plan

    sub = Subscription.objects.filter(status="active", plan__slug="developer").first()
    subscription_change_plan(
        subscription=sub, plan=Plan.objects.get(slug="team"), prorate=False, now=utcnow()
    )
    began = time.perf_counter()
    response = client.get("analytics/mrr", {"start_date": "2026-11-01", "end_date": today})
    print(
        f"first GET analytics/mrr after a plan change (refreshes 1 subscription): "
        f"{(time.perf_counter() - began) * 1000:.1f} ms ({response.status_code})"
    )
    assert segments_refresh() == 0


if __name__ == "__main__":
    main()
