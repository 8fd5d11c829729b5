"""The dj-stripe mirror for the objects the payment rail touches.

Customers and payment methods go through `subscriptions.stripe_mirror` (which knows their
ordering); PaymentIntents, charges, refunds, Stripe invoices and subscriptions are synced here
with dj-stripe's own `sync_from_stripe_data`, from raw dicts the gateway fetched or a webhook
carried. Referenced objects are synced first (customer, payment method, then the intent, then its
charge) so dj-stripe finds them in the database. A failure is logged and stored as a
`MirrorFailure` row (admin) and never fails the caller: billing does not depend on the mirror.
"""

from __future__ import annotations

import copy
import logging

from django.conf import settings
from django.db import transaction
from djstripe import models as djstripe_models

from billing_project.shared import stripe_gateway
from billing_project.shared.clock import utcnow
from payments.models import MirrorFailure
from subscriptions import stripe_mirror

log = logging.getLogger(__name__)

MODELS = {
    "customer": djstripe_models.Customer,
    "payment_method": djstripe_models.PaymentMethod,
    "payment_intent": djstripe_models.PaymentIntent,
    "charge": djstripe_models.Charge,
    "refund": djstripe_models.Refund,
    "invoice": djstripe_models.Invoice,
    "subscription": djstripe_models.Subscription,
}


def _record_failure(*, object_type: str, stripe_id: str, source: str, exc: BaseException) -> None:
    log.warning("dj-stripe mirror failed for %s %s", object_type, stripe_id, exc_info=exc)
    try:
        MirrorFailure.objects.create(
            object_type=object_type,
            stripe_id=stripe_id or "",
            source=source[:100],
            error=f"{type(exc).__name__}: {exc}"[:4000],
            at=utcnow(),
        )
    except Exception:  # the database itself failed: the log line above is all we have
        log.exception("could not record a mirror failure")


def mirror_failure_count() -> int:
    return MirrorFailure.objects.count()


def _for_djstripe(kind: str, data: dict) -> dict:
    data = copy.deepcopy(data)
    if kind == "invoice" and isinstance(data.get("lines"), dict):
        # dj-stripe 2.11's Invoice post-save hook iterates `data["lines"]` as a list of line
        # items, while Stripe sends a list *object* ({"object": "list", "data": [...]}).
        data["lines"] = list(data["lines"].get("data") or [])
    return data


def mirror_object(kind: str, data: dict, *, source: str = "") -> bool:
    """Sync one raw Stripe object (a dict) into its dj-stripe table. Never raises."""
    stripe_id = str((data or {}).get("id") or "")
    try:
        model = MODELS[kind]
        api_key = settings.STRIPE_SECRET_KEY
        with transaction.atomic():
            stripe_mirror._owner_account(api_key)
            model.sync_from_stripe_data(_for_djstripe(kind, data), api_key=api_key)
    except Exception as exc:
        _record_failure(object_type=kind, stripe_id=stripe_id, source=source, exc=exc)
        return False
    return True


def _id_of(value) -> str:
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def mirror_payment_intent(data: dict, *, source: str = "") -> bool:
    """The intent's customer and payment method first, then the intent, then its latest charge.
    `data` is the intent as Stripe returned it; the charge is fetched when only named."""
    ok = True
    customer_id = _id_of(data.get("customer"))
    pm_id = _id_of(data.get("payment_method"))
    if customer_id or pm_id:
        try:
            customer = stripe_gateway.raw_object("customer", customer_id) if customer_id else None
            pms = [stripe_gateway.raw_object("payment_method", pm_id)] if pm_id else []
        except Exception as exc:
            _record_failure(object_type="customer", stripe_id=customer_id, source=source, exc=exc)
            customer, pms = None, []
            ok = False
        if (customer is not None or pms) and not stripe_mirror.mirror_stripe_objects(
            customer=customer, payment_methods=pms
        ):
            _record_failure(
                object_type="customer",
                stripe_id=customer_id,
                source=source,
                exc=RuntimeError("subscriptions.stripe_mirror failed (see its log)"),
            )
            ok = False
    ok = mirror_object("payment_intent", data, source=source) and ok
    charge = data.get("latest_charge")
    if charge:
        try:
            charge_data = (
                charge if isinstance(charge, dict) else stripe_gateway.raw_object("charge", charge)
            )
        except Exception as exc:
            _record_failure(object_type="charge", stripe_id=_id_of(charge), source=source, exc=exc)
            return False
        ok = mirror_object("charge", charge_data, source=source) and ok
    return ok


def mirror_payment_intent_by_id(pi_id: str, *, source: str = "") -> bool:
    """Fetch the intent from Stripe and mirror it (after a charge). Never raises."""
    try:
        data = stripe_gateway.raw_object("payment_intent", pi_id)
    except Exception as exc:
        _record_failure(object_type="payment_intent", stripe_id=pi_id, source=source, exc=exc)
        return False
    return mirror_payment_intent(data, source=source)
