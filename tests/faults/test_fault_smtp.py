"""SMTP down while sending (a private aiosmtpd server, stopped): the invoice email is retried by
its Celery task on a real worker and received exactly once after the server is back."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from invoicing import tasks as invoicing_tasks
from invoicing.models import Invoice
from payments.tests.test_broker_outage import broker_at
from tests.faults.servers import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_smtp_down_the_invoice_email_is_retried_and_sent_once(
    settings, monkeypatch, private_redis, private_smtp, tenant, staff_client
):
    monkeypatch.setattr(invoicing_tasks, "RETRY_DELAYS", (1, 1, 1, 1))  # seconds, not minutes
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        private_smtp.port,
        5,
    )
    draft = staff_client.post(
        "invoices",
        {"tenant_id": str(tenant.pk),
         "line_items": [{"description": "Setup", "quantity": 1, "unit_price": 700,
                         "total": 700}]},
    ).json()  # fmt: skip
    with broker_at(settings, private_redis.url) as app:
        # The SMTP server is not running: connections are refused.
        assert staff_client.post(f"invoices/{draft['id']}/finalize").status_code == 200
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            wait_for(
                lambda: Invoice.objects.filter(pk=draft["id"], email_status="failed").exists(),
                timeout=60,
                what="the first failed send",
            )
            assert "refused" in Invoice.objects.get(pk=draft["id"]).email_error.lower()
            private_smtp.start()  # back: the next retry sends it
            wait_for(
                lambda: Invoice.objects.filter(pk=draft["id"], email_status="done").exists(),
                timeout=30,
                what="the retried send",
            )
            time.sleep(2.5)  # time for any further retry that should not happen
    invoice = Invoice.objects.get(pk=draft["id"])
    subjects = [s for s in private_smtp.subjects() if f"invoice {invoice.number} " in s]
    assert len(subjects) == 1
    assert private_smtp.messages[0]["To"] == tenant.email
    # Delivered again (a redelivery, a sweep): still once.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    invoicing_tasks.invoice_deliver_task.apply(kwargs={"invoice_id": str(invoice.pk)})
    assert len(private_smtp.messages) == 1
