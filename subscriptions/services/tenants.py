"""Tenant writes. The API and `manage.py create_tenant` both go through `tenant_create`."""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from billing_project.shared import stripe_gateway
from billing_project.shared.errors import (
    Conflict,
    DependencyUnavailable,
    NotFound,
    ValidationFailed,
    raise_if_invalid,
)
from subscriptions import validation
from subscriptions.models import Subscription, Tenant
from subscriptions.models.tenants import PaymentTerms
from subscriptions.services.hierarchies import (
    MAX_DEPTH,
    PARENT_PROBLEMS,
    parent_check,
    tenant_ancestor_ids,
)

TENANT_ADMIN_FIELDS = frozenset(
    {"email", "address_line1", "city", "country", "state", "postal_code", "vat_id"}
)
STAFF_FIELDS = TENANT_ADMIN_FIELDS | {
    "name",
    "timezone",
    "currency",
    "payment_terms",
    "tax_exempt",
    "tax_exempt_reason",
    "parent_id",
    "status",
    "service_level",
}
EMAIL_MAX_LENGTH = 254
_TEXT_LIMITS = {
    "name": 200,
    "address_line1": 200,
    "city": 100,
    "postal_code": 20,
    "tax_exempt_reason": 200,
}


def _clean(fields: dict, *, current: Tenant | None = None) -> dict:
    """Validate every given field; raises ValidationFailed listing each bad one."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def check(name, fn, *args):
        try:
            cleaned[name] = fn(*args)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))

    for name, limit in _TEXT_LIMITS.items():
        if name in fields:
            value = (fields[name] or "").strip()
            if name == "name" and not value:
                errors.setdefault(name, []).append("This field may not be blank.")
            elif len(value) > limit:
                errors.setdefault(name, []).append(f"At most {limit} characters.")
            cleaned[name] = value
    if "email" in fields:
        email = (fields["email"] or "").strip()
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.setdefault("email", []).append("Enter a valid email address.")
        else:
            # Django accepts up to 320 characters; the column (EmailField) holds 254.
            if len(email) > EMAIL_MAX_LENGTH:
                errors.setdefault("email", []).append(f"At most {EMAIL_MAX_LENGTH} characters.")
            cleaned["email"] = email
    if "country" in fields:
        check("country", validation.clean_country, fields["country"])
    country = cleaned.get("country") or (current.country if current else "")
    if "state" in fields or ("country" in cleaned and current and current.state):
        state = fields.get("state", current.state if current else "")
        if country:
            check("state", validation.clean_state, country, state)
    if "timezone" in fields:
        check("timezone", validation.clean_timezone, fields["timezone"] or "")
    if "currency" in fields:
        check("currency", validation.clean_currency, fields["currency"] or "")
    if "vat_id" in fields:
        check("vat_id", validation.clean_vat_id, country, fields["vat_id"] or "")
    if "payment_terms" in fields:
        if fields["payment_terms"] not in PaymentTerms.values:
            errors.setdefault("payment_terms", []).append(
                f"Must be one of {', '.join(PaymentTerms.values)}."
            )
        else:
            cleaned["payment_terms"] = fields["payment_terms"]
    for name in ("tax_exempt", "status", "service_level"):
        if name in fields:
            cleaned[name] = fields[name]
    if "parent_id" in fields:
        parent_id = fields["parent_id"]
        if parent_id is not None:
            parent = Tenant.objects.filter(pk=parent_id).first()
            if parent is None:
                errors.setdefault("parent_id", []).append("Unknown tenant.")
            elif current is not None and parent.pk == current.pk:
                errors.setdefault("parent_id", []).append("A tenant cannot be its own parent.")
            else:
                # No cycle, at most MAX_DEPTH levels (a new tenant is a leaf).
                problem = (
                    parent_check(tenant_id=current.pk, parent_id=parent.pk)
                    if current is not None
                    else (
                        "hierarchy_too_deep"
                        if len(tenant_ancestor_ids(tenant_id=parent.pk)) + 2 > MAX_DEPTH
                        else None
                    )
                )
                if problem is not None:
                    errors.setdefault("parent_id", []).append(PARENT_PROBLEMS[problem])
        cleaned["parent_id"] = parent_id
    raise_if_invalid(errors)
    return cleaned


def tenant_create(
    *,
    name: str,
    email: str,
    country: str,
    now: datetime,
    state: str = "",
    postal_code: str = "",
    address_line1: str = "",
    city: str = "",
    vat_id: str = "",
    timezone: str = "UTC",
    currency: str = "usd",
    payment_terms: str = "due_on_receipt",
    tax_exempt: bool = False,
    tax_exempt_reason: str = "",
    parent_id: UUID | None = None,
) -> Tenant:
    """Create a tenant and, when Stripe is configured, its Stripe customer, all or nothing."""
    fields = _clean(
        {
            "name": name,
            "email": email,
            "country": country,
            "state": state,
            "postal_code": postal_code,
            "address_line1": address_line1,
            "city": city,
            "vat_id": vat_id,
            "timezone": timezone,
            "currency": currency,
            "payment_terms": payment_terms,
            "tax_exempt": tax_exempt,
            "tax_exempt_reason": tax_exempt_reason,
            "parent_id": parent_id,
        }
    )
    with transaction.atomic():
        tenant = Tenant.objects.create(**fields, created_at=now, updated_at=now)
        if stripe_gateway.is_configured():
            try:
                customer = stripe_gateway.customer_create(
                    tenant_id=str(tenant.id), name=tenant.name, email=tenant.email
                )
            except stripe_gateway.StripeGatewayError as exc:
                raise DependencyUnavailable(
                    f"Stripe could not create the customer: {exc.message}",
                    code="stripe_unavailable",
                ) from exc
            tenant.stripe_customer_id = customer.id
            tenant.save(update_fields=["stripe_customer_id"])
    return tenant


def tenant_update(*, tenant: Tenant, fields: dict, allowed: frozenset[str], now: datetime):
    forbidden = sorted(set(fields) - allowed)
    if forbidden:
        raise ValidationFailed(
            f"These fields may not be changed: {', '.join(forbidden)}.",
            errors={name: ["This field may not be changed with your role."] for name in forbidden},
        )
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        cleaned = _clean(fields, current=tenant)
        if cleaned.get("currency", tenant.currency) != tenant.currency and tenant_currency_locked(
            tenant=tenant
        ):
            # Invoices take the currency of the priced terms; a live subscription's terms were
            # priced in this one.
            raise Conflict(
                "The currency cannot change while the tenant has a live subscription.",
                code="currency_locked",
            )
        for name, value in cleaned.items():
            setattr(tenant, name, value)
        tenant.updated_at = now
        tenant.save()
    return tenant


def tenant_currency_locked(*, tenant: Tenant) -> bool:
    return Subscription.objects.live().filter(tenant_id=tenant.pk).exists()


def tenant_get(*, tenant_id) -> Tenant:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant
