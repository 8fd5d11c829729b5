from celery import shared_task

from billing_project.shared.api.idempotency import idempotency_purge
from billing_project.shared.clock import utcnow


@shared_task(name="shared.purge_idempotency_records", acks_late=True, time_limit=300)
def purge_idempotency_records() -> int:
    return idempotency_purge(now=utcnow())
