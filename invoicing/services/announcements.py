"""News for the apps above invoicing, sent by task name through the outbox (no import of them).

`dunning.invoice_settled`: an invoice stopped being owed (paid by any path, or voided), so a
dunning case open on it closes at once rather than at the next scheduled pass.
"""

from billing_project.shared.dispatch import dispatch_after_commit

INVOICE_SETTLED_TASK = "dunning.invoice_settled"


def invoice_settled_announce(*, invoice_id) -> None:
    """Call inside the transaction that settled the invoice: sent after its commit."""
    dispatch_after_commit(INVOICE_SETTLED_TASK, invoice_id=str(invoice_id))
