"""The payment gateway: the only module that imports `stripe`.

Domain code gets frozen dataclasses and our own errors back. Every write carries an idempotency
key built from our ids. The client is built from STRIPE_SECRET_KEY / STRIPE_API_BASE with short
timeouts; the global `stripe.api_base` is pointed at the same place so dj-stripe's own calls never
reach for another host.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import stripe
from django.conf import settings

log = logging.getLogger(__name__)


class StripeGatewayError(Exception):
    retryable = False

    def __init__(self, message: str, *, code: str = "", decline_code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.decline_code = decline_code


class StripeUnavailable(StripeGatewayError):
    """Connection error, timeout, rate limit or a 5xx: nothing happened, try again later."""

    retryable = True


class StripeCardError(StripeGatewayError):
    """The card was declined."""


class StripeInvalidRequest(StripeGatewayError):
    """Stripe rejected the request (unknown object, bad parameter)."""


class StripeNotConfigured(StripeGatewayError):
    pass


@dataclass(frozen=True, slots=True)
class StripeCustomer:
    id: str
    email: str
    name: str


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    stripe.api_key = api_key
    stripe.api_base = api_base
    stripe.default_http_client = stripe.RequestsClient(timeout=timeout)
    stripe.max_network_retries = retries
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    if not is_configured():
        raise StripeNotConfigured("Stripe is not configured (manual collection).")
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        float(settings.STRIPE_TIMEOUT_SECONDS),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
    )


def translate_errors(func):
    """Map stripe's exceptions onto ours."""

    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except stripe.CardError as exc:
            raise StripeCardError(
                exc.user_message or str(exc),
                code=exc.code or "card_declined",
                decline_code=(exc.error.decline_code if exc.error else "") or "",
            ) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise StripeUnavailable(str(exc) or "Stripe is unreachable.") from exc
        except stripe.InvalidRequestError as exc:
            raise StripeInvalidRequest(str(exc), code=exc.code or "") from exc
        except stripe.APIError as exc:
            raise StripeUnavailable(str(exc) or "Stripe failed.") from exc
        except stripe.StripeError as exc:
            if (exc.http_status or 0) >= 500:
                raise StripeUnavailable(str(exc)) from exc
            raise StripeInvalidRequest(str(exc)) from exc

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@translate_errors
def customer_create(*, tenant_id: str, name: str, email: str) -> StripeCustomer:
    customer = client().customers.create(
        params={"name": name, "email": email, "metadata": {"tenant_id": str(tenant_id)}},
        options={"idempotency_key": f"tenant:{tenant_id}:customer"},
    )
    return StripeCustomer(id=customer.id, email=customer.get("email") or "", name=name)
