"""The Stripe webhook inbox: verify, store once, process after commit, idempotently.

`stripe_signature_verify` checks `Stripe-Signature` (`t=...,v1=...[,v1=...]`): HMAC-SHA256 of
`{t}.{raw body}` with STRIPE_WEBHOOK_SECRET, any `v1` may match (secret rotation), compared with
`hmac.compare_digest`, and `t` within 300 s of now either way. `webhook_event_receive` stores the
verified event by its Stripe id (unique) and, only when it is new, dispatches
`payments.process_webhook_event` after commit.

Processing re-reads the state instead of trusting the event's order: a PaymentIntent is fetched
from Stripe (unknown there: no effect) and applied to its attempt; payment methods are re-read
and our rows follow. A failed handler is retried with back-off (`next_attempt_at`, swept by
`payments.process_pending_webhooks`); after MAX_ATTEMPTS the event stays `failed` with its error
(admin: "reprocess"). Types we do not handle are stored and marked `ignored`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import traceback
from datetime import datetime, timedelta

from django.db import transaction

from billing_project.shared import metrics, stripe_gateway
from billing_project.shared.dispatch import dispatch_task
from payments import mirror
from payments.models import WebhookEvent, WebhookEventStatus
from payments.services import collection
from subscriptions import stripe_mirror
from subscriptions.services.payment_methods import payment_method_sync_from_stripe

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
MAX_ATTEMPTS = 5
RETRY_DELAYS = (30, 120, 600, 1800)  # after the 1st, 2nd, 3rd, 4th failure
SWEEP_GRACE = timedelta(minutes=2)  # a stored event not processed by then is picked by the sweep


class SignatureError(Exception):
    pass


def stripe_signature_verify(*, payload: bytes, header: str, secret: str, now: float) -> int:
    """Raise SignatureError unless one `v1` signature matches within the tolerance."""
    if not header:
        raise SignatureError("Missing Stripe-Signature header.")
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit():
        raise SignatureError("Stripe-Signature has no valid timestamp.")
    if not signatures:
        raise SignatureError("Stripe-Signature has no v1 signature.")
    stamp = int(timestamp)
    if abs(now - stamp) > TOLERANCE_SECONDS:
        raise SignatureError("Stripe-Signature timestamp is outside the tolerance.")
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("No signature matches the payload.")
    return stamp


def webhook_event_receive(*, event: dict, now: datetime) -> tuple[WebhookEvent, bool]:
    """Store a verified event once by its id; dispatch its processing if it is new.

    One `INSERT ... ON CONFLICT DO NOTHING` in autocommit (the unique stripe_id decides), then
    a primary-key probe to learn whether this request stored it: two short round trips, no
    transaction block, so the endpoint stays fast.
    """
    row = WebhookEvent(
        stripe_id=event["id"],
        type=event["type"][:100],
        livemode=bool(event.get("livemode")),
        payload=event,
        received_at=now,
        next_attempt_at=now + SWEEP_GRACE,
    )
    WebhookEvent.objects.bulk_create([row], ignore_conflicts=True)
    created = WebhookEvent.objects.filter(pk=row.pk).exists()
    metrics.inc(
        metrics.WEBHOOK_EVENTS_RECEIVED, type=row.type, duplicate="no" if created else "yes"
    )
    if not created:
        return WebhookEvent.objects.get(stripe_id=event["id"]), False
    event_id = str(row.pk)
    # In autocommit this runs at once; inside a caller's transaction, after its commit.
    transaction.on_commit(
        lambda: dispatch_task("payments.process_webhook_event", event_id=event_id), robust=True
    )
    return row, True


# --- handlers: each returns a short result text; raising means "try again later" ------------


def _object_of(event: WebhookEvent) -> dict:
    data = (event.payload or {}).get("data") or {}
    obj = data.get("object") or {}
    return obj if isinstance(obj, dict) else {}


def _handle_payment_intent(event: WebhookEvent, now: datetime) -> str:
    pi_id = _object_of(event).get("id") or ""
    if not pi_id:
        return "no payment intent id"
    try:
        raw = stripe_gateway.raw_object("payment_intent", pi_id)
    except stripe_gateway.StripeInvalidRequest:
        return f"{pi_id} is unknown at Stripe: no effect"
    state = collection.IntentState.from_raw(raw)
    attempt = collection.attempt_apply_intent(state=state, now=now)
    mirror.mirror_payment_intent(raw, source=event.type)
    if attempt is None:
        return f"{pi_id} ({state.status}) matches no attempt"
    return f"{pi_id} ({state.status}) -> attempt {attempt.number} {attempt.status}"


def _handle_payment_method(event: WebhookEvent, now: datetime) -> str:
    obj = _object_of(event)
    pm_id = obj.get("id") or ""
    if not pm_id:
        return "no payment method id"
    change = payment_method_sync_from_stripe(stripe_payment_method_id=pm_id, now=now)
    customer = obj.get("customer")
    customer_id = customer.get("id") if isinstance(customer, dict) else customer
    if customer_id and not stripe_mirror.mirror_customer_and_payment_method(
        customer_id=customer_id,
        payment_method_id=pm_id if event.type.endswith("attached") else "",
    ):
        mirror._record_failure(
            object_type="customer",
            stripe_id=customer_id,
            source=event.type,
            exc=RuntimeError("subscriptions.stripe_mirror failed (see its log)"),
        )
    return f"{pm_id}: {change}"


def _handle_customer(event: WebhookEvent, now: datetime) -> str:
    customer_id = _object_of(event).get("id") or ""
    try:
        raw = stripe_gateway.raw_object("customer", customer_id)
    except stripe_gateway.StripeInvalidRequest:
        return f"{customer_id} is unknown at Stripe: no effect"
    ok = mirror.mirror_object("customer", raw, source=event.type)
    return f"{customer_id} mirrored" if ok else f"{customer_id}: mirror failed"


def _mirror_payload(kind: str):
    def handle(event: WebhookEvent, now: datetime) -> str:
        obj = _object_of(event)
        ok = mirror.mirror_object(kind, obj, source=event.type)
        return f"{obj.get('id', '')} mirrored" if ok else f"{obj.get('id', '')}: mirror failed"

    return handle


HANDLERS = {
    "payment_intent.succeeded": _handle_payment_intent,
    "payment_intent.payment_failed": _handle_payment_intent,
    # Stripe-hosted invoices: mirrored (the event row is the record; our invoices are ours).
    "invoice.payment_succeeded": _mirror_payload("invoice"),
    "invoice.payment_failed": _mirror_payload("invoice"),
    "customer.subscription.created": _mirror_payload("subscription"),
    "customer.subscription.updated": _mirror_payload("subscription"),
    "customer.subscription.deleted": _mirror_payload("subscription"),
    "payment_method.attached": _handle_payment_method,
    "payment_method.detached": _handle_payment_method,
    "customer.updated": _handle_customer,
}


def webhook_event_process(*, event_id, now: datetime, force: bool = False) -> WebhookEvent:
    """Run the event's handler once (`force`: again, e.g. the admin's reprocess). The outcome
    is counted (Prometheus) once its transaction committed."""
    counts: list = []
    event = _webhook_event_process(event_id=event_id, now=now, force=force, counts=counts)
    for metric, labels in counts:
        metrics.inc(metric, type=event.type, **labels)
    return event


def _webhook_event_process(*, event_id, now: datetime, force: bool, counts: list) -> WebhookEvent:
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None:  # being processed elsewhere
            return WebhookEvent.objects.get(pk=event_id)
        if not force and event.status != WebhookEventStatus.PENDING:
            return event
        handler = HANDLERS.get(event.type)
        if handler is None:
            event.status = WebhookEventStatus.IGNORED
            event.result = "type not handled: stored and acknowledged"
            event.processed_at = now
            event.next_attempt_at = None
            event.save()
            counts.append((metrics.WEBHOOK_EVENTS_PROCESSED, {"result": "ignored"}))
            return event
        event.attempts += 1
        try:
            with transaction.atomic():
                result = handler(event, now)
        except Exception as exc:
            log.warning("webhook %s (%s) failed", event.stripe_id, event.type, exc_info=True)
            event.last_error = "".join(traceback.format_exception(exc))[-8000:]
            if event.attempts >= MAX_ATTEMPTS:
                event.status = WebhookEventStatus.FAILED
                event.next_attempt_at = None
            else:
                event.status = WebhookEventStatus.PENDING
                delay = RETRY_DELAYS[min(event.attempts - 1, len(RETRY_DELAYS) - 1)]
                event.next_attempt_at = now + timedelta(seconds=delay)
            final = "yes" if event.status == WebhookEventStatus.FAILED else "no"
            counts.append((metrics.WEBHOOK_EVENTS_FAILED, {"final": final}))
        else:
            event.status = WebhookEventStatus.PROCESSED
            event.result = (result or "")[:500]
            event.last_error = ""
            event.processed_at = now
            event.next_attempt_at = None
            counts.append((metrics.WEBHOOK_EVENTS_PROCESSED, {"result": "handled"}))
        event.save()
        return event


def webhook_events_sweep(*, now: datetime, limit: int = 200) -> int:
    """Process pending events whose `next_attempt_at` has come (retries, lost dispatches)."""
    ids = list(
        WebhookEvent.objects.filter(status=WebhookEventStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    for event_id in ids:
        try:
            webhook_event_process(event_id=event_id, now=now)
        except Exception:
            log.exception("processing webhook event %s failed", event_id)
    return len(ids)


def webhook_event_reprocess(*, event_id, now: datetime) -> WebhookEvent:
    """Admin action: run a failed (or any) event's handler again, with a fresh attempt count."""
    WebhookEvent.objects.filter(pk=event_id).update(
        status=WebhookEventStatus.PENDING, attempts=0, next_attempt_at=now
    )
    return webhook_event_process(event_id=event_id, now=now, force=True)
