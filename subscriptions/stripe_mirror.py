"""The dj-stripe mirror: Stripe's customers and payment methods copied into dj-stripe's tables.

Our own tables (`Tenant.stripe_customer_id`, `PaymentMethod`) are the record; the mirror is a
convenience for finance staff (dj-stripe's admin) and for webhook handlers. It is filled with
dj-stripe's own `sync_from_stripe_data`, from raw dicts the gateway fetched (this module imports
djstripe, never stripe). A mirror failure is logged and counted and never fails the caller.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from djstripe.enums import APIKeyType
from djstripe.models import Account, APIKey, Customer
from djstripe.models import PaymentMethod as DjstripePaymentMethod

from billing_project.shared import stripe_gateway

log = logging.getLogger(__name__)

_lock = threading.Lock()
_failures = 0


def mirror_failure_count() -> int:
    """How many mirror syncs failed in this process (a monitoring figure)."""
    return _failures


def _count_failure() -> None:
    global _failures
    with _lock:
        _failures += 1


def _owner_account(api_key: str) -> Account:
    """dj-stripe wants every object owned by an Account found through an APIKey row.

    Fetching the real account needs `GET /v1/account`, which the emulator does not serve, so a
    stub account named after the key stands in (one per key; the key itself is not stored in
    the id). Keys must look like Stripe's (`sk_test_` + 24 or more characters).
    """
    livemode = api_key.startswith(("sk_live_", "rk_live_"))
    account_id = "acct_" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
    account, _ = Account.objects.get_or_create(
        id=account_id,
        defaults={"livemode": livemode, "stripe_data": {"id": account_id, "object": "account"}},
    )
    key_type = APIKeyType.restricted if api_key.startswith("rk_") else APIKeyType.secret
    key, _ = APIKey.objects.get_or_create(
        secret=api_key,
        defaults={
            "type": key_type,
            "livemode": livemode,
            "name": "LeanVibe Billing (mirror)",
            "djstripe_owner_account": account,
        },
    )
    if key.djstripe_owner_account_id is None:
        key.djstripe_owner_account = account
        key.save(update_fields=["djstripe_owner_account"])
    return account


def _sync(*, customer: dict | None, payment_methods: Iterable[dict], api_key: str) -> None:
    payment_methods = [copy.deepcopy(pm) for pm in payment_methods]
    _owner_account(api_key)
    # The customer names its default payment method and each payment method names its customer.
    # When the default is among the given payment methods and not yet mirrored, sync the customer
    # without it first, then the payment methods, then the customer in full: dj-stripe then finds
    # every reference in the database and never has to fetch it from Stripe.
    second_pass = None
    if customer is not None:
        invoice_settings = customer.get("invoice_settings") or {}
        default_pm = invoice_settings.get("default_payment_method")
        default_pm_id = default_pm.get("id") if isinstance(default_pm, dict) else default_pm
        first_pass = copy.deepcopy(customer)
        if (
            default_pm_id
            and default_pm_id in {pm.get("id") for pm in payment_methods}
            and not DjstripePaymentMethod.objects.filter(id=default_pm_id).exists()
        ):
            first_pass["invoice_settings"] = {**invoice_settings, "default_payment_method": None}
            second_pass = copy.deepcopy(customer)
        Customer.sync_from_stripe_data(first_pass, api_key=api_key)
    for pm in payment_methods:
        DjstripePaymentMethod.sync_from_stripe_data(pm, api_key=api_key)
    if second_pass is not None:
        Customer.sync_from_stripe_data(second_pass, api_key=api_key)


def mirror_stripe_objects(
    *, customer: dict | None = None, payment_methods: Iterable[dict] = ()
) -> bool:
    """Sync raw Stripe objects into dj-stripe's tables. Returns False (logged) on failure."""
    api_key = settings.STRIPE_SECRET_KEY
    try:
        with transaction.atomic():
            _sync(customer=customer, payment_methods=payment_methods, api_key=api_key)
    except Exception:
        _count_failure()
        log.warning("dj-stripe mirror failed", exc_info=True)
        return False
    return True


def mirror_customer_and_payment_method(*, customer_id: str, payment_method_id: str = "") -> bool:
    """Fetch the customer (and a payment method) from Stripe and mirror them; never raises."""
    try:
        customer = stripe_gateway.raw_object("customer", customer_id)
        payment_methods = (
            [stripe_gateway.raw_object("payment_method", payment_method_id)]
            if payment_method_id
            else []
        )
    except Exception:
        _count_failure()
        log.warning("dj-stripe mirror could not fetch %s from Stripe", customer_id, exc_info=True)
        return False
    return mirror_stripe_objects(customer=customer, payment_methods=payment_methods)
