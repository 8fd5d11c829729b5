"""The dj-stripe mirror fed with current-format Stripe JSON (no network: Stripe is 'down')."""

import copy
import json
from pathlib import Path

import pytest
from djstripe.models import Account, APIKey
from djstripe.models import Customer as MirrorCustomer
from djstripe.models import PaymentMethod as MirrorPaymentMethod

from subscriptions import stripe_mirror

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_customer_and_payment_method_land_in_djstripe_tables(stripe_down):
    customer, pm = load("customer"), load("payment_method")
    assert stripe_mirror.mirror_stripe_objects(customer=customer, payment_methods=[pm]) is True

    mirrored = MirrorCustomer.objects.get(id="cus_RtQmXk2bW8hJ1a")
    assert mirrored.email == "billing@acme.example"
    assert mirrored.name == "Acme Corp"
    assert mirrored.livemode is False
    assert mirrored.metadata == {"tenant_id": "5f0c3c1e-7a51-4b0e-9a57-2d1f7c0e9b11"}
    assert mirrored.default_payment_method.id == "pm_1QxYzAbCdEfGhIjK"
    card = MirrorPaymentMethod.objects.get(id="pm_1QxYzAbCdEfGhIjK")
    assert card.customer == mirrored
    assert card.type == "card"
    assert card.stripe_data["card"]["last4"] == "4242"
    # The stub owner account, found through the API key, owns both.
    key = APIKey.objects.get(secret=stripe_down_key())
    assert (
        mirrored.djstripe_owner_account == key.djstripe_owner_account == card.djstripe_owner_account
    )
    assert Account.objects.count() == 1
    # The caller's dicts are left as they were.
    assert customer == load("customer") and pm == load("payment_method")


def stripe_down_key() -> str:
    from django.conf import settings

    return settings.STRIPE_SECRET_KEY


def test_syncing_twice_updates_in_place(stripe_down):
    customer, pm = load("customer"), load("payment_method")
    assert stripe_mirror.mirror_stripe_objects(customer=customer, payment_methods=[pm])
    changed = copy.deepcopy(customer)
    changed["email"] = "ap@acme.example"
    assert stripe_mirror.mirror_stripe_objects(customer=changed, payment_methods=[pm])
    assert MirrorCustomer.objects.count() == 1
    assert MirrorCustomer.objects.get().email == "ap@acme.example"
    assert MirrorPaymentMethod.objects.count() == 1


def test_a_detached_payment_method_loses_its_customer(stripe_down):
    customer, pm = load("customer"), load("payment_method")
    assert stripe_mirror.mirror_stripe_objects(customer=customer, payment_methods=[pm])
    detached = {**pm, "customer": None}
    cleared = copy.deepcopy(customer)
    cleared["invoice_settings"]["default_payment_method"] = None
    assert stripe_mirror.mirror_stripe_objects(customer=cleared, payment_methods=[detached])
    assert MirrorPaymentMethod.objects.get().customer is None
    assert MirrorCustomer.objects.get().default_payment_method is None


def test_a_failure_is_counted_and_never_raised(stripe_down):
    before = stripe_mirror.mirror_failure_count()
    # A customer where a payment method belongs: dj-stripe refuses it.
    assert stripe_mirror.mirror_stripe_objects(payment_methods=[load("customer")]) is False
    assert stripe_mirror.mirror_failure_count() == before + 1
    assert not MirrorCustomer.objects.exists()


def test_stripe_unreachable_is_counted_and_never_raised(stripe_down):
    before = stripe_mirror.mirror_failure_count()
    assert (
        stripe_mirror.mirror_customer_and_payment_method(
            customer_id="cus_RtQmXk2bW8hJ1a", payment_method_id="pm_1QxYzAbCdEfGhIjK"
        )
        is False
    )
    assert stripe_mirror.mirror_failure_count() == before + 1
