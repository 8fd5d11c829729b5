"""Celery tasks: take ids, load rows, call one service. Names are the contract with invoicing
(which sends them by name, without importing us)."""

from datetime import datetime

from celery import shared_task

from billing_project.shared.clock import utcnow
from payments.services.collection import invoice_collect, retry_pending
from payments.services.webhooks import webhook_event_process, webhook_events_sweep


def _as_of(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else utcnow()


@shared_task(name="payments.collect_invoice", acks_late=True, time_limit=120)
def collect_invoice_task(invoice_id: str):
    """Sent by invoicing (through the outbox) after an invoice is finalized: charge the default
    card if any. May arrive twice (a sweep, a redelivery): one attempt per invoice."""

    attempt = invoice_collect(invoice_id=invoice_id, now=utcnow())
    return attempt.status if attempt is not None else None


@shared_task(name="payments.retry_pending", acks_late=True, time_limit=600)
def retry_pending_task(now: str | None = None):
    """Every 15 min (beat) and from the billing cycle: pending attempts whose time has come."""

    return retry_pending(now=_as_of(now))


@shared_task(name="payments.process_webhook_event", acks_late=True, time_limit=120)
def process_webhook_event_task(event_id: str):

    return webhook_event_process(event_id=event_id, now=utcnow()).status


@shared_task(name="payments.process_pending_webhooks", acks_late=True, time_limit=600)
def process_pending_webhooks_task(now: str | None = None):
    """Every minute (beat): webhook events due for a (re)try."""

    return webhook_events_sweep(now=_as_of(now))
