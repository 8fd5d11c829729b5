"""The mixed load of bench/load_bench.py: 80 % `POST usage` (each with its own idempotency key,
so every 201 is one stored event), 15 % `GET usage/current`, 5 % `GET invoices`; each simulated
user is one tenant (tokens from the JSON file named by LVB_TOKENS)."""

import itertools
import json
import os
import uuid
from pathlib import Path

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

TOKENS = json.loads(Path(os.environ["LVB_TOKENS"]).read_text())
_next_token = itertools.count()
METRICS = ["api_calls", "ai_requests", "storage_gb"]
ACCEPTED = []  # idempotency keys answered 201


@events.quitting.add_listener
def _write_accepted(environment, **kwargs):
    Path(os.environ["LVB_ACCEPTED"]).write_text("\n".join(ACCEPTED))


class Tenant(FastHttpUser):
    wait_time = between(0, 0)

    def on_start(self):
        token = TOKENS[next(_next_token) % len(TOKENS)]
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.sent = 0

    @task(80)
    def post_usage(self):
        self.sent += 1
        body = {
            "metric_type": METRICS[self.sent % len(METRICS)],
            "quantity": 1 + self.sent % 7,
            "idempotency_key": uuid.uuid4().hex,
        }
        with self.client.post(
            "/api/v1/billing/usage",
            data=json.dumps(body),
            headers=self.headers,
            name="POST usage",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                ACCEPTED.append(body["idempotency_key"])
            else:
                response.failure(f"status {response.status_code}")

    @task(15)
    def current(self):
        self.client.get(
            "/api/v1/billing/usage/current", headers=self.headers, name="GET usage/current"
        )

    @task(5)
    def invoices(self):
        self.client.get("/api/v1/billing/invoices", headers=self.headers, name="GET invoices")
