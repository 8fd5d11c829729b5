"""The two payment emails: one "payment failed" per failed attempt, one receipt per success.

Each is claimed with a conditional UPDATE on the attempt (`failure_notified_at` /
`receipt_sent_at IS NULL`) in the transaction that sends it: whichever path gets there first (the
charge's own answer or the webhook) sends it, the other finds the flag set; a send that raises
rolls the flag back so a later path may try again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from billing_project.shared.money import format_money
from payments.models import PaymentAttempt, PaymentAttemptStatus
from subscriptions.models import PaymentMethod

log = logging.getLogger(__name__)

API_BASE = "/api/v1/billing"


def _context(attempt: PaymentAttempt) -> dict:
    invoice = attempt.invoice
    card = (
        PaymentMethod.objects.filter(stripe_payment_method_id=attempt.stripe_payment_method_id)
        .values_list("brand", "last4")
        .first()
    )
    return {
        "tenant": attempt.tenant,
        "invoice": invoice,
        "attempt": attempt,
        "card": f"{card[0]} ending {card[1]}" if card else attempt.stripe_payment_method_id,
        "amount": format_money(attempt.amount, attempt.currency),
        "amount_due": format_money(invoice.amount_due, invoice.currency),
        "due": invoice.due_at.date().isoformat() if invoice.due_at else "",
        "message": attempt.failure_message,
        "decline_code": attempt.decline_code,
        "reference": attempt.stripe_payment_intent_id,
        "api": API_BASE,
        "company": settings.BILLING_COMPANY["name"],
    }


def _send(*, subject: str, template: str, attempt: PaymentAttempt) -> None:
    EmailMessage(
        subject=subject,
        body=render_to_string(template, _context(attempt)),
        to=[attempt.tenant.email],
        reply_to=[settings.BILLING_COMPANY["email"]] if settings.BILLING_COMPANY["email"] else None,
    ).send(fail_silently=False)


def _send_once(*, attempt_id, status: str, flag: str, now: datetime, subject, template: str):
    """Claim the attempt's `flag` (a sent-at column) and send, in one transaction: a second call,
    or a concurrent one, finds the flag set and sends nothing. True when this call sent it."""
    try:
        with transaction.atomic():
            claimed = PaymentAttempt.objects.filter(
                pk=attempt_id, status=status, **{f"{flag}__isnull": True}
            ).update(**{flag: now})
            if not claimed:
                return False
            attempt = PaymentAttempt.objects.select_related("invoice", "tenant").get(pk=attempt_id)
            _send(subject=subject(attempt), template=template, attempt=attempt)
    except Exception:
        log.exception("%s for attempt %s could not be sent", template, attempt_id)
        return False
    return True


def payment_failed_notify(*, attempt_id, now: datetime) -> bool:
    """Send the one "payment failed" email of a failed attempt. True when this call sent it."""
    return _send_once(
        attempt_id=attempt_id,
        status=PaymentAttemptStatus.FAILED,
        flag="failure_notified_at",
        now=now,
        subject=lambda attempt: (
            f"Payment failed: invoice {attempt.invoice.number} "
            f"({format_money(attempt.amount, attempt.currency)})"
        ),
        template="payments/email/payment_failed.txt",
    )


def receipt_send(*, attempt_id, now: datetime) -> bool:
    """Send the receipt of a succeeded attempt, once. True when this call sent it."""
    return _send_once(
        attempt_id=attempt_id,
        status=PaymentAttemptStatus.SUCCEEDED,
        flag="receipt_sent_at",
        now=now,
        subject=lambda attempt: (
            f"Receipt: {format_money(attempt.amount, attempt.currency)} paid for invoice "
            f"{attempt.invoice.number}"
        ),
        template="payments/email/receipt.txt",
    )
