"""After-commit side effects of an invoice: its PDF and email, and asking payments to collect.
Both are recorded in the caller's transaction (the outbox): sent after commit, or by the sweep."""

from billing_project.shared import stripe_gateway
from billing_project.shared.dispatch import dispatch_after_commit


def schedule_delivery(*, invoice_id, email: bool = True) -> None:
    """Render the PDF (and email it) after commit, by a Celery task that takes the id."""
    dispatch_after_commit("invoicing.deliver_invoice", invoice_id=str(invoice_id), email=email)


def schedule_collection(*, invoice_id) -> None:
    """News travels up: after commit, ask the payments app (by task name) to collect the
    invoice (it charges the default card when there is one, otherwise does nothing).
    With manual collection (no Stripe key) there is nothing to ask: skip the task."""
    if not stripe_gateway.is_configured():
        return
    dispatch_after_commit("payments.collect_invoice", invoice_id=str(invoice_id))
