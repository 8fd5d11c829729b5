"""The payment gateway: the only module that imports `stripe`.

Domain code gets frozen dataclasses and our own errors back. Every write carries an idempotency
key built from our ids. The client is built from STRIPE_SECRET_KEY / STRIPE_API_BASE with short
timeouts; the global `stripe.api_base` is pointed at the same place so dj-stripe's own calls never
reach for another host. Tests that change those settings call `reset_client()`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache

import stripe
from django.conf import settings

log = logging.getLogger(__name__)


class StripeGatewayError(Exception):
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        decline_code: str = "",
        payment_intent_id: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class StripeUnavailable(StripeGatewayError):
    """Connection error, timeout, rate limit or a 5xx: nothing happened, try again later."""

    retryable = True


class StripeAuthenticationFailed(StripeUnavailable):
    """The configured key was refused: Stripe is unusable until the configuration is fixed."""

    retryable = False


class StripeCardError(StripeGatewayError):
    """The card was declined (or could not be used)."""


class StripeInvalidRequest(StripeGatewayError):
    """Stripe rejected the request (unknown object, bad parameter)."""


class StripeNotConfigured(StripeGatewayError):
    pass


@dataclass(frozen=True, slots=True)
class StripeCustomer:
    id: str
    email: str
    name: str
    default_payment_method: str = ""


@dataclass(frozen=True, slots=True)
class StripePaymentMethod:
    id: str
    customer: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    type: str


@dataclass(frozen=True, slots=True)
class StripePaymentIntent:
    id: str
    status: str
    amount: int
    currency: str
    last_error_code: str
    decline_code: str
    error_message: str


@dataclass(frozen=True, slots=True)
class StripeRefund:
    id: str
    status: str
    amount: int
    currency: str
    payment_intent: str


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _apply_globals(api_key: str, api_base: str, timeout: float, retries: int) -> None:
    """Module-level stripe settings, used by dj-stripe's own calls (`stripe.Customer.retrieve`)."""
    stripe.api_key = api_key or None
    stripe.api_base = api_base
    stripe.default_http_client = stripe.RequestsClient(timeout=timeout)
    stripe.max_network_retries = retries


def _current_settings() -> tuple[str, str, float, int]:
    return (
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        float(settings.STRIPE_TIMEOUT_SECONDS),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    _apply_globals(api_key, api_base, timeout, retries)
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def configure_globals() -> None:
    """Point the global stripe module (dj-stripe's calls) at the configured key and base."""
    _apply_globals(*_current_settings())


def reset_client() -> None:
    """Forget cached clients and re-read the settings (tests change them)."""
    _client_for.cache_clear()
    configure_globals()


def client() -> stripe.StripeClient:
    if not is_configured():
        raise StripeNotConfigured("Stripe is not configured (manual collection).")
    cached = _client_for(*_current_settings())
    # Another configuration may have been used since this one was cached: globals follow us.
    if stripe.api_base != settings.STRIPE_API_BASE or stripe.api_key != settings.STRIPE_SECRET_KEY:
        configure_globals()
    return cached


def _error_detail(exc: stripe.StripeError, name: str) -> str:
    error = getattr(exc, "error", None)
    if error is None:
        return ""
    try:
        value = error[name]
    except (KeyError, TypeError):
        value = None
    if isinstance(value, str):
        return value
    if value is not None and not isinstance(value, str):
        try:
            return value["id"] or ""
        except (KeyError, TypeError):
            return ""
    return ""


def translate_errors(func):
    """Map stripe's exceptions onto ours."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except stripe.CardError as exc:
            code = exc.code or "card_declined"
            raise StripeCardError(
                exc.user_message or _error_detail(exc, "message") or str(exc),
                code=code,
                # Stripe names the issuer's reason; the emulator names none: fall back to the code.
                decline_code=_error_detail(exc, "decline_code") or code,
                payment_intent_id=_error_detail(exc, "payment_intent"),
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise StripeUnavailable(str(exc) or "Stripe is unreachable.") from exc
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise StripeAuthenticationFailed(str(exc) or "Stripe refused the API key.") from exc
        except stripe.InvalidRequestError as exc:
            raise StripeInvalidRequest(
                _error_detail(exc, "message") or str(exc), code=exc.code or ""
            ) from exc
        except stripe.APIError as exc:
            raise StripeUnavailable(str(exc) or "Stripe failed.") from exc
        except stripe.StripeError as exc:
            if (exc.http_status or 0) >= 500:
                raise StripeUnavailable(str(exc)) from exc
            raise StripeInvalidRequest(str(exc), code=exc.code or "") from exc

    return wrapper


def _as_dict(obj) -> dict:
    """stripe-python objects are not dicts (since v8): convert them, recursively."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def _id_of(value) -> str:
    if isinstance(value, dict):
        return value.get("id") or ""
    return value or ""


def _customer_from(data: dict) -> StripeCustomer:
    invoice_settings = data.get("invoice_settings") or {}
    return StripeCustomer(
        id=data["id"],
        email=data.get("email") or "",
        name=data.get("name") or "",
        default_payment_method=_id_of(invoice_settings.get("default_payment_method")),
    )


def _payment_method_from(data: dict) -> StripePaymentMethod:
    card = data.get("card") or {}
    return StripePaymentMethod(
        id=data["id"],
        customer=_id_of(data.get("customer")),
        brand=card.get("brand") or "",
        last4=card.get("last4") or "",
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
        type=data.get("type") or "",
    )


def _payment_intent_from(data: dict) -> StripePaymentIntent:
    error = data.get("last_payment_error") or {}
    return StripePaymentIntent(
        id=data["id"],
        status=data.get("status") or "",
        amount=int(data.get("amount") or 0),
        currency=data.get("currency") or "",
        last_error_code=error.get("code") or "",
        decline_code=error.get("decline_code") or "",
        error_message=error.get("message") or "",
    )


# --- customers ----------------------------------------------------------------------------------


@translate_errors
def customer_create(*, tenant_id: str, name: str, email: str) -> StripeCustomer:
    customer = client().v1.customers.create(
        params={"name": name, "email": email, "metadata": {"tenant_id": str(tenant_id)}},
        options={"idempotency_key": f"tenant:{tenant_id}:customer"},
    )
    return _customer_from(_as_dict(customer))


@translate_errors
def customer_retrieve(customer_id: str) -> StripeCustomer:
    return _customer_from(_as_dict(client().v1.customers.retrieve(customer_id)))


@translate_errors
def customer_set_default_payment_method(
    *, customer_id: str, pm_id: str | None, idempotency_key: str
) -> StripeCustomer:
    """Set (or with `pm_id=None` clear) `invoice_settings.default_payment_method`."""
    customer = client().v1.customers.update(
        customer_id,
        params={"invoice_settings": {"default_payment_method": pm_id or ""}},
        options={"idempotency_key": idempotency_key},
    )
    return _customer_from(_as_dict(customer))


# --- payment methods ----------------------------------------------------------------------------


@translate_errors
def payment_method_retrieve(pm_id: str) -> StripePaymentMethod:
    return _payment_method_from(_as_dict(client().v1.payment_methods.retrieve(pm_id)))


@translate_errors
def payment_method_attach(
    *, pm_id: str, customer_id: str, idempotency_key: str
) -> StripePaymentMethod:
    """Attach to the customer. Stripe may answer with another id (test tokens: `pm_card_visa`)."""
    pm = client().v1.payment_methods.attach(
        pm_id, params={"customer": customer_id}, options={"idempotency_key": idempotency_key}
    )
    return _payment_method_from(_as_dict(pm))


@translate_errors
def payment_method_detach(*, pm_id: str, idempotency_key: str) -> StripePaymentMethod:
    pm = client().v1.payment_methods.detach(pm_id, options={"idempotency_key": idempotency_key})
    return _payment_method_from(_as_dict(pm))


# --- payments -----------------------------------------------------------------------------------


@translate_errors
def payment_intent_create(
    *,
    amount: int,
    currency: str,
    customer_id: str,
    pm_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> StripePaymentIntent:
    """Charge off-session, confirmed at once. A decline raises StripeCardError."""
    intent = client().v1.payment_intents.create(
        params={
            "amount": int(amount),
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": pm_id,
            "metadata": {str(k): str(v) for k, v in (metadata or {}).items()},
            "confirm": True,
            "off_session": True,
        },
        options={"idempotency_key": idempotency_key},
    )
    return _payment_intent_from(_as_dict(intent))


@translate_errors
def payment_intent_retrieve(pi_id: str) -> StripePaymentIntent:
    return _payment_intent_from(_as_dict(client().v1.payment_intents.retrieve(pi_id)))


@translate_errors
def refund_create(*, payment_intent_id: str, amount: int, idempotency_key: str) -> StripeRefund:
    refund = _as_dict(
        client().v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": int(amount)},
            options={"idempotency_key": idempotency_key},
        )
    )
    return StripeRefund(
        id=refund["id"],
        status=refund.get("status") or "",
        amount=int(refund.get("amount") or 0),
        currency=refund.get("currency") or "",
        payment_intent=_id_of(refund.get("payment_intent")),
    )


# --- raw objects for the dj-stripe mirror --------------------------------------------------------

_RAW_KINDS = {
    "customer": "customers",
    "payment_method": "payment_methods",
    "payment_intent": "payment_intents",
    "charge": "charges",
    "refund": "refunds",
}


@translate_errors
def raw_object(kind: str, id: str) -> dict:
    """The object as Stripe sends it, as a plain dict (for dj-stripe's `sync_from_stripe_data`)."""
    try:
        service = getattr(client().v1, _RAW_KINDS[kind])
    except KeyError:
        raise ValueError(f"Unknown Stripe object kind {kind!r}.") from None
    return _as_dict(service.retrieve(id))


# --- account setup (`manage.py stripe_setup`): the key, the catalog, the webhook endpoint -------


@dataclass(frozen=True, slots=True)
class StripeProduct:
    id: str
    name: str
    description: str
    active: bool


@dataclass(frozen=True, slots=True)
class StripePrice:
    id: str
    product: str
    currency: str
    unit_amount_decimal: str  # Stripe's exact amount in minor units, e.g. "5000" or "0.5"
    interval: str
    usage_type: str  # licensed | metered
    meter: str
    lookup_key: str
    active: bool


@dataclass(frozen=True, slots=True)
class StripeMeter:
    id: str
    event_name: str
    display_name: str
    formula: str
    status: str


@dataclass(frozen=True, slots=True)
class StripeWebhookEndpoint:
    id: str
    url: str
    enabled_events: tuple[str, ...]
    status: str
    secret: str  # only in the answer to its creation


def _setup_key(kind: str, params: dict) -> str:
    """The same create sent twice (a retry) is one object; another body is another request."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"stripe_setup:{kind}:{digest[:32]}"


def _product_from(data: dict) -> StripeProduct:
    return StripeProduct(
        id=data["id"],
        name=data.get("name") or "",
        description=data.get("description") or "",
        active=bool(data.get("active")),
    )


def _price_from(data: dict) -> StripePrice:
    recurring = data.get("recurring") or {}
    amount = data.get("unit_amount_decimal")
    if amount is None and data.get("unit_amount") is not None:
        amount = str(data["unit_amount"])
    return StripePrice(
        id=data["id"],
        product=_id_of(data.get("product")),
        currency=data.get("currency") or "",
        unit_amount_decimal=str(amount or "0"),
        interval=recurring.get("interval") or "",
        usage_type=recurring.get("usage_type") or "",
        meter=_id_of(recurring.get("meter")),
        lookup_key=data.get("lookup_key") or "",
        active=bool(data.get("active")),
    )


def _meter_from(data: dict) -> StripeMeter:
    return StripeMeter(
        id=data["id"],
        event_name=data.get("event_name") or "",
        display_name=data.get("display_name") or "",
        formula=(data.get("default_aggregation") or {}).get("formula") or "",
        status=data.get("status") or "",
    )


def _endpoint_from(data: dict) -> StripeWebhookEndpoint:
    return StripeWebhookEndpoint(
        id=data["id"],
        url=data.get("url") or "",
        enabled_events=tuple(data.get("enabled_events") or ()),
        status=data.get("status") or "",
        secret=data.get("secret") or "",
    )


@translate_errors
def account_check() -> bool:
    """Reads the balance (any valid secret or restricted key may): True in live mode. A refused
    key raises StripeAuthenticationFailed."""
    return bool(_as_dict(client().v1.balance.retrieve()).get("livemode"))


@translate_errors
def product_retrieve(product_id: str) -> StripeProduct | None:
    try:
        return _product_from(_as_dict(client().v1.products.retrieve(product_id)))
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return None
        raise


@translate_errors
def product_create(params: dict) -> StripeProduct:
    options = {"idempotency_key": _setup_key("product", params)}
    return _product_from(_as_dict(client().v1.products.create(params=params, options=options)))


@translate_errors
def product_update(product_id: str, params: dict) -> StripeProduct:
    return _product_from(_as_dict(client().v1.products.update(product_id, params=params)))


@translate_errors
def prices_by_lookup_keys(lookup_keys: list[str]) -> dict[str, StripePrice]:
    """The prices holding these lookup keys, archived ones too (an archived holder is replaced
    by a new Price taking its key). Stripe answers at most 10 keys a call."""
    found = {}
    for start in range(0, len(lookup_keys), 10):
        page = client().v1.prices.list(
            params={"lookup_keys": lookup_keys[start : start + 10], "limit": 100}
        )
        for item in page.auto_paging_iter():
            price = _price_from(_as_dict(item))
            found[price.lookup_key] = price
    return found


@translate_errors
def price_create(params: dict) -> StripePrice:
    options = {"idempotency_key": _setup_key("price", params)}
    return _price_from(_as_dict(client().v1.prices.create(params=params, options=options)))


@translate_errors
def meters_list() -> list[StripeMeter]:
    page = client().v1.billing.meters.list(params={"limit": 100})
    return [_meter_from(_as_dict(item)) for item in page.auto_paging_iter()]


@translate_errors
def meter_create(params: dict) -> StripeMeter:
    options = {"idempotency_key": _setup_key("meter", params)}
    return _meter_from(_as_dict(client().v1.billing.meters.create(params=params, options=options)))


@translate_errors
def meter_update(meter_id: str, params: dict) -> StripeMeter:
    return _meter_from(_as_dict(client().v1.billing.meters.update(meter_id, params=params)))


@translate_errors
def meter_reactivate(meter_id: str) -> StripeMeter:
    return _meter_from(_as_dict(client().v1.billing.meters.reactivate(meter_id)))


@translate_errors
def webhook_endpoints_list() -> list[StripeWebhookEndpoint]:
    page = client().v1.webhook_endpoints.list(params={"limit": 100})
    return [_endpoint_from(_as_dict(item)) for item in page.auto_paging_iter()]


@translate_errors
def webhook_endpoint_create(params: dict) -> StripeWebhookEndpoint:
    options = {"idempotency_key": _setup_key("webhook_endpoint", params)}
    created = client().v1.webhook_endpoints.create(params=params, options=options)
    return _endpoint_from(_as_dict(created))


@translate_errors
def webhook_endpoint_update(endpoint_id: str, params: dict) -> StripeWebhookEndpoint:
    updated = client().v1.webhook_endpoints.update(endpoint_id, params=params)
    return _endpoint_from(_as_dict(updated))
