"""Payment method writes: cards attached to the tenant's Stripe customer.

Stripe is called through `billing_project.shared.stripe_gateway` with idempotency keys made from
our ids; our rows change only after Stripe said yes, inside one transaction that holds the
tenant's row lock, so an error answer means nothing was stored. The dj-stripe mirror runs after
commit and never fails the request.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import transaction

from billing_project.shared import stripe_gateway
from billing_project.shared.dispatch import dispatch_after_commit
from billing_project.shared.errors import (
    Conflict,
    DependencyUnavailable,
    NotFound,
    ValidationFailed,
)
from subscriptions import stripe_mirror
from subscriptions.models import PaymentMethod, Tenant

log = logging.getLogger(__name__)

NEW_DEFAULT_CARD_TASK = "dunning.retry_for_tenant"
FIELD = "stripe_payment_method_id"
_PM_ID = re.compile(r"^[A-Za-z0-9_]{3,255}$")


def card_payments_require() -> None:
    """409 when no Stripe key is configured: the deployment collects manually."""
    if not stripe_gateway.is_configured():
        raise Conflict(
            "Card payments are disabled: this deployment collects payments manually "
            "(no Stripe key configured).",
            code="card_payments_disabled",
        )


@contextmanager
def _stripe_errors(*, field: str = FIELD) -> Iterator[None]:
    """Gateway errors as API errors: 503 when Stripe is down, 400 when it refuses the card."""
    try:
        yield
    except stripe_gateway.StripeNotConfigured:
        card_payments_require()
        raise
    except stripe_gateway.StripeUnavailable as exc:
        raise DependencyUnavailable(
            f"Stripe is unavailable; nothing was changed. ({exc.message})",
            code="stripe_unavailable",
        ) from exc
    except stripe_gateway.StripeCardError as exc:
        message = exc.message or "The card was declined."
        raise ValidationFailed(message, code="card_declined", errors={field: [message]}) from exc
    except stripe_gateway.StripeInvalidRequest as exc:
        message = f"Stripe refused this payment method: {exc.message}"
        raise ValidationFailed(
            message, code="payment_method_invalid", errors={field: [message]}
        ) from exc


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="payment_method_invalid", errors={FIELD: [message]})


def clean_stripe_payment_method_id(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(
            f"{FIELD} is required.", errors={FIELD: ["A Stripe payment method id is required."]}
        )
    value = value.strip()
    if not _PM_ID.match(value):
        raise ValidationFailed(
            f"{FIELD} is not a Stripe id.",
            errors={FIELD: ["Must be a Stripe payment method id such as pm_..."]},
        )
    return value


def _locked(tenant: Tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


def _ensure_customer(tenant: Tenant) -> str:
    """The tenant's Stripe customer, created when it has none (the caller holds the lock)."""
    if tenant.stripe_customer_id:
        return tenant.stripe_customer_id
    with _stripe_errors():
        customer = stripe_gateway.customer_create(
            tenant_id=str(tenant.id), name=tenant.name, email=tenant.email
        )
    tenant.stripe_customer_id = customer.id
    tenant.save(update_fields=["stripe_customer_id"])
    return customer.id


def _default_key(*, tenant: Tenant, payment_method_id, now: datetime) -> str:
    # The moment is part of the key: setting A, then B, then A again must reach Stripe three times.
    return f"tenant:{tenant.id}:default_payment_method:{payment_method_id}:{now.isoformat()}"


def _set_default_at_stripe(*, tenant: Tenant, customer_id: str, pm: str, row_id, now) -> None:
    with _stripe_errors():
        stripe_gateway.customer_set_default_payment_method(
            customer_id=customer_id,
            pm_id=pm,
            idempotency_key=_default_key(tenant=tenant, payment_method_id=row_id, now=now),
        )


def _mirror_after_commit(*, customer_id: str, payment_method_id: str) -> None:
    transaction.on_commit(
        lambda: stripe_mirror.mirror_customer_and_payment_method(
            customer_id=customer_id, payment_method_id=payment_method_id
        )
    )


def payment_method_attach_for_tenant(
    *, tenant: Tenant, stripe_payment_method_id: str, make_default: bool, now: datetime
) -> PaymentMethod:
    """Attach a Stripe payment method (`pm_...`) to the tenant's customer and store it.

    The tenant's first payment method becomes its default, as does any with `make_default`
    (also on the Stripe customer, `invoice_settings.default_payment_method`). Attaching one that
    is already the tenant's returns it unchanged (made default if asked).
    """
    card_payments_require()
    pm_id = clean_stripe_payment_method_id(stripe_payment_method_id)
    with transaction.atomic():
        tenant = _locked(tenant)
        existing = PaymentMethod.objects.filter(stripe_payment_method_id=pm_id).first()
        if existing is not None:
            if existing.tenant_id != tenant.pk:
                # Another tenant's card: 404 as for any other tenant's object (a 400 saying
                # whose it is would confirm it exists).
                raise NotFound("Payment method not found.")
            if make_default and not existing.is_default:
                return payment_method_set_default(payment_method=existing, now=now)
            return existing

        customer_id = _ensure_customer(tenant)
        with _stripe_errors():
            found = stripe_gateway.payment_method_retrieve(pm_id)
        if found.type != "card":
            raise _invalid(f"Only card payment methods are accepted, not {found.type!r}.")
        if found.customer and found.customer != customer_id:
            raise NotFound("Payment method not found.")

        row_id = uuid.uuid4()
        with _stripe_errors():
            attached = stripe_gateway.payment_method_attach(
                pm_id=pm_id,
                customer_id=customer_id,
                idempotency_key=f"payment_method:{row_id}:attach",
            )
        # Test tokens (pm_card_visa) attach as a new payment method with its own id.
        twin = PaymentMethod.objects.filter(stripe_payment_method_id=attached.id).first()
        if twin is not None and twin.tenant_id == tenant.pk:
            return twin
        if twin is not None:
            raise NotFound("Payment method not found.")

        is_default = make_default or not PaymentMethod.objects.filter(tenant=tenant).exists()
        if is_default:
            try:
                _set_default_at_stripe(
                    tenant=tenant, customer_id=customer_id, pm=attached.id, row_id=row_id, now=now
                )
            except Exception:
                _detach_quietly(pm_id=attached.id, row_id=row_id)
                raise
            PaymentMethod.objects.filter(tenant=tenant, is_default=True).update(is_default=False)
        payment_method = PaymentMethod.objects.create(
            id=row_id,
            tenant=tenant,
            stripe_payment_method_id=attached.id,
            type=attached.type or "card",
            brand=attached.brand[:30],
            last4=attached.last4[:4],
            exp_month=attached.exp_month,
            exp_year=attached.exp_year,
            is_default=is_default,
            created_at=now,
        )
        _mirror_after_commit(customer_id=customer_id, payment_method_id=attached.id)
        if is_default:
            _announce_new_default(payment_method)
    return payment_method


def payment_method_resolve(
    *, tenant: Tenant, ref, now: datetime, attach: bool = False, make_default: bool = False
) -> PaymentMethod | None:
    """The tenant's payment method named by `ref`: a Stripe `pm_...` id or our id (a UUID,
    else 400). With `attach`, a `pm_...` the tenant does not have yet is attached to its
    customer (and one that is, made its default when `make_default`), as
    `payment_method_attach_for_tenant` does. None when the tenant has no such method."""
    text = str(ref)
    if text.startswith("pm_"):
        found = PaymentMethod.objects.filter(tenant=tenant, stripe_payment_method_id=text).first()
        if attach and (found is None or make_default):
            return payment_method_attach_for_tenant(
                tenant=tenant, stripe_payment_method_id=text, make_default=make_default, now=now
            )
        return found
    try:
        method_id = uuid.UUID(text)
    except ValueError:
        raise ValidationFailed(
            "payment_method_id must be a UUID.",
            errors={"payment_method_id": ["Must be a valid UUID."]},
        ) from None
    return PaymentMethod.objects.filter(tenant=tenant, pk=method_id).first()


def payment_method_create(
    *, tenant: Tenant, stripe_payment_method_id: str, now: datetime
) -> PaymentMethod:
    """`POST payment-methods`: attach; the tenant's first method becomes its default."""
    return payment_method_attach_for_tenant(
        tenant=tenant,
        stripe_payment_method_id=stripe_payment_method_id,
        make_default=False,
        now=now,
    )


def _detach_quietly(*, pm_id: str, row_id) -> None:
    """Undo an attach whose follow-up failed; Stripe may well be down, so only log."""
    try:
        stripe_gateway.payment_method_detach(
            pm_id=pm_id, idempotency_key=f"payment_method:{row_id}:detach"
        )
    except stripe_gateway.StripeGatewayError:
        log.warning("Could not undo the attach of %s", pm_id, exc_info=True)


def _announce_new_default(payment_method: PaymentMethod) -> None:
    """News for dunning (above us), sent by task name after commit: a new default card retries
    the tenant's open dunning cases at once."""
    dispatch_after_commit(
        NEW_DEFAULT_CARD_TASK,
        tenant_id=str(payment_method.tenant_id),
        payment_method_id=str(payment_method.pk),
    )


def payment_method_set_default(*, payment_method: PaymentMethod, now: datetime) -> PaymentMethod:
    """Make this the tenant's default (ours and the Stripe customer's). Already default: no-op."""
    card_payments_require()
    with transaction.atomic():
        tenant = _locked(payment_method.tenant)
        payment_method = PaymentMethod.objects.filter(pk=payment_method.pk, tenant=tenant).first()
        if payment_method is None:
            raise NotFound("Payment method not found.")
        if payment_method.is_default:
            return payment_method
        customer_id = _ensure_customer(tenant)
        _set_default_at_stripe(
            tenant=tenant,
            customer_id=customer_id,
            pm=payment_method.stripe_payment_method_id,
            row_id=payment_method.pk,
            now=now,
        )
        PaymentMethod.objects.filter(tenant=tenant, is_default=True).update(is_default=False)
        payment_method.is_default = True
        payment_method.save(update_fields=["is_default"])
        _mirror_after_commit(customer_id=customer_id, payment_method_id="")
        _announce_new_default(payment_method)
    return payment_method


def payment_method_delete(*, payment_method: PaymentMethod, now: datetime) -> None:
    """Detach at Stripe and delete the row; a deleted default passes to the newest remaining."""
    card_payments_require()
    with transaction.atomic():
        tenant = _locked(payment_method.tenant)
        payment_method = PaymentMethod.objects.filter(pk=payment_method.pk, tenant=tenant).first()
        if payment_method is None:
            raise NotFound("Payment method not found.")
        successor = None
        if payment_method.is_default:
            successor = (
                PaymentMethod.objects.filter(tenant=tenant)
                .exclude(pk=payment_method.pk)
                .order_by("-created_at", "-id")
                .first()
            )
        if successor is not None and tenant.stripe_customer_id:
            # Promote first: if Stripe is down now, nothing has changed anywhere yet.
            _set_default_at_stripe(
                tenant=tenant,
                customer_id=tenant.stripe_customer_id,
                pm=successor.stripe_payment_method_id,
                row_id=successor.pk,
                now=now,
            )
        try:
            with _stripe_errors():
                stripe_gateway.payment_method_detach(
                    pm_id=payment_method.stripe_payment_method_id,
                    idempotency_key=f"payment_method:{payment_method.pk}:detach",
                )
        except ValidationFailed:
            # Already detached or gone at Stripe: the outcome holds, forget it here too.
            log.info("%s was no longer attached at Stripe", payment_method.stripe_payment_method_id)
        detached_id = payment_method.stripe_payment_method_id
        payment_method.delete()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])
        if tenant.stripe_customer_id:
            _mirror_after_commit(
                customer_id=tenant.stripe_customer_id, payment_method_id=detached_id
            )


def payment_method_sync_from_stripe(*, stripe_payment_method_id: str, now: datetime) -> str:
    """A webhook said a card was attached or detached: re-read it at Stripe and make our rows
    follow (add it to the tenant whose customer holds it, drop it when no tenant does).

    The tenant row is locked first, as the API's attach/delete do, so a webhook that arrives while
    our own attach is committing waits for it and then finds the row. Stripe unreachable raises
    (the webhook is retried). Returns what changed: added, updated, removed or unchanged.
    """
    pm_id = stripe_payment_method_id
    try:
        found = stripe_gateway.payment_method_retrieve(pm_id)
    except stripe_gateway.StripeInvalidRequest:
        found = None  # deleted at Stripe
    owner = None
    if found is not None and found.customer and found.type == "card":
        owner = Tenant.objects.filter(stripe_customer_id=found.customer).first()
    existing = PaymentMethod.objects.filter(stripe_payment_method_id=pm_id).first()
    if owner is None and existing is None:
        return "unchanged"
    with transaction.atomic():
        tenant = _locked(owner or existing.tenant)
        row = PaymentMethod.objects.filter(stripe_payment_method_id=pm_id).first()
        if owner is None or (row is not None and row.tenant_id != owner.pk):
            if row is None:
                return "unchanged"
            was_default = row.is_default
            tenant = _locked(row.tenant)
            row.delete()
            if was_default:
                successor = (
                    PaymentMethod.objects.filter(tenant=tenant)
                    .order_by("-created_at", "-id")
                    .first()
                )
                if successor is not None:
                    successor.is_default = True
                    successor.save(update_fields=["is_default"])
            if owner is None:
                return "removed"
            tenant = _locked(owner)
            row = None
        fields = {
            "type": found.type or "card",
            "brand": found.brand[:30],
            "last4": found.last4[:4],
            "exp_month": found.exp_month,
            "exp_year": found.exp_year,
        }
        if row is not None:
            for name, value in fields.items():
                setattr(row, name, value)
            row.save(update_fields=list(fields))
            return "updated"
        PaymentMethod.objects.create(
            tenant=tenant,
            stripe_payment_method_id=pm_id,
            is_default=not PaymentMethod.objects.filter(tenant=tenant, is_default=True).exists(),
            created_at=now,
            **fields,
        )
        return "added"
