"""The Stripe account set up as the catalog says (`manage.py stripe_setup`), idempotently.

Per active plan: a Product (our id `lvb_<slug>`), a monthly Price found again by its lookup key
`lvb_<slug>_monthly`, and a metered Price per plan metric (`lvb_<slug>_<metric>_overage`) on a
Billing Meter per metric (event name `lvb_<metric>`, found again by it). Prices cannot change at
Stripe: a changed amount is a new Price that takes the lookup key over
(`transfer_lookup_key`). Then the webhook endpoint for our URL with the events we handle. Every
object is compared with what it should be and only a difference is written: a rerun writes
nothing.

This system computes every charge (product.md §1): the Prices and Meters describe the catalog
in Stripe (reports, a Stripe-hosted invoice) and are not what bills.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from billing_project.shared import stripe_gateway
from payments.services.webhooks import HANDLERS
from subscriptions.models import Metric, Plan
from subscriptions.models.catalog import Aggregation

# Stripe meters sum, count or keep the last value: a max or a distinct count is reported by us
# as the period's figure, so the last report is the one that counts.
FORMULAS = {
    Aggregation.SUM: "sum",
    Aggregation.MAX: "last",
    Aggregation.LATEST: "last",
    Aggregation.UNIQUE_COUNT: "last",
}
# The guide's required events and the others our webhook handles (product.md §8).
WEBHOOK_EVENTS = tuple(sorted(HANDLERS))


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # product | price | meter | webhook_endpoint
    name: str  # what it stands for: a lookup key, an event name, a URL
    action: str  # created | updated | unchanged | replaced (a new Price took the lookup key)
    stripe_id: str
    note: str = ""
    secret: str = ""  # a new webhook endpoint's signing secret (Stripe shows it only then)


def product_id(plan: Plan) -> str:
    return f"lvb_{plan.slug}"


def monthly_lookup_key(plan: Plan) -> str:
    return f"lvb_{plan.slug}_monthly"


def overage_lookup_key(plan: Plan, metric: Metric) -> str:
    return f"lvb_{plan.slug}_{metric.metric_type}_overage"


def meter_event_name(metric: Metric) -> str:
    return f"lvb_{metric.metric_type}"


def _decimal_text(value: Decimal) -> str:
    """Stripe's `unit_amount_decimal`: plain digits (at most 12 decimals), no exponent."""
    return format(Decimal(value).quantize(Decimal("0.000000000001")).normalize(), "f")


def key_check() -> bool:
    """True in live mode; a refused key raises StripeAuthenticationFailed."""
    return stripe_gateway.account_check()


def _product(plan: Plan) -> Outcome:
    wanted = {"name": plan.name, "description": plan.description or None, "active": True}
    found = stripe_gateway.product_retrieve(product_id(plan))
    if found is None:
        params = {"id": product_id(plan), "metadata": {"plan_slug": plan.slug}}
        created = stripe_gateway.product_create(
            params | {k: v for k, v in wanted.items() if v is not None}
        )
        return Outcome("product", plan.slug, "created", created.id)
    current = {"name": found.name, "description": found.description or None, "active": found.active}
    if current == wanted:
        return Outcome("product", plan.slug, "unchanged", found.id)
    changes = {k: ("" if v is None else v) for k, v in wanted.items() if current[k] != v}
    stripe_gateway.product_update(found.id, changes)
    return Outcome("product", plan.slug, "updated", found.id, note=", ".join(sorted(changes)))


def _price(*, lookup_key: str, wanted: dict, found, extra: dict) -> Outcome:
    """`wanted`: the fields a Price is compared on; `extra`: set on creation only."""
    if found is not None and _price_fields(found) == wanted:
        return Outcome("price", lookup_key, "unchanged", found.id)
    recurring = {"interval": wanted["interval"], "usage_type": wanted["usage_type"]}
    if wanted["meter"]:
        recurring["meter"] = wanted["meter"]
    params = {
        "product": wanted["product"],
        "currency": wanted["currency"],
        "unit_amount_decimal": wanted["unit_amount_decimal"],
        "recurring": recurring,
        "billing_scheme": "per_unit",
        "lookup_key": lookup_key,
        **extra,
    }
    if found is None:
        created = stripe_gateway.price_create(params)
        return Outcome("price", lookup_key, "created", created.id)
    created = stripe_gateway.price_create(params | {"transfer_lookup_key": True})
    changed = sorted(k for k, v in wanted.items() if _price_fields(found)[k] != v)
    return Outcome(
        "price", lookup_key, "replaced", created.id, note=f"was {found.id} ({', '.join(changed)})"
    )


def _price_fields(price: stripe_gateway.StripePrice) -> dict:
    return {
        "product": price.product,
        "currency": price.currency.lower(),
        "unit_amount_decimal": _decimal_text(Decimal(price.unit_amount_decimal)),
        "interval": price.interval,
        "usage_type": price.usage_type or "licensed",
        "meter": price.meter,
        "active": price.active,
    }


def _meters(metrics: Iterable[Metric]) -> tuple[list[Outcome], dict[str, str]]:
    existing = {}
    for meter in stripe_gateway.meters_list():
        # An active meter wins over an inactive one of the same event name.
        if meter.event_name not in existing or meter.status == "active":
            existing[meter.event_name] = meter
    outcomes, ids = [], {}
    for metric in metrics:
        name = meter_event_name(metric)
        formula = FORMULAS[metric.aggregation]
        found = existing.get(name)
        if found is None:
            created = stripe_gateway.meter_create(
                {
                    "display_name": metric.name,
                    "event_name": name,
                    "default_aggregation": {"formula": formula},
                    "customer_mapping": {
                        "type": "by_id",
                        "event_payload_key": "stripe_customer_id",
                    },
                    "value_settings": {"event_payload_key": "value"},
                }
            )
            outcomes.append(Outcome("meter", name, "created", created.id))
            ids[metric.metric_type] = created.id
            continue
        ids[metric.metric_type] = found.id
        notes = []
        if found.status != "active":
            stripe_gateway.meter_reactivate(found.id)
            notes.append("reactivated")
        if found.display_name != metric.name:
            stripe_gateway.meter_update(found.id, {"display_name": metric.name})
            notes.append("display_name")
        if found.formula != formula:
            # A meter's aggregation cannot change at Stripe: say so, change nothing.
            notes.append(
                f"aggregation is {found.formula!r}, not {formula!r} (Stripe cannot change it)"
            )
        wrote = found.status != "active" or found.display_name != metric.name
        action = "updated" if wrote else "unchanged"
        outcomes.append(Outcome("meter", name, action, found.id, note="; ".join(notes)))
    return outcomes, ids


def _webhook_endpoint(url: str) -> Outcome:
    wanted = set(WEBHOOK_EVENTS)
    found = next((e for e in stripe_gateway.webhook_endpoints_list() if e.url == url), None)
    if found is None:
        created = stripe_gateway.webhook_endpoint_create(
            {
                "url": url,
                "enabled_events": list(WEBHOOK_EVENTS),
                "description": "LeanVibe Billing",
            }
        )
        return Outcome("webhook_endpoint", url, "created", created.id, secret=created.secret)
    changes: dict = {}
    if set(found.enabled_events) != wanted:
        changes["enabled_events"] = list(WEBHOOK_EVENTS)
    if found.status == "disabled":
        changes["disabled"] = False
    if not changes:
        return Outcome("webhook_endpoint", url, "unchanged", found.id)
    stripe_gateway.webhook_endpoint_update(found.id, changes)
    return Outcome("webhook_endpoint", url, "updated", found.id, note=", ".join(sorted(changes)))


def _price_wanted(plan, amount: Decimal, *, usage_type: str, meter: str) -> dict:
    """The fields a plan's Price must have (compared with the one found by its lookup key)."""
    return {
        "product": product_id(plan),
        "currency": plan.currency.lower(),
        "unit_amount_decimal": _decimal_text(amount),
        "interval": plan.interval,
        "usage_type": usage_type,
        "meter": meter,
        "active": True,
    }


def stripe_setup(*, webhook_url: str) -> list[Outcome]:
    """Bring the account in line with the active plans; returns what was done, object by object.
    The key is checked first (`key_check`)."""
    plans = list(
        Plan.objects.filter(active=True).prefetch_related("plan_metrics__metric").order_by("slug")
    )
    metrics = {pm.metric.metric_type: pm.metric for plan in plans for pm in plan.plan_metrics.all()}
    outcomes = [_product(plan) for plan in plans]
    meter_outcomes, meter_ids = _meters(metrics[name] for name in sorted(metrics))
    outcomes += meter_outcomes
    lookup_keys = [monthly_lookup_key(p) for p in plans] + [
        overage_lookup_key(p, pm.metric) for p in plans for pm in p.plan_metrics.all()
    ]
    prices = stripe_gateway.prices_by_lookup_keys(lookup_keys)
    for plan in plans:
        key = monthly_lookup_key(plan)
        wanted = _price_wanted(plan, Decimal(plan.amount), usage_type="licensed", meter="")
        outcomes.append(
            _price(lookup_key=key, wanted=wanted, found=prices.get(key),
                   extra={"nickname": f"{plan.name} monthly"})
        )  # fmt: skip
        for pm in sorted(plan.plan_metrics.all(), key=lambda pm: pm.metric.metric_type):
            key = overage_lookup_key(plan, pm.metric)
            wanted = _price_wanted(
                plan,
                pm.overage_unit_price,
                usage_type="metered",
                meter=meter_ids[pm.metric.metric_type],
            )
            outcomes.append(
                _price(lookup_key=key, wanted=wanted, found=prices.get(key),
                       extra={"nickname": f"{plan.name} {pm.metric.name} overage"})
            )  # fmt: skip
    outcomes.append(_webhook_endpoint(webhook_url))
    return outcomes
