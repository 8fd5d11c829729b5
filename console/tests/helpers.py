"""Data the console tests start from, made through the services (a failed card collection is
the one row written directly: it stands for what the Stripe emulator would answer)."""

from datetime import timedelta

from billing_project.shared.clock import utcnow
from dunning.services.cases import case_open
from invoicing.tests.conftest import start
from payments.models import PaymentAttempt, PaymentAttemptStatus


def billed(tenant, slug: str = "developer", *, days_ago: int = 2):
    """A subscription started `days_ago` days ago and its open first invoice."""
    when = utcnow() - timedelta(days=days_ago)
    return start(tenant, slug, when=when.isoformat())


def failed_collection(invoice, *, now=None):
    """A declined card charge on the invoice, and the dunning case it opens (day 0)."""
    now = now or utcnow()
    invoice.refresh_from_db()
    attempt = PaymentAttempt.objects.create(
        invoice=invoice,
        tenant=invoice.tenant,
        number=1,
        amount=invoice.amount_due,
        currency=invoice.currency,
        status=PaymentAttemptStatus.FAILED,
        trigger="auto",
        failure_code="card_declined",
        decline_code="insufficient_funds",
        stripe_customer_id="cus_test",
        stripe_payment_method_id="pm_test",
        created_at=now,
        updated_at=now,
    )
    return attempt, case_open(invoice_id=invoice.pk, now=now)
