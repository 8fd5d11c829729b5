"""Celery tasks: take ids, load rows, call one service. Failures are recorded on the row
(pdf_status/email_status + error, visible in the admin) and retried with back-off. Services
send these by name through the outbox (`dispatch_after_commit`): no service imports this module."""

import logging
from datetime import date, datetime, timedelta

from celery import shared_task
from django.conf import settings

from billing_project.shared.clock import utcnow
from invoicing.services.cycle import billing_chunk_run, billing_cycle_dispatch, billing_cycle_run
from invoicing.services.documents import credit_note_pdf_store, invoice_deliver
from invoicing.services.journal_check import ledger_differences
from invoicing.services.recognition import recognize_through

log = logging.getLogger(__name__)

RETRY_DELAYS = (60, 300, 1800, 7200)


@shared_task(
    bind=True, name="invoicing.deliver_invoice", acks_late=True, max_retries=len(RETRY_DELAYS)
)
def invoice_deliver_task(self, invoice_id: str, email: bool = True):
    try:
        invoice_deliver(invoice_id=invoice_id, email=email, now=utcnow())
    except Exception as exc:
        if self.request.is_eager:
            return None  # recorded on the invoice; `POST invoices/{id}/send` tries again
        delay = RETRY_DELAYS[min(self.request.retries, len(RETRY_DELAYS) - 1)]
        raise self.retry(exc=exc, countdown=delay)
    return None


@shared_task(bind=True, name="invoicing.credit_note_pdf", acks_late=True, max_retries=4)
def credit_note_pdf_task(self, credit_note_id: str):
    try:
        credit_note_pdf_store(credit_note_id=credit_note_id)
    except Exception as exc:
        if self.request.is_eager:
            return None
        raise self.retry(exc=exc, countdown=300)
    return None


@shared_task(name="invoicing.run_billing_cycle", acks_late=True, time_limit=3600)
def run_billing_cycle_task(now: str | None = None):
    """Beat, hourly. With workers (BILLING_FAN_OUT) the period boundaries go out as chunk
    tasks; in-process, the whole cycle runs here."""
    as_of = datetime.fromisoformat(now) if now else utcnow()
    if settings.BILLING_FAN_OUT:
        chunks = billing_cycle_dispatch(now=as_of)
        return f"billing cycle as of {as_of.isoformat()}: {chunks} chunks sent to the workers"
    return billing_cycle_run(now=as_of).summary_line()


@shared_task(name="invoicing.bill_chunk", acks_late=True, time_limit=900)
def bill_chunk_task(subscription_ids: list, now: str, deliver: bool = True):
    """One chunk of a fanned-out cycle; a redelivered chunk finds its rows billed already."""
    as_of = datetime.fromisoformat(now)
    result = billing_chunk_run(subscription_ids=subscription_ids, now=as_of, deliver=deliver)
    return result.summary_line()


@shared_task(name="invoicing.recognize_revenue", acks_late=True, time_limit=1800)
def recognize_revenue_task(through: str | None = None):
    """The daily beat: recognition through yesterday's end by default (a day fully earned)."""
    now = utcnow()
    day = date.fromisoformat(through) if through else now.date() - timedelta(days=1)
    return recognize_through(through=day, now=now)


@shared_task(name="invoicing.ledger_check", acks_late=True, time_limit=1800)
def ledger_check_task():
    """The daily beat: `ledger_check`'s invariants; each difference is logged as an error (the
    figure analytics' alert rules will read). Returns the differences."""
    found = ledger_differences()
    for difference in found:
        log.error("ledger_check: %s", difference)
    return found
