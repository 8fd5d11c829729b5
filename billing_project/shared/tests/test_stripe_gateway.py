"""The payment gateway against the Stripe emulator (localstripe) over real HTTP."""

import pytest
import requests

from billing_project.shared import stripe_gateway
from billing_project.shared.testing.localstripe import TEST_SECRET_KEY


def emulator_card(url: str, number: str) -> str:
    """A card payment method made directly in the emulator (as Stripe.js would)."""
    response = requests.post(
        f"{url}/v1/payment_methods",
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
        auth=(TEST_SECRET_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["id"]


def test_not_configured_raises_before_any_call(settings):
    settings.STRIPE_SECRET_KEY = ""
    stripe_gateway.reset_client()
    assert stripe_gateway.is_configured() is False
    with pytest.raises(stripe_gateway.StripeNotConfigured):
        stripe_gateway.customer_retrieve("cus_x")


def test_unreachable_stripe_is_unavailable_and_retryable(stripe_down):
    with pytest.raises(stripe_gateway.StripeUnavailable) as info:
        stripe_gateway.customer_create(tenant_id="t1", name="A", email="a@example.com")
    assert info.value.retryable is True


def test_reset_client_follows_changed_settings(settings):
    import stripe

    settings.STRIPE_SECRET_KEY = TEST_SECRET_KEY
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    stripe_gateway.reset_client()
    first = stripe_gateway.client()
    assert (stripe.api_base, stripe.api_key) == ("http://127.0.0.1:9", TEST_SECRET_KEY)
    settings.STRIPE_API_BASE = "http://127.0.0.1:10"
    stripe_gateway.reset_client()
    assert stripe_gateway.client() is not first
    # dj-stripe's calls go through the global module: it follows too.
    assert stripe.api_base == "http://127.0.0.1:10"
    settings.STRIPE_SECRET_KEY = ""
    stripe_gateway.reset_client()
    assert stripe.api_key is None


@pytest.mark.stripe
class TestAgainstLocalstripe:
    def test_customer_create_and_retrieve(self, stripe_enabled):
        customer = stripe_gateway.customer_create(
            tenant_id="tenant-1", name="Acme", email="billing@acme.example"
        )
        assert customer.id.startswith("cus_")
        assert (customer.email, customer.name) == ("billing@acme.example", "Acme")
        again = stripe_gateway.customer_retrieve(customer.id)
        assert again == stripe_gateway.StripeCustomer(
            id=customer.id, email="billing@acme.example", name="Acme", default_payment_method=""
        )
        raw = stripe_gateway.raw_object("customer", customer.id)
        assert isinstance(raw, dict)
        assert raw["metadata"] == {"tenant_id": "tenant-1"}

    def test_payment_method_retrieve(self, stripe_enabled):
        pm = stripe_gateway.payment_method_retrieve("pm_card_visa")
        assert pm.id.startswith("pm_")
        assert (pm.type, pm.brand, pm.last4, pm.exp_month, pm.exp_year, pm.customer) == (
            "card",
            "visa",
            "4242",
            12,
            2030,
            "",
        )

    def test_unknown_payment_method_is_an_invalid_request(self, stripe_enabled):
        with pytest.raises(stripe_gateway.StripeInvalidRequest):
            stripe_gateway.payment_method_retrieve("pm_does_not_exist")

    def test_attach_set_default_detach(self, stripe_enabled):
        customer = stripe_gateway.customer_create(tenant_id="t2", name="B", email="b@b.example")
        pm = stripe_gateway.payment_method_attach(
            pm_id="pm_card_visa", customer_id=customer.id, idempotency_key="pm:1:attach"
        )
        assert pm.customer == customer.id
        updated = stripe_gateway.customer_set_default_payment_method(
            customer_id=customer.id, pm_id=pm.id, idempotency_key="tenant:t2:default:1"
        )
        assert updated.default_payment_method == pm.id
        assert stripe_gateway.customer_retrieve(customer.id).default_payment_method == pm.id
        detached = stripe_gateway.payment_method_detach(pm_id=pm.id, idempotency_key="pm:1:det")
        assert detached.customer == ""
        cleared = stripe_gateway.customer_set_default_payment_method(
            customer_id=customer.id, pm_id=None, idempotency_key="tenant:t2:default:none"
        )
        assert cleared.default_payment_method == ""

    def test_declined_attach_is_a_card_error(self, stripe_enabled):
        customer = stripe_gateway.customer_create(tenant_id="t3", name="C", email="c@c.example")
        with pytest.raises(stripe_gateway.StripeCardError) as info:
            stripe_gateway.payment_method_attach(
                pm_id="pm_card_visa_chargeDeclined",
                customer_id=customer.id,
                idempotency_key="pm:2:attach",
            )
        assert info.value.code == "card_declined"

    def test_payment_intent_succeeds_then_refund(self, stripe_enabled):
        customer = stripe_gateway.customer_create(tenant_id="t4", name="D", email="d@d.example")
        pm = stripe_gateway.payment_method_attach(
            pm_id="pm_card_visa", customer_id=customer.id, idempotency_key="pm:3:attach"
        )
        intent = stripe_gateway.payment_intent_create(
            amount=5000,
            currency="USD",
            customer_id=customer.id,
            pm_id=pm.id,
            metadata={"invoice_id": "inv-1", "attempt": 1},
            idempotency_key="invoice:inv-1:attempt:1",
        )
        assert intent.id.startswith("pi_")
        assert (intent.status, intent.amount, intent.currency) == ("succeeded", 5000, "usd")
        assert (intent.last_error_code, intent.decline_code, intent.error_message) == ("", "", "")
        assert stripe_gateway.payment_intent_retrieve(intent.id) == intent
        raw = stripe_gateway.raw_object("payment_intent", intent.id)
        assert raw["metadata"] == {"invoice_id": "inv-1", "attempt": "1"}
        charge_id = raw["latest_charge"]
        charge_id = charge_id["id"] if isinstance(charge_id, dict) else charge_id
        assert stripe_gateway.raw_object("charge", charge_id)["amount"] == 5000
        refund = stripe_gateway.refund_create(
            payment_intent_id=intent.id, amount=2000, idempotency_key="credit_note:cn-1:refund"
        )
        assert refund.id.startswith("re_")
        assert (refund.status, refund.amount, refund.payment_intent) == (
            "succeeded",
            2000,
            intent.id,
        )

    def test_card_that_attaches_but_declines_on_charge(self, stripe_enabled):
        customer = stripe_gateway.customer_create(tenant_id="t5", name="E", email="e@e.example")
        pm_id = emulator_card(stripe_enabled, "4000000000000341")
        pm = stripe_gateway.payment_method_attach(
            pm_id=pm_id, customer_id=customer.id, idempotency_key="pm:4:attach"
        )
        assert (pm.id, pm.customer, pm.last4) == (pm_id, customer.id, "0341")
        with pytest.raises(stripe_gateway.StripeCardError) as info:
            stripe_gateway.payment_intent_create(
                amount=5000,
                currency="usd",
                customer_id=customer.id,
                pm_id=pm_id,
                metadata={"invoice_id": "inv-2"},
                idempotency_key="invoice:inv-2:attempt:1",
            )
        assert info.value.code == "card_declined"
        assert info.value.decline_code  # Stripe's reason, or the code when none is given
        assert info.value.retryable is False

    def test_unknown_raw_kind(self, stripe_enabled):
        with pytest.raises(ValueError):
            stripe_gateway.raw_object("invoice", "in_1")
