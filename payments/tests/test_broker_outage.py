"""The Celery broker down for real (a private redis-server, killed): an invoice finalized during
the outage is accepted, and emailed and collected exactly once when the broker is back."""

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis
from celery import current_app
from celery.contrib.testing.worker import start_worker

from billing_project.shared.clock import utcnow
from billing_project.shared.dispatch import outbox_sweep
from billing_project.shared.models import OutboxMessage
from invoicing.models import Invoice
from invoicing.services.cycle import billing_cycle_run
from invoicing.tasks import invoice_deliver_task
from payments.models import PaymentAttempt
from payments.tasks import collect_invoice_task

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.stripe,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own (never the machine's shared one)."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def queued(self) -> int:
        return redis.Redis.from_url(self.url).llen("celery")


def _reset_broker_connections(app):
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(settings, url: str):
    app = current_app
    old_url = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _reset_broker_connections(app)
    app.conf.broker_url = url
    try:
        yield app
    finally:
        _reset_broker_connections(app)
        app.conf.broker_url = old_url


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    yield server
    server.kill()


def invoice_emails(mailoutbox, invoice):
    return [m for m in mailoutbox if f"invoice {invoice.number} " in m.subject]


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_invoice_finalized_with_the_broker_down_is_emailed_and_collected_once(
    settings, tenant, with_card, draft_invoice, staff_client, private_redis, mailoutbox
):
    with_card(tenant)
    draft = draft_invoice(tenant, 4900)
    private_redis.start()
    with broker_at(settings, private_redis.url) as app:
        private_redis.kill()  # the broker is down

        response = staff_client.post(f"invoices/{draft['id']}/finalize")
        assert response.status_code == 200, response.content
        invoice = Invoice.objects.get(pk=draft["id"])
        assert (invoice.status, invoice.email_status) == ("open", "pending")
        tasks = sorted(OutboxMessage.objects.values_list("task", flat=True))
        assert tasks == ["invoicing.deliver_invoice", "payments.collect_invoice"]
        # Still down: the billing cycle's sweep and a beat sweep send nothing and lose nothing.
        billing_cycle_run(now=utcnow())
        assert outbox_sweep(now=utcnow()) == 0
        assert OutboxMessage.objects.count() == 2
        assert mailoutbox == [] and not PaymentAttempt.objects.exists()

        private_redis.start()  # the broker is back
        assert outbox_sweep(now=utcnow()) == 2
        assert outbox_sweep(now=utcnow()) == 0  # a second sweep sends nothing twice
        assert private_redis.queued() == 2
        assert not OutboxMessage.objects.exists()

        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):

            def settled():
                inv = Invoice.objects.get(pk=invoice.pk)
                return (
                    inv.status == "paid"
                    and inv.email_status == "done"
                    and inv.pdf_status == "done"
                    and not OutboxMessage.objects.exists()
                    and private_redis.queued() == 0
                )

            wait_for(settled)
            time.sleep(0.5)  # the PAID stamp's re-render, sent after the payment's commit
            wait_for(settled)

    invoice.refresh_from_db()
    assert len(invoice_emails(mailoutbox, invoice)) == 1
    (attempt,) = PaymentAttempt.objects.filter(invoice=invoice)
    assert (attempt.status, attempt.amount) == ("succeeded", 4900)
    # Delivered again (a broker redelivery, a sweep after a crash): still once each.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    invoice_deliver_task.apply(kwargs={"invoice_id": str(invoice.pk), "email": True})
    collect_invoice_task.apply(kwargs={"invoice_id": str(invoice.pk)})
    assert len(invoice_emails(mailoutbox, invoice)) == 1
    assert PaymentAttempt.objects.filter(invoice=invoice).count() == 1
