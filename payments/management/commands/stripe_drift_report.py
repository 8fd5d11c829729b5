"""`manage.py stripe_drift_report`: our records against the dj-stripe mirror.

One line per difference, then a summary line; exit status 0 (a report, not a check). Compared:
- tenants with a Stripe customer: the mirrored Customer exists;
- attempts with a PaymentIntent: the mirrored intent exists, its amount and status agree
  (succeeded <-> succeeded; a failed attempt's intent must not be succeeded), and a card-paid
  invoice's amount_paid is at least what its succeeded intents took;
- refunds with a Stripe id: the mirrored refund exists with the same amount;
- mirrored intents carrying our invoice id that no attempt of ours knows.
"""

from django.core.management.base import BaseCommand
from djstripe.models import Customer as MirrorCustomer
from djstripe.models import PaymentIntent as MirrorPaymentIntent
from djstripe.models import Refund as MirrorRefund

from payments.models import PaymentAttempt, PaymentAttemptStatus, Refund
from subscriptions.models import Tenant


def drift_lines() -> tuple[list[str], dict[str, int]]:
    lines: list[str] = []
    checked = {"customers": 0, "attempts": 0, "refunds": 0}

    customers = set(MirrorCustomer.objects.values_list("id", flat=True))
    for tenant_id, name, customer_id in (
        Tenant.objects.exclude(stripe_customer_id="")
        .order_by("created_at", "id")
        .values_list("id", "name", "stripe_customer_id")
    ):
        checked["customers"] += 1
        if customer_id not in customers:
            lines.append(f"missing customer {customer_id} (tenant {name} {tenant_id})")

    # dj-stripe 2.11 keeps most fields in `stripe_data` (amounts there are in minor units).
    intents = {
        pi_id: (data or {})
        for pi_id, data in MirrorPaymentIntent.objects.values_list("id", "stripe_data")
    }
    known = set()
    paid_by_card: dict = {}
    attempts = (
        PaymentAttempt.objects.exclude(stripe_payment_intent_id="")
        .select_related("invoice")
        .order_by("created_at", "number")
    )
    for attempt in attempts:
        checked["attempts"] += 1
        pi_id = attempt.stripe_payment_intent_id
        known.add(pi_id)
        label = f"{attempt.invoice.number} attempt {attempt.number}"
        if attempt.status == PaymentAttemptStatus.SUCCEEDED:
            paid_by_card.setdefault(attempt.invoice, 0)
            paid_by_card[attempt.invoice] += attempt.amount
        mirrored = intents.get(pi_id)
        if mirrored is None:
            lines.append(f"missing payment_intent {pi_id} ({label}, {attempt.status})")
            continue
        mirror_amount = int(mirrored.get("amount") or 0)
        mirror_status = mirrored.get("status") or ""
        if mirror_amount != attempt.amount:
            lines.append(
                f"amount payment_intent {pi_id} ({label}): ours {attempt.amount}, "
                f"mirror {mirror_amount}"
            )
        mirror_succeeded = mirror_status == "succeeded"
        if (attempt.status == PaymentAttemptStatus.SUCCEEDED) != mirror_succeeded and (
            attempt.status != PaymentAttemptStatus.PENDING or mirror_succeeded
        ):
            lines.append(
                f"status payment_intent {pi_id} ({label}): ours {attempt.status}, "
                f"mirror {mirror_status}"
            )
    for invoice, amount in paid_by_card.items():
        if invoice.amount_paid < amount:
            lines.append(
                f"amount invoice {invoice.number}: amount_paid {invoice.amount_paid}, "
                f"card payments {amount}"
            )
    for pi_id, mirrored in intents.items():
        invoice_id = (mirrored.get("metadata") or {}).get("invoice_id")
        if invoice_id and pi_id not in known:
            lines.append(f"unknown payment_intent {pi_id} in the mirror (invoice {invoice_id})")

    refunds = {
        refund_id: int((data or {}).get("amount") or 0)
        for refund_id, data in MirrorRefund.objects.values_list("id", "stripe_data")
    }
    for refund in Refund.objects.exclude(stripe_refund_id="").select_related("invoice"):
        checked["refunds"] += 1
        mirrored = refunds.get(refund.stripe_refund_id)
        label = f"{refund.invoice.number} refund {refund.number}"
        if mirrored is None:
            lines.append(f"missing refund {refund.stripe_refund_id} ({label})")
        elif mirrored != refund.amount:
            lines.append(
                f"amount refund {refund.stripe_refund_id} ({label}): ours {refund.amount}, "
                f"mirror {mirrored}"
            )
    return lines, checked


class Command(BaseCommand):
    help = "List every difference between our payments/customers and the dj-stripe mirror."

    def handle(self, *args, **options):
        lines, checked = drift_lines()
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(
            f"{len(lines)} difference{'s' if len(lines) != 1 else ''} "
            f"({checked['customers']} customers, {checked['attempts']} payment attempts, "
            f"{checked['refunds']} refunds checked)"
        )
