"""The year's actors, driven the way an outside client drives the system: staff and tenant
tokens on the public HTTP API (DRF's test client), `run_billing_cycle --now` for what beat does,
the wall clock moved with time-machine so each request happens on its day."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO

import time_machine
from django.core.management import call_command

from billing_project.shared.tests.test_stripe_gateway import emulator_card

GOOD_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"  # attaches, then fails at charge time


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class World:
    def __init__(self, *, staff, client_for: Callable, capture: Callable, stripe_url: str):
        self.staff = staff
        self._client_for = client_for
        self._capture = capture
        self._stripe_url = stripe_url
        self.ids: dict[str, str] = {}
        self.admins: dict = {}
        self.subscriptions: dict[str, str] = {}

    @contextmanager
    def on(self, when: datetime):
        """Requests made inside happen at `when`, with their after-commit work run (collection,
        dunning news), as a worker would right after the commit."""
        with time_machine.travel(when, tick=False), self._capture(execute=True):
            yield

    def ok(self, response, status: int = 200) -> dict:
        assert response.status_code == status, response.content
        return response.json()

    # --- staff ---------------------------------------------------------------------------------

    def tenant(self, when: datetime, key: str, **body) -> str:
        with self.on(when):
            data = self.ok(
                self.staff.post("tenants", {"name": key, "email": f"{key}@example.com", **body}),
                201,
            )
        self.ids[key] = data["id"]
        self.admins[key] = self._client_for(data["id"])
        return data["id"]

    def cycle(self, when: datetime) -> str:
        out = StringIO()
        with self.on(when):
            call_command("run_billing_cycle", "--now", when.isoformat(), stdout=out)
        return out.getvalue()

    def expect_status(self, when: datetime, key: str, status: str, service_level: str) -> None:
        with self.on(when):
            tenant = self.ok(self.staff.get(f"tenants/{self.ids[key]}"))
        assert (tenant["status"], tenant["service_level"]) == (status, service_level), (key, when)

    def pay_open_invoices(self, when: datetime, key: str) -> int:
        """Staff record a bank transfer for each of the tenant's open invoices."""
        paid = 0
        with self.on(when):
            listed = self.ok(
                self.staff.get("invoices", {"tenant_id": self.ids[key], "page_size": 500})
            )
            for invoice in listed["results"]:
                if invoice["status"] == "open":
                    self.ok(
                        self.staff.post(
                            f"invoices/{invoice['id']}/payments",
                            {"amount": invoice["amount_due"], "reference": f"wire {key}"},
                        )
                    )
                    paid += invoice["amount_due"]
        return paid

    def credit_note(self, when: datetime, key: str, period_start: str, amount: int) -> dict:
        """Staff credit `amount` (tax included) on the tenant's invoice of that period."""
        with self.on(when):
            listed = self.ok(
                self.staff.get("invoices", {"tenant_id": self.ids[key], "page_size": 500})
            )
            (invoice,) = [
                i for i in listed["results"] if (i["period_start"] or "").startswith(period_start)
            ]
            return self.ok(
                self.staff.post(
                    f"invoices/{invoice['id']}/credit-notes",
                    {
                        "lines": [{"description": "Service outage", "amount": amount}],
                        "reason": "outage",
                    },
                ),
                201,
            )

    # --- the tenant's own token ----------------------------------------------------------------

    def card(self, when: datetime, key: str, number: str = GOOD_CARD, *, default: bool = False):
        pm = emulator_card(self._stripe_url, number)
        client = self.admins[key]
        with self.on(when):
            row = self.ok(
                client.post("payment-methods", {"type": "card", "stripe_payment_method_id": pm}),
                201,
            )
            if default:
                self.ok(client.patch(f"payment-methods/{row['id']}/default"))
        return row

    def subscribe(self, when: datetime, key: str, plan: str, **extra) -> dict:
        with self.on(when):
            data = self.ok(
                self.admins[key].post(
                    "subscriptions", {"tenant_id": self.ids[key], "plan_id": plan, **extra}
                ),
                201,
            )
        self.subscriptions[key] = data["id"]
        return data

    def change(self, when: datetime, key: str, **body) -> dict:
        with self.on(when):
            return self.ok(self.admins[key].patch(f"subscriptions/{self.subscriptions[key]}", body))

    def usage(self, when: datetime, key: str, metric: str, quantity, **extra) -> None:
        with self.on(when):
            self.ok(
                self.admins[key].post(
                    "usage", {"metric_type": metric, "quantity": quantity, **extra}
                ),
                201,
            )

    def usage_batch(self, when: datetime, key: str, records: list[dict]) -> None:
        with self.on(when):
            response = self.admins[key].post("usage/batch", {"records": records})
        assert response.status_code in (200, 201), response.content
