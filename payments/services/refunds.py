"""Refunds on paid invoices: money back through Stripe for card payments, with a credit note.

One transaction: the invoice row is locked, the amount checked (at most what was paid and not yet
refunded, and at most what a credit note may still take), the credit note issued (invoicing's
service) and the Refund row inserted; then Stripe is asked to refund on the PaymentIntent with
the key `invoice:{id}:refund:{n}`. If Stripe says no or cannot be reached, everything rolls back
(the credit note number too: the series stays gapless) and the answer is an error. If our commit
failed after Stripe's yes, the retry has the same n, hence the same key, and Stripe answers with
the first refund. Payments made by transfer are refunded outside and recorded (`method=manual`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Sum

from billing_project.shared import stripe_gateway
from billing_project.shared.errors import Conflict, DependencyUnavailable, ValidationFailed
from invoicing.models import InvoiceStatus
from invoicing.services.credit_notes import credit_note_create, creditable_amount
from invoicing.services.locking import invoice_lock
from ledger.allocation import Posting
from ledger.models import AccountRole
from ledger.services import ledger_post
from payments import mirror
from payments.models import PaymentAttempt, PaymentAttemptStatus, Refund, RefundStatus

log = logging.getLogger(__name__)


def _refunded(**filters) -> int:
    return Refund.objects.filter(**filters).aggregate(total=Sum("amount"))["total"] or 0


def refundable_amount(invoice) -> int:
    if invoice.status != InvoiceStatus.PAID:
        return 0
    return max(0, min(invoice.amount_paid - _refunded(invoice=invoice), creditable_amount(invoice)))


def invoice_refund(*, invoice_id, amount, reason: str, now: datetime, actor: str = "") -> Refund:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed(
            "Invalid refund.", errors={"amount": ["Must be a positive integer (minor units)."]}
        )
    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status != InvoiceStatus.PAID:
            raise Conflict(
                f"Only paid invoices can be refunded; this one is {invoice.status}.",
                code="invalid_invoice_status",
            )
        limit = refundable_amount(invoice)
        if amount > limit:
            raise ValidationFailed(
                f"Amount {amount} exceeds what can be refunded ({limit}).",
                errors={"amount": [f"At most {limit}."]},
            )
        card_attempts = list(
            PaymentAttempt.objects.filter(invoice=invoice, status=PaymentAttemptStatus.SUCCEEDED)
            .exclude(stripe_payment_intent_id="")
            .order_by("-number")
        )
        attempt = None
        for candidate in card_attempts:
            if candidate.amount - _refunded(attempt=candidate) >= amount:
                attempt = candidate
                break
        if card_attempts and attempt is None:
            largest = max(c.amount - _refunded(attempt=c) for c in card_attempts)
            raise ValidationFailed(
                f"One card refund may take at most {largest}; split the refund.",
                errors={"amount": [f"At most {largest} per refund."]},
            )
        number = Refund.objects.filter(invoice=invoice).count() + 1
        note = credit_note_create(
            invoice_id=invoice.pk,
            lines=[{"description": f"Refund: {reason}" if reason else "Refund", "amount": amount}],
            reason=reason or "Refund",
            now=now,
            actor=actor,
        )
        refund = Refund(
            invoice=invoice,
            tenant_id=invoice.tenant_id,
            number=number,
            attempt=attempt,
            credit_note=note,
            amount=amount,
            currency=invoice.currency,
            reason=(reason or "")[:500],
            method="card" if attempt else "manual",
            status=RefundStatus.SUCCEEDED,
            created_by=actor,
            created_at=now,
        )
        if attempt is not None:
            try:
                result = stripe_gateway.refund_create(
                    payment_intent_id=attempt.stripe_payment_intent_id,
                    amount=amount,
                    idempotency_key=f"invoice:{invoice.pk}:refund:{number}",
                )
            except (stripe_gateway.StripeUnavailable, stripe_gateway.StripeNotConfigured) as exc:
                raise DependencyUnavailable(
                    f"Stripe is unavailable; nothing was refunded. ({exc.message})",
                    code="stripe_unavailable",
                ) from exc
            except stripe_gateway.StripeGatewayError as exc:
                raise Conflict(
                    f"Stripe refused the refund: {exc.message}", code="refund_refused"
                ) from exc
            refund.stripe_refund_id = result.id
            refund.status = (
                result.status if result.status in RefundStatus.values else RefundStatus.PENDING
            )
        refund.save()
        refund_post(refund=refund, now=now)
        if refund.stripe_refund_id:
            refund_id = refund.stripe_refund_id
            transaction.on_commit(lambda: _mirror_refund(refund_id))
    return refund


def refund_post(*, refund: Refund, now: datetime) -> None:
    """The money going back pays out the customer credit the refund's credit note posted."""
    cash = AccountRole.STRIPE_CLEARING if refund.method == "card" else AccountRole.BANK
    ledger_post(
        event="refund.issued",
        document_type="refund",
        document_id=refund.pk,
        currency=refund.currency,
        posted_at=refund.created_at,
        postings=[
            Posting(AccountRole.REFUNDS_PAYABLE, refund.amount, refund.tenant_id),
            Posting(cash, -refund.amount),
        ],
        now=now,
    )


def _mirror_refund(refund_id: str) -> None:
    try:
        data = stripe_gateway.raw_object("refund", refund_id)
    except Exception as exc:
        mirror._record_failure(object_type="refund", stripe_id=refund_id, source="refund", exc=exc)
        return
    mirror.mirror_object("refund", data, source="refund")
