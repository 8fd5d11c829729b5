"""Celery tasks: take ids, load rows, call one service. The names are the contract with the
apps below (payments, invoicing, subscriptions send them by name, without importing us)."""

from datetime import datetime

from celery import shared_task
from django.conf import settings

from billing_project.shared.clock import utcnow
from dunning.services.cases import case_open, case_settle
from dunning.services.fanout import dunning_chunk_pass, dunning_dispatch
from dunning.services.notices import notices_send
from dunning.services.runner import dunning_run
from dunning.services.staff import tenant_cases_retry


def _as_of(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else utcnow()


@shared_task(name="dunning.run_steps", acks_late=True, time_limit=1800)
def run_steps_task(now: str | None = None):
    """Beat (hourly, editable) and the billing cycle (first in its order). With workers
    (BILLING_FAN_OUT) the due cases go out as chunk tasks; in-process, the pass runs here."""
    if settings.BILLING_FAN_OUT:
        return f"dunning: {dunning_dispatch(now=_as_of(now))} chunks sent to the workers"
    return dunning_run(now=_as_of(now)).summary_line()


@shared_task(name="dunning.run_chunk", acks_late=True, time_limit=900)
def run_chunk_task(case_ids: list, now: str):
    return dunning_chunk_pass(case_ids=case_ids, now=_as_of(now)).summary_line()


@shared_task(name="dunning.payment_failed", acks_late=True, time_limit=120)
def payment_failed_task(invoice_id: str):
    """Sent by payments after a failed collection: opens the invoice's case (day 0)."""
    case = case_open(invoice_id=invoice_id, now=utcnow())
    return str(case.pk) if case is not None else None


@shared_task(name="dunning.invoice_settled", acks_late=True, time_limit=120)
def invoice_settled_task(invoice_id: str):
    """Sent by invoicing when an invoice is paid or voided: closes its case, restores."""
    case = case_settle(invoice_id=invoice_id, now=utcnow())
    return case.status if case is not None else None


@shared_task(name="dunning.retry_for_tenant", acks_late=True, time_limit=600)
def retry_for_tenant_task(tenant_id: str, payment_method_id: str = ""):
    """Sent by subscriptions when a tenant gets a new default card."""
    return tenant_cases_retry(
        tenant_id=tenant_id, payment_method_id=payment_method_id, now=utcnow()
    )


@shared_task(name="dunning.send_notices", acks_late=True, time_limit=600)
def send_notices_task(event_ids: list):
    return notices_send(event_ids=event_ids, now=utcnow())
