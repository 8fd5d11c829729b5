from celery import shared_task

from billing_project.shared.api.idempotency import idempotency_purge
from billing_project.shared.clock import utcnow
from billing_project.shared.dispatch import outbox_sweep


@shared_task(name="shared.purge_idempotency_records", acks_late=True, time_limit=300)
def purge_idempotency_records() -> int:
    return idempotency_purge(now=utcnow())


@shared_task(name="shared.outbox_sweep", acks_late=True, time_limit=600)
def outbox_sweep_task() -> int:
    """Every minute (beat) and from the billing cycle: tasks recorded but not sent."""
    return outbox_sweep(now=utcnow())
