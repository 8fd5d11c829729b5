"""Stripe webhook inbox benchmark: signed `POST webhooks/stripe` with a broker configured (the
production shape: verify, store, hand the processing to Celery), beside `GET /health` (one
`SELECT 1` through the same server) in the same run. Target: p99 < 50 ms.

    .venv/bin/python bench/webhook_bench.py [--duration 10] [--concurrency 10]

Needs PostgreSQL and Redis on 127.0.0.1. Uses the database `lvb_bench_webhook` and Redis db 9
(flushed before and after: no worker consumes the queued processing tasks).
"""

import argparse
import hashlib
import hmac
import os
import sys
import time
import uuid
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DB", "lvb_bench_webhook")
os.environ.setdefault("BENCH_PORT", "8767")

from bench import usage_bench as common

SECRET = "whsec_bench_" + "x" * 24
REDIS_URL = "redis://127.0.0.1:6379/9"


def signed(payload: bytes) -> dict:
    timestamp = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return {
        "Stripe-Signature": f"t={timestamp},v1={signature.hexdigest()}",
        "Content-Type": "application/json",
    }


def event_request(n, i):
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"pi_{uuid.uuid4().hex[:24]}",
                "object": "payment_intent",
                "metadata": {"invoice_id": str(uuid.uuid4())},
            }
        },
    }
    payload = orjson.dumps(event)
    return payload, signed(payload)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    redis.Redis.from_url(REDIS_URL).flushdb()
    os.environ.update(
        REDIS_URL=REDIS_URL,
        STRIPE_WEBHOOK_SECRET=SECRET,
        SECRET_KEY="bench-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    url = common.create_database()
    server = common.start_server(url)
    try:
        common.BASE_URL = f"http://127.0.0.1:{common.PORT}/"
        health = common.load(
            "GET",
            "health",
            lambda n, i: (None, {}),
            concurrency=args.concurrency,
            duration=args.duration,
        )
        hooks = common.load(
            "POST",
            "api/v1/billing/webhooks/stripe",
            event_request,
            concurrency=args.concurrency,
            duration=args.duration,
        )
    finally:
        common.stop_server(server)
        redis.Redis.from_url(REDIS_URL).flushdb()
    for name, figures in (("GET /health (SELECT 1)", health), ("POST webhooks/stripe", hooks)):
        print(
            f"{name:28s} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
            f"p99 {figures['p99_ms']:6.1f} ms  errors {figures['errors']}"
        )
    verdict = "met" if hooks["p99_ms"] < 50 else "MISSED"
    print(
        f"webhook p99 {hooks['p99_ms']:.1f} ms (target < 50 ms: {verdict}); "
        f"throughput {hooks['rps'] / health['rps']:.2f}x of /health"
    )


if __name__ == "__main__":
    main()
