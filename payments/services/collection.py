"""Collecting an invoice through Stripe: one PaymentAttempt per charge.

The flow, built so a crash can never charge twice:
1. `_attempt_open` (one transaction, invoice row locked): checks the invoice, the card and the
   configuration, and inserts the attempt `pending` (number n, `next_retry_at` = now + 5 min as
   crash recovery). It commits before Stripe is called.
2. `attempt_charge` (a second transaction, the attempt row locked with SKIP LOCKED so two
   workers never charge the same attempt): with a stored PaymentIntent id it re-reads that
   intent; otherwise it creates one with the idempotency key `invoice:{id}:attempt:{n}` (a
   re-send of the same attempt uses the same key, which Stripe answers with the first intent).
3. The answer is applied: `succeeded` pays the invoice (invoicing's payment service, method
   `card`, reference = the intent id) and sends a receipt; a decline fails the attempt (the fact
   dunning reads) and sends one "payment failed" email; Stripe unreachable or rate-limited keeps
   it `pending` with `next_retry_at` (exponential back-off), for `payments.retry_pending`.

Webhooks (`payment_intent.*`) end in the same `attempt_apply_intent`, after re-reading the intent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q

from billing_project.shared import metrics, stripe_gateway
from billing_project.shared.dispatch import dispatch_after_commit
from billing_project.shared.errors import BillingError, Conflict, NotFound
from invoicing.models import Invoice, InvoiceStatus
from invoicing.services import lifecycle
from invoicing.services.locking import invoice_lock
from payments import mirror
from payments.models import PaymentAttempt, PaymentAttemptStatus, PaymentAttemptTrigger
from payments.services import notifications
from subscriptions.models import PaymentMethod
from subscriptions.services.payment_methods import payment_method_resolve

log = logging.getLogger(__name__)

CRASH_RECOVERY = timedelta(minutes=5)
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 3600
COLLECTABLE = (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE)
FAILED_INTENT_STATUSES = ("requires_payment_method", "canceled")
PAYMENT_FAILED_TASK = "dunning.payment_failed"


def retry_delay(retries: int) -> timedelta:
    """1 min, 2, 4, 8 ... capped at 1 h."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(retries, 0), RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class IntentState:
    """What Stripe says about a PaymentIntent, from a raw dict or the gateway's dataclass."""

    id: str
    status: str
    amount: int = 0
    charge_id: str = ""
    failure_code: str = ""
    decline_code: str = ""
    failure_message: str = ""
    metadata: dict = field(default_factory=dict)
    raw: dict | None = None

    @classmethod
    def from_raw(cls, data: dict) -> IntentState:
        error = data.get("last_payment_error") or {}
        charge = data.get("latest_charge") or ""
        charge_id = charge.get("id", "") if isinstance(charge, dict) else charge
        if not charge_id:
            charges = (data.get("charges") or {}).get("data") or []  # older API versions
            charge_id = charges[0].get("id", "") if charges else ""
        return cls(
            id=data["id"],
            status=data.get("status") or "",
            amount=int(data.get("amount") or 0),
            charge_id=charge_id or error.get("charge") or "",
            failure_code=error.get("code") or "",
            decline_code=error.get("decline_code") or error.get("code") or "",
            failure_message=error.get("message") or "",
            metadata=dict(data.get("metadata") or {}),
            raw=data,
        )

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> bool:
        return self.status in FAILED_INTENT_STATUSES and bool(
            self.failure_code or self.status == "canceled"
        )


# --- opening an attempt -----------------------------------------------------------------------


def _payment_method_for(*, tenant, payment_method_id, now: datetime) -> PaymentMethod | None:
    if payment_method_id:
        return payment_method_resolve(tenant=tenant, ref=payment_method_id, now=now)
    return PaymentMethod.objects.filter(tenant=tenant, is_default=True).first()


def _attempt_open(
    *, invoice_id, now: datetime, trigger: str, payment_method_id=None, strict: bool
) -> PaymentAttempt | None:
    def refuse(exc: Conflict):
        if strict:
            raise exc
        return None

    with transaction.atomic():
        invoice = invoice_lock(invoice_id=invoice_id)
        if invoice.status == InvoiceStatus.PAID:
            return None
        if invoice.status not in COLLECTABLE:
            return refuse(
                Conflict(
                    f"Cannot pay an invoice whose status is {invoice.status}.",
                    code="invalid_invoice_status",
                )
            )
        if invoice.amount_due <= 0:
            return None
        pending = PaymentAttempt.objects.filter(
            invoice=invoice, status=PaymentAttemptStatus.PENDING
        ).first()
        if pending is not None:
            return pending  # resolve the charge in flight; never open a second one
        if (
            trigger == PaymentAttemptTrigger.AUTO
            and PaymentAttempt.objects.filter(invoice=invoice).exists()
        ):
            return None  # the finalization task ran twice
        if not stripe_gateway.is_configured():
            return refuse(
                Conflict(
                    "Card payments are disabled: this deployment collects payments manually.",
                    code="card_payments_disabled",
                )
            )
        tenant = invoice.tenant
        method = _payment_method_for(tenant=tenant, payment_method_id=payment_method_id, now=now)
        if method is None or not tenant.stripe_customer_id:
            return refuse(
                Conflict(
                    "No card to charge: add a payment method (POST payment-methods) or pay by "
                    "transfer.",
                    code="no_payment_method",
                )
            )
        number = (
            PaymentAttempt.objects.filter(invoice=invoice).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        return PaymentAttempt.objects.create(
            invoice=invoice,
            tenant=tenant,
            number=number,
            amount=invoice.amount_due,
            currency=invoice.currency,
            status=PaymentAttemptStatus.PENDING,
            trigger=trigger,
            stripe_customer_id=tenant.stripe_customer_id,
            stripe_payment_method_id=method.stripe_payment_method_id,
            next_retry_at=now + CRASH_RECOVERY,
            created_at=now,
            updated_at=now,
        )


def invoices_collectable(*, invoice_ids) -> set:
    """The invoices among `invoice_ids` for which `invoice_collect` (no payment method given,
    not strict) would open or resolve an attempt now; for the others it returns None without
    writing anything. `_attempt_open`'s checks in its order, for many invoices in one query
    (dunning skips the per-invoice call when no charge is possible: manual collection, no
    card)."""
    ids = list(invoice_ids)
    if not ids:
        return set()
    pending = PaymentAttempt.objects.filter(
        invoice_id=OuterRef("pk"), status=PaymentAttemptStatus.PENDING
    )
    chargeable = Q(Exists(pending))
    if stripe_gateway.is_configured():
        card = PaymentMethod.objects.filter(tenant_id=OuterRef("tenant_id"), is_default=True)
        chargeable |= Q(Exists(card)) & ~Q(tenant__stripe_customer_id="")
    return set(
        Invoice.objects.filter(
            chargeable, pk__in=ids, status__in=COLLECTABLE, amount_due__gt=0
        ).values_list("pk", flat=True)
    )


def invoice_collect(
    *,
    invoice_id,
    now: datetime,
    trigger: str = PaymentAttemptTrigger.AUTO,
    payment_method_id=None,
    strict: bool = False,
) -> PaymentAttempt | None:
    """Charge the invoice's amount due to the tenant's default card (or the given one).

    `strict` (the API): a state that forbids it raises Conflict (409); otherwise (the task run
    at finalization) it quietly does nothing. A pending attempt is resolved, not doubled.
    """
    attempt = _attempt_open(
        invoice_id=invoice_id,
        now=now,
        trigger=trigger,
        payment_method_id=payment_method_id,
        strict=strict,
    )
    if attempt is None:
        return None
    return attempt_charge(attempt_id=attempt.pk, now=now)


def invoice_pay(*, invoice, payment_method_ref=None, now: datetime) -> PaymentAttempt | None:
    """`POST invoices/{id}/pay`: charge now, strictly (a state that forbids it is a 409).
    `payment_method_ref` (our id or a Stripe pm_... id; the default card when absent): a
    `pm_...` the tenant does not have yet is attached first (not as its default), but only
    while the invoice can still be collected."""
    payment_method_id = payment_method_ref or None
    if payment_method_id:
        method = payment_method_resolve(
            tenant=invoice.tenant,
            ref=payment_method_id,
            now=now,
            attach=invoice.status in COLLECTABLE,
        )
        if method is None and invoice.status in COLLECTABLE:
            # Not one of the tenant's cards (another tenant's, or none): 404, not 409 "no card".
            raise NotFound("Payment method not found.")
        if method is not None:
            payment_method_id = method.pk
    return invoice_collect(
        invoice_id=invoice.pk,
        now=now,
        trigger=PaymentAttemptTrigger.PAY,
        payment_method_id=payment_method_id,
        strict=True,
    )


# --- charging ---------------------------------------------------------------------------------


def _read_intent(pi_id: str) -> IntentState:
    return IntentState.from_raw(stripe_gateway.raw_object("payment_intent", pi_id))


def _create_intent(attempt: PaymentAttempt) -> IntentState:
    created = stripe_gateway.payment_intent_create(
        amount=attempt.amount,
        currency=attempt.currency,
        customer_id=attempt.stripe_customer_id,
        pm_id=attempt.stripe_payment_method_id,
        metadata={
            "invoice_id": str(attempt.invoice_id),
            "invoice_number": attempt.invoice.number or "",
            "attempt": str(attempt.number),
            "tenant_id": str(attempt.tenant_id),
        },
        idempotency_key=attempt.idempotency_key,
    )
    try:  # the charge id and the full object (for the mirror)
        return _read_intent(created.id)
    except stripe_gateway.StripeGatewayError:
        return IntentState(
            id=created.id,
            status=created.status,
            amount=created.amount,
            failure_code=created.last_error_code,
            decline_code=created.decline_code,
            failure_message=created.error_message,
        )


def attempt_charge(*, attempt_id, now: datetime) -> PaymentAttempt:
    """Send (or re-read) the charge of a pending attempt and apply Stripe's answer."""
    with transaction.atomic():
        attempt = (
            PaymentAttempt.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invoice")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None:  # another worker is charging it right now
            return PaymentAttempt.objects.get(pk=attempt_id)
        if attempt.status != PaymentAttemptStatus.PENDING:
            return attempt
        if not attempt.stripe_payment_intent_id and attempt.invoice.status not in COLLECTABLE:
            # Paid (e.g. by transfer) or voided while the charge waited: never send it.
            return _fail(
                attempt,
                code="invoice_not_collectable",
                decline_code="",
                message=f"The invoice became {attempt.invoice.status} before the charge was sent.",
                now=now,
                notify=False,
            )
        try:
            if attempt.stripe_payment_intent_id:
                state = _read_intent(attempt.stripe_payment_intent_id)
            else:
                state = _create_intent(attempt)
        except stripe_gateway.StripeCardError as exc:
            if exc.payment_intent_id:
                attempt.stripe_payment_intent_id = exc.payment_intent_id
            return _fail(
                attempt,
                code=exc.code or "card_declined",
                decline_code=exc.decline_code,
                message=exc.message,
                now=now,
            )
        except stripe_gateway.StripeInvalidRequest as exc:
            return _fail(
                attempt,
                code=exc.code or "invalid_request",
                decline_code="",
                message=exc.message,
                now=now,
            )
        except (stripe_gateway.StripeUnavailable, stripe_gateway.StripeNotConfigured) as exc:
            return _postpone(attempt, error=str(exc), now=now)
        attempt = _apply(attempt, state, now=now)
    if attempt.stripe_payment_intent_id:
        _mirror_after(state)
    return attempt


def _mirror_after(state: IntentState) -> None:
    if state.raw is not None:
        mirror.mirror_payment_intent(state.raw, source="charge")
    else:
        mirror.mirror_payment_intent_by_id(state.id, source="charge")


def _postpone(attempt: PaymentAttempt, *, error: str, now: datetime) -> PaymentAttempt:
    attempt.next_retry_at = now + retry_delay(attempt.retries)
    attempt.retries += 1
    attempt.last_error = error[:2000]
    attempt.updated_at = now
    attempt.save(update_fields=["next_retry_at", "retries", "last_error", "updated_at"])
    metrics.inc(metrics.PAYMENT_ATTEMPTS, outcome="postponed")
    return attempt


def _fail(
    attempt: PaymentAttempt,
    *,
    code: str,
    decline_code: str,
    message: str,
    now: datetime,
    notify: bool = True,
) -> PaymentAttempt:
    attempt.status = PaymentAttemptStatus.FAILED
    attempt.failure_code = code[:100]
    attempt.decline_code = (decline_code or "")[:100]
    attempt.failure_message = message or ""
    attempt.next_retry_at = None
    attempt.updated_at = now
    attempt.save()
    if code == "invoice_not_collectable":
        metrics.inc(metrics.PAYMENT_ATTEMPTS, outcome="not_collectable")
        return attempt
    metrics.inc(metrics.PAYMENT_ATTEMPTS, outcome="failed")
    # News for dunning (above us): a failed collection opens its case (day 0) at once.
    dispatch_after_commit(PAYMENT_FAILED_TASK, invoice_id=str(attempt.invoice_id))
    # Dunning's own retries are announced by its step notice (one email per dunning day).
    if notify and attempt.trigger != PaymentAttemptTrigger.DUNNING:
        attempt_id = attempt.pk
        transaction.on_commit(
            lambda: notifications.payment_failed_notify(attempt_id=attempt_id, now=now)
        )
    return attempt


def _succeed(attempt: PaymentAttempt, state: IntentState, *, now: datetime) -> PaymentAttempt:
    was_failed = attempt.status == PaymentAttemptStatus.FAILED
    attempt.status = PaymentAttemptStatus.SUCCEEDED
    attempt.stripe_payment_intent_id = state.id
    attempt.stripe_charge_id = state.charge_id or attempt.stripe_charge_id
    attempt.next_retry_at = None
    attempt.updated_at = now
    attempt.save()
    metrics.inc(metrics.PAYMENT_ATTEMPTS, outcome="succeeded")
    if was_failed:
        log.warning("attempt %s was failed but Stripe says its intent succeeded", attempt.pk)
    invoice = invoice_lock(invoice_id=attempt.invoice_id)
    amount = min(attempt.amount, invoice.amount_due)
    if invoice.status in COLLECTABLE and amount > 0:
        try:
            with transaction.atomic():
                lifecycle.invoice_payment_record(
                    invoice_id=invoice.pk,
                    amount=amount,
                    method="card",
                    reference=state.id,
                    paid_on=now.date(),
                    now=now,
                    actor="stripe",
                )
        except BillingError as exc:
            log.error("card payment %s could not be recorded: %s", state.id, exc.message)
            attempt.last_error = f"not recorded on the invoice: {exc.message}"
            attempt.save(update_fields=["last_error"])
    if amount != attempt.amount or invoice.status not in COLLECTABLE:
        log.error(
            "card payment %s of %s on invoice %s (status %s, due %s): refund the difference",
            state.id,
            attempt.amount,
            invoice.number,
            invoice.status,
            invoice.amount_due,
        )
    attempt_id = attempt.pk
    transaction.on_commit(lambda: notifications.receipt_send(attempt_id=attempt_id, now=now))
    return attempt


def _apply(attempt: PaymentAttempt, state: IntentState, *, now: datetime) -> PaymentAttempt:
    """Apply what Stripe says to an attempt whose row the caller holds locked."""
    if state.succeeded:
        if attempt.status == PaymentAttemptStatus.SUCCEEDED:
            return attempt
        return _succeed(attempt, state, now=now)
    if attempt.status != PaymentAttemptStatus.PENDING:
        if not attempt.stripe_payment_intent_id:  # e.g. a decline answered without the PI id
            attempt.stripe_payment_intent_id = state.id
            attempt.stripe_charge_id = attempt.stripe_charge_id or state.charge_id
            attempt.save(update_fields=["stripe_payment_intent_id", "stripe_charge_id"])
        return attempt  # a failed attempt stays failed; a new charge is a new attempt
    attempt.stripe_payment_intent_id = state.id
    attempt.stripe_charge_id = state.charge_id or attempt.stripe_charge_id
    if state.failed:
        return _fail(
            attempt,
            code=state.failure_code or state.status,
            decline_code=state.decline_code,
            message=state.failure_message,
            now=now,
        )
    # processing / requires_action: look again later.
    return _postpone(attempt, error=f"intent {state.id} is {state.status}", now=now)


def attempt_apply_intent(*, state: IntentState, now: datetime) -> PaymentAttempt | None:
    """A webhook's view of an intent (already re-read from Stripe) applied to its attempt,
    found by the stored intent id or by the metadata we sent (invoice id + attempt number)."""
    with transaction.atomic():
        attempts = PaymentAttempt.objects.select_for_update(of=("self",)).select_related("invoice")
        attempt = attempts.filter(stripe_payment_intent_id=state.id).first()
        if attempt is None:
            invoice_id = state.metadata.get("invoice_id")
            number = state.metadata.get("attempt")
            if not invoice_id or not str(number or "").isdigit():
                return None
            try:
                invoice_uuid = uuid.UUID(str(invoice_id))
            except ValueError:
                return None
            attempt = attempts.filter(invoice_id=invoice_uuid, number=int(number)).first()
            if attempt is None:
                return None
            if attempt.stripe_payment_intent_id and attempt.stripe_payment_intent_id != state.id:
                return None  # metadata copied onto another intent: not ours
        return _apply(attempt, state, now=now)


def retry_pending(*, now: datetime, limit: int = 500) -> int:
    """Resolve pending attempts whose `next_retry_at` has come (Stripe was down, or a crash)."""
    ids = list(
        PaymentAttempt.objects.filter(status=PaymentAttemptStatus.PENDING, next_retry_at__lte=now)
        .order_by("next_retry_at")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for attempt_id in ids:
        try:
            attempt = attempt_charge(attempt_id=attempt_id, now=now)
        except Exception:
            log.exception("retrying payment attempt %s failed", attempt_id)
            continue
        done += int(attempt.status != PaymentAttemptStatus.PENDING)
    return done
