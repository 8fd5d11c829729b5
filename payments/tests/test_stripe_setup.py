"""`manage.py stripe_setup` against a fake Stripe over real HTTP serving recorded current-format
JSON (payments/tests/fake_stripe.py): creates once, a rerun writes nothing, a changed plan
price is a new Price that takes the lookup key, a refused key fails clearly."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from billing_project.shared import stripe_gateway
from payments.services.stripe_setup import WEBHOOK_EVENTS
from payments.tests.fake_stripe import GOOD_KEY, FakeStripeServer
from subscriptions.models import Plan, PlanMetric

pytestmark = pytest.mark.django_db

URL = "https://billing.example.com/api/v1/billing/webhooks/stripe"
GUIDE_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
}


@pytest.fixture
def fake_stripe(settings):
    names = ("STRIPE_SECRET_KEY", "STRIPE_TEST_SECRET_KEY", "STRIPE_API_BASE")
    original = {name: getattr(settings, name) for name in names}
    with FakeStripeServer() as fake:
        settings.STRIPE_SECRET_KEY = settings.STRIPE_TEST_SECRET_KEY = GOOD_KEY
        settings.STRIPE_API_BASE = fake.url
        stripe_gateway.reset_client()
        yield fake
    for name, value in original.items():
        setattr(settings, name, value)
    stripe_gateway.reset_client()


def setup(*args) -> str:
    out = StringIO()
    call_command("stripe_setup", "--webhook-url", URL, *args, stdout=out)
    return out.getvalue()


def posts(fake, path: str) -> list[dict]:
    return [params for method, p, params in fake.writes() if p == path]


def test_first_run_creates_everything_and_a_rerun_writes_nothing(fake_stripe):
    plans = list(Plan.objects.filter(active=True).order_by("slug"))
    metered = PlanMetric.objects.filter(plan__active=True).count()
    metrics = PlanMetric.objects.filter(plan__active=True).values("metric").distinct().count()
    assert (len(plans), metered, metrics) == (3, 15, 5)  # the default catalog

    out = setup()
    assert "key: accepted (test mode)" in out
    assert len(posts(fake_stripe, "/v1/products")) == 3
    assert len(posts(fake_stripe, "/v1/billing/meters")) == 5
    assert len(posts(fake_stripe, "/v1/prices")) == 3 + 15
    assert len(posts(fake_stripe, "/v1/webhook_endpoints")) == 1
    assert len(fake_stripe.writes()) == 3 + 5 + 18 + 1
    assert "stripe_setup: 27 objects: 27 created" in out

    team = fake_stripe.products["lvb_team"]
    assert (team["name"], team["active"]) == ("Team", True)
    by_key = {p["lookup_key"]: p for p in fake_stripe.prices.values()}
    monthly = by_key["lvb_team_monthly"]
    assert (monthly["unit_amount"], monthly["currency"], monthly["product"]) == (
        20000,
        "usd",
        "lvb_team",
    )
    assert monthly["recurring"]["interval"] == "month"
    assert monthly["recurring"]["usage_type"] == "licensed"
    meters = {m["event_name"]: m for m in fake_stripe.meters.values()}
    assert set(meters) == {
        "lvb_active_users",
        "lvb_ai_requests",
        "lvb_api_calls",
        "lvb_concurrent_sessions",
        "lvb_storage_gb",
    }
    assert meters["lvb_api_calls"]["default_aggregation"] == {"formula": "sum"}
    assert meters["lvb_storage_gb"]["default_aggregation"] == {"formula": "last"}
    overage = by_key["lvb_team_storage_gb_overage"]
    assert overage["recurring"]["usage_type"] == "metered"
    assert overage["recurring"]["meter"] == meters["lvb_storage_gb"]["id"]
    assert (overage["unit_amount_decimal"], overage["product"]) == ("500", "lvb_team")
    (endpoint,) = fake_stripe.endpoints.values()
    assert endpoint["url"] == URL
    assert set(endpoint["enabled_events"]) == set(WEBHOOK_EVENTS) >= GUIDE_EVENTS
    assert f"signing secret: {endpoint['secret']}" in out
    assert "STRIPE_WEBHOOK_SECRET" in out

    fake_stripe.requests.clear()
    again = setup()
    assert fake_stripe.writes() == []
    assert [r[0] for r in fake_stripe.requests] and {r[0] for r in fake_stripe.requests} == {"GET"}
    lines = [
        line
        for line in again.splitlines()
        if line.startswith(("product", "price", "meter", "webhook"))
    ]
    assert len(lines) == 27 and all(": unchanged (" in line for line in lines)
    assert "signing secret" not in again
    assert "27 unchanged" in again


def test_a_changed_price_is_a_new_price_taking_the_lookup_key(fake_stripe):
    setup()
    old = next(p for p in fake_stripe.prices.values() if p["lookup_key"] == "lvb_team_monthly")
    Plan.objects.filter(slug="team").update(amount=25000)
    PlanMetric.objects.filter(plan__slug="team", metric__metric_type="api_calls").update(
        overage_unit_price="0.5"
    )
    fake_stripe.requests.clear()
    out = setup()
    created = posts(fake_stripe, "/v1/prices")
    assert len(fake_stripe.writes()) == 2 == len(created)
    monthly = next(p for p in created if p["lookup_key"] == "lvb_team_monthly")
    assert monthly["transfer_lookup_key"] == "true"
    assert monthly["unit_amount_decimal"] == "25000"
    metered = next(p for p in created if p["lookup_key"] == "lvb_team_api_calls_overage")
    assert metered["unit_amount_decimal"] == "0.5" and metered["transfer_lookup_key"] == "true"
    assert fake_stripe.prices[old["id"]]["lookup_key"] is None  # transferred
    holder = next(p for p in fake_stripe.prices.values() if p["lookup_key"] == "lvb_team_monthly")
    assert holder["unit_amount"] == 25000
    assert f"price lvb_team_monthly: replaced ({holder['id']}) - was {old['id']}" in out
    fake_stripe.requests.clear()
    setup()
    assert fake_stripe.writes() == []


def test_drifted_objects_are_updated_in_place(fake_stripe):
    setup()
    (endpoint,) = fake_stripe.endpoints.values()
    endpoint["enabled_events"] = ["invoice.payment_failed"]
    fake_stripe.products["lvb_developer"]["name"] = "Old name"
    fake_stripe.requests.clear()
    out = setup()
    assert [(p, sorted(params)) for _m, p, params in fake_stripe.writes()] == [
        ("/v1/products/lvb_developer", ["name"]),
        (f"/v1/webhook_endpoints/{endpoint['id']}", ["enabled_events"]),
    ]
    assert set(endpoint["enabled_events"]) == set(WEBHOOK_EVENTS)
    assert "product developer: updated" in out and "webhook_endpoint " + URL + ": updated" in out
    assert "signing secret" not in out


def test_a_refused_key_fails_clearly_and_writes_nothing(fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_" + "WRONG" * 5
    stripe_gateway.reset_client()
    with pytest.raises(CommandError, match="Stripe refused the key in STRIPE_SECRET_KEY"):
        setup()
    assert [(m, p) for m, p, _ in fake_stripe.requests] == [("GET", "/v1/balance")]


def test_a_bad_key_exits_non_zero_from_the_shell(fake_stripe):
    env = {
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.local",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",  # the key check needs no database
        "STRIPE_SECRET_KEY": "sk_test_" + "WRONG" * 5,
        "STRIPE_API_BASE": fake_stripe.url,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "stripe_setup", "--webhook-url", URL],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Stripe refused the key in STRIPE_SECRET_KEY" in result.stderr


def test_no_key_is_a_clear_error(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="STRIPE_SECRET_KEY is not set"):
        setup()


def test_an_archived_price_holding_the_key_is_replaced(fake_stripe):
    setup()
    old = next(
        p for p in fake_stripe.prices.values() if p["lookup_key"] == "lvb_enterprise_monthly"
    )
    old["active"] = False  # archived in the Dashboard
    fake_stripe.requests.clear()
    out = setup()
    (created,) = posts(fake_stripe, "/v1/prices")
    assert created["lookup_key"] == "lvb_enterprise_monthly"
    assert created["transfer_lookup_key"] == "true" and created["unit_amount_decimal"] == "80000"
    assert len(fake_stripe.writes()) == 1
    assert "price lvb_enterprise_monthly: replaced" in out and "(active)" in out
