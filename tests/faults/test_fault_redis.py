"""Redis down (a private redis-server, killed): usage, subscriptions, invoices and webhooks are
still accepted; their tasks wait in the transactional outbox (or the webhook inbox) and run once
when Redis is back, on a real worker."""

import json
import time

import pytest
from celery.contrib.testing.worker import start_worker

from billing_project.shared.clock import utcnow
from billing_project.shared.dispatch import outbox_sweep
from billing_project.shared.models import OutboxMessage
from conftest import BillingClient
from invoicing.models import Invoice
from payments.models import PaymentAttempt, WebhookEvent
from payments.tests.conftest import WEBHOOK_URL, event_for, sign
from payments.tests.test_broker_outage import broker_at
from tests.faults.servers import wait_for
from usage.models import UsageEvent

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.stripe]


def test_with_redis_down_writes_are_accepted_and_their_tasks_run_once_later(
    settings, private_redis, tenant, with_card, token_for, mailoutbox, client, webhook_secret
):
    with_card(tenant)
    staff = BillingClient(token_for("staff"))
    admin = BillingClient(token_for("tenant_admin", tenant))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
        }
    }
    with broker_at(settings, private_redis.url) as app:
        private_redis.kill()  # Redis (cache and broker) is down

        sub = admin.post("subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"})
        assert sub.status_code == 201, sub.content
        assert admin.post("usage", {"metric_type": "api_calls", "quantity": 5}).status_code == 201
        batch = {"records": [{"metric_type": "ai_requests", "quantity": 2}] * 3}
        assert admin.post("usage/batch", batch).status_code == 201
        assert admin.get("usage/current").json()["usage_metrics"]["api_calls"]["current"] == 5
        draft = staff.post(
            "invoices",
            {"tenant_id": str(tenant.pk),
             "line_items": [{"description": "Setup", "quantity": 1, "unit_price": 900,
                             "total": 900}]},
        ).json()  # fmt: skip
        assert staff.post(f"invoices/{draft['id']}/finalize").status_code == 200
        body = json.dumps(
            event_for({"id": "dp_1"}, "charge.dispute.created", event_id="evt_outage_1")
        ).encode()
        hook = client.post(
            WEBHOOK_URL, data=body, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body),
        )  # fmt: skip
        assert hook.status_code == 200
        assert client.get("/health").status_code == 200  # the database is all it needs

        invoices = list(Invoice.objects.filter(tenant=tenant).exclude(status="draft"))
        assert len(invoices) == 2 and {i.status for i in invoices} == {"open"}
        assert UsageEvent.objects.filter(tenant=tenant).count() == 4
        tasks = sorted(OutboxMessage.objects.values_list("task", flat=True))
        assert tasks == ["invoicing.deliver_invoice"] * 2 + ["payments.collect_invoice"] * 2
        assert outbox_sweep(now=utcnow()) == 0  # still down: nothing sent, nothing lost
        assert OutboxMessage.objects.count() == 4
        assert not PaymentAttempt.objects.exists() and mailoutbox == []
        assert WebhookEvent.objects.get(stripe_id="evt_outage_1").status == "pending"

        private_redis.start()  # back
        assert outbox_sweep(now=utcnow()) == 4
        assert outbox_sweep(now=utcnow()) == 0
        app.send_task("payments.process_pending_webhooks", kwargs={"now": None})  # beat's sweep
        WebhookEvent.objects.filter(stripe_id="evt_outage_1").update(next_attempt_at=utcnow())
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):

            def settled():
                done = Invoice.objects.filter(
                    pk__in=[i.pk for i in invoices], status="paid", email_status="done"
                ).count()
                return (
                    done == 2
                    and not OutboxMessage.objects.exists()
                    and WebhookEvent.objects.get(stripe_id="evt_outage_1").status != "pending"
                    and private_redis.client().llen("celery") == 0
                )

            wait_for(settled, timeout=60, what="the outbox's tasks")
            time.sleep(0.5)  # anything sent after the payments' commits
            wait_for(settled, timeout=30, what="the tasks sent after the payments")

    for invoice in invoices:
        assert PaymentAttempt.objects.filter(invoice=invoice).count() == 1
        invoice.refresh_from_db()
        assert len([m for m in mailoutbox if f"invoice {invoice.number} " in m.subject]) == 1
    assert WebhookEvent.objects.get(stripe_id="evt_outage_1").status == "ignored"
