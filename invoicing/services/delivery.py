"""After-commit side effects of an invoice: its PDF and email, and asking payments to collect."""

from django.db import transaction

from billing_project.shared import stripe_gateway
from billing_project.shared.dispatch import dispatch_task


def schedule_delivery(*, invoice_id, email: bool = True) -> None:
    """Render the PDF (and email it) after commit, by a Celery task that takes the id."""
    from invoicing.tasks import invoice_deliver_task

    transaction.on_commit(
        lambda: invoice_deliver_task.delay(str(invoice_id), email=email), robust=True
    )


def schedule_collection(*, invoice_id) -> None:
    """News travels up: after commit, ask the payments app (by task name) to collect the
    invoice (it charges the default card when there is one, otherwise does nothing).
    With manual collection (no Stripe key) there is nothing to ask: skip the task."""
    if not stripe_gateway.is_configured():
        return
    transaction.on_commit(
        lambda: dispatch_task("payments.collect_invoice", invoice_id=str(invoice_id)), robust=True
    )
