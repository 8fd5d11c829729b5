"""Tenant isolation over every endpoint (issue 17 part 3): a tenant token naming another
tenant's object gets 404 (403 on staff-only endpoints, or where its role may not act at all),
learns nothing of it and changes nothing.

The operations come from the OpenAPI schema (drf-spectacular's generator) and the URLconf, so a
new endpoint is covered automatically: `test_every_endpoint_with_an_id_has_a_case` fails until
each id it takes (path, query or body, found by name or UUID format) has a variant in CASES
naming tenant B's object, or is listed in GLOBAL_IDS (ids of objects no tenant owns).

The world: tenants A and B, each with a child (hierarchy), two cards (one declining), a paid
subscription invoice with a refund, an open invoice in dunning with a credit note, a draft
invoice, a usage event and a contract, all made through the API against the Stripe emulator.
Tenant A's admin and member tokens then call every variant with B's ids; each answer must be
the expected status, carry none of B's ids, names, emails, Stripe ids, numbers or amounts, and
leave every table of the database as it was (rows hashed before and after, after-commit work
run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from billing_project.shared.tests.test_stripe_gateway import emulator_card
from conftest import BillingClient
from payments.tests.conftest import DECLINING_CARD

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]

PREFIX = "/api/v1/billing/"
METHODS = ("get", "post", "put", "patch", "delete")
# Routes under PREFIX that are not operations of the schema, and why no tenant token reaches them.
OFF_SCHEMA = {
    "schema/": "the public OpenAPI document",
    "docs/": "the public Swagger UI",
    "webhooks/stripe": "Stripe's signed events: no token, a bad signature is a 400",
}
# Ids that name no tenant's object: the shared catalog, staff-made coupons, staff-only records.
GLOBAL_IDS = {
    "plan_id": "the catalog is shared by every tenant",
    "coupon_code": "coupons are made by staff for any tenant",
    "rule_id": "alert rules are staff-only and belong to no tenant",
    "document_id": "ledger entries are staff-only (403 to tenants whatever the id)",
    "idempotency_key": "usage idempotency keys are scoped per tenant by the unique index",
    "unique_key": "an event's distinct-count key, not a reference to any object",
    "postal_code": "an address field, not a reference",
    "vat_id": "a tax number the tenant states, not a reference",
    "customer_vat_id": "a tax number to check, not a reference",
}
ID_NAME = re.compile(r"(_id|_ids|_code)$")


# --- the schema's operations and the ids each takes ------------------------------------------


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    for key in ("allOf", "oneOf", "anyOf"):
        if key in node and len(node[key]) == 1:
            return _resolve(schema, node[key][0])
    return node


def _is_id(name: str, node: dict) -> bool:
    items = node.get("items", {})
    return bool(ID_NAME.search(name)) or "uuid" in (node.get("format"), items.get("format"))


def _body_ids(schema: dict, node: dict, prefix: str = "") -> set[str]:
    """Dotted paths of the id fields in a request body (nested objects and lists included)."""
    node = _resolve(schema, node)
    if node.get("type") == "array":
        return _body_ids(schema, node.get("items", {}), prefix)
    found = set()
    for name, prop in node.get("properties", {}).items():
        resolved = _resolve(schema, prop)
        if _is_id(name, resolved):
            found.add(f"{prefix}{name}")
        elif resolved.get("type") in ("object", "array") or "properties" in resolved:
            found |= _body_ids(schema, resolved, f"{prefix}{name}.")
    return found


def schema_operations() -> dict[tuple[str, str], set[str]]:
    """(METHOD, path without the prefix) -> the ids it takes: `path.x`, `query.x`, `body.x`."""
    schema = _schema()
    operations = {}
    for path, item in schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            ids = set()
            for parameter in operation.get("parameters", []):
                where, name = parameter["in"], parameter["name"]
                if where == "path" or (
                    where == "query" and _is_id(name, parameter.get("schema", {}))
                ):
                    ids.add(f"{where}.{name}")
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body:
                ids |= {f"body.{name}" for name in _body_ids(schema, body)}
            operations[(method.upper(), path.removeprefix(PREFIX))] = ids
    return operations


def urlconf_routes() -> set[str]:
    """Every route under PREFIX in the URLconf, as the schema spells it (`{name}` params)."""
    routes = set()

    def walk(patterns, prefix):
        for entry in patterns:
            text = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, text)
            elif isinstance(entry, URLPattern) and text.startswith(PREFIX.lstrip("/")):
                routes.add(
                    re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text).removeprefix("api/v1/billing/")
                )

    walk(get_resolver().url_patterns, "")
    return routes


# --- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A placeholder for a world id: `B.invoice_open`, `A.tenant`, ..."""

    key: str


def B(name):  # noqa: N802 - reads as the tenant's name
    return Ref(f"B.{name}")


def A(name):  # noqa: N802
    return Ref(f"A.{name}")


@dataclass(frozen=True)
class Variant:
    names: tuple[str, ...]  # the ids set to B's objects, e.g. ("path.invoice_id",)
    path: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    body: object = None
    attacker: str = "A"  # "A", or "A_bare" (a tenant with no subscription yet)
    # Per role, where the answer is decided before B's id is looked at (e.g. a field the role
    # may not set): the status it must be. The answer must still show nothing of B.
    expect: dict | None = None


@dataclass(frozen=True)
class Case:
    access: str  # who may call it at all: "staff", "admin" (tenant_admin and staff), "any"
    variants: tuple[Variant, ...]


def _v(names, **kwargs) -> Variant:
    return Variant(names=tuple(names.split()), **kwargs)


INVOICE_LINE = {"description": "Isolation probe", "quantity": 1, "unit_price": 100, "total": 100}
CUSTOM_INVOICE = {"line_items": [INVOICE_LINE]}


def _invoice_ops(access_by_method: dict, suffix: str, body=None) -> dict:
    return {
        (method, f"invoices/{{invoice_id}}{suffix}"): Case(
            access,
            (_v("path.invoice_id", path={"invoice_id": B("invoice_open")}, body=body),),
        )
        for method, access in access_by_method.items()
    }


def _tenant_path(suffix: str, access: str = "any", methods=("GET",), body=None) -> dict:
    return {
        (method, f"tenants/{{tenant_id}}{suffix}"): Case(
            access, (_v("path.tenant_id", path={"tenant_id": B("tenant")}, body=body),)
        )
        for method in methods
    }


def _query_tenant(path: str, access: str) -> dict:
    return {("GET", path): Case(access, (_v("query.tenant_id", query={"tenant_id": B("tenant")}),))}


def _case_ops(suffix: str, method: str = "POST") -> dict:
    return {
        (method, f"dunning/cases/{{case_id}}{suffix}"): Case(
            "staff", (_v("path.case_id", path={"case_id": B("dunning_case")}),)
        )
    }


CASES: dict[tuple[str, str], Case] = {
    **_query_tenant("analytics/payment-health", "staff"),
    **_query_tenant("analytics/usage", "staff"),
    **_query_tenant("analytics/usage/forecast", "staff"),
    **_query_tenant("contracts", "staff"),
    ("POST", "contracts"): Case(
        "staff",
        (
            _v(
                "body.tenant_id",
                body={"tenant_id": B("tenant"), "contract_terms": {"annual_minimum": 1}},
            ),
        ),
    ),
    ("GET", "contracts/{contract_id}"): Case(
        "staff", (_v("path.contract_id", path={"contract_id": B("contract")}),)
    ),
    ("PATCH", "contracts/{contract_id}"): Case(
        "staff",
        (
            _v(
                "path.contract_id",
                path={"contract_id": B("contract")},
                body={"end_date": "2030-01-01", "note": "probe"},
            ),
        ),
    ),
    ("GET", "credit-notes/{credit_note_id}/pdf"): Case(
        "any", (_v("path.credit_note_id", path={"credit_note_id": B("credit_note")}),)
    ),
    **_query_tenant("dunning/cases", "staff"),
    ("GET", "dunning/cases/{case_id}"): Case(
        "staff", (_v("path.case_id", path={"case_id": B("dunning_case")}),)
    ),
    **_case_ops("/pause"),
    **_case_ops("/resume"),
    **_case_ops("/retry"),
    **_case_ops("/write-off"),
    **_query_tenant("entitlements", "any"),
    ("POST", "hierarchies"): Case(
        "staff",
        (
            _v(
                "body.parent_entity.tenant_id body.child_entities.tenant_id",
                body={
                    "parent_entity": {"tenant_id": B("tenant")},
                    "child_entities": [{"tenant_id": B("child"), "cost_allocation": "100"}],
                },
            ),
        ),
    ),
    **_query_tenant("invoices", "any"),
    ("POST", "invoices"): Case(
        "staff", (_v("body.tenant_id", body={**CUSTOM_INVOICE, "tenant_id": B("tenant")}),)
    ),
    ("GET", "invoices/{invoice_id}"): Case(
        "any",
        tuple(
            _v("path.invoice_id", path={"invoice_id": B(name)})
            for name in ("invoice_draft", "invoice_open", "invoice_paid")
        ),
    ),
    ("PATCH", "invoices/{invoice_id}"): Case(
        "staff",
        (_v("path.invoice_id", path={"invoice_id": B("invoice_draft")}, body=CUSTOM_INVOICE),),
    ),
    ("DELETE", "invoices/{invoice_id}"): Case(
        "staff", (_v("path.invoice_id", path={"invoice_id": B("invoice_draft")}),)
    ),
    **_invoice_ops({"GET": "any"}, "/credit-notes"),
    **_invoice_ops(
        {"POST": "staff"}, "/credit-notes", {"lines": [{"description": "x", "amount": 1}]}
    ),
    ("POST", "invoices/{invoice_id}/finalize"): Case(
        "staff", (_v("path.invoice_id", path={"invoice_id": B("invoice_draft")}),)
    ),
    **_invoice_ops({"POST": "staff"}, "/mark-uncollectible"),
    ("POST", "invoices/{invoice_id}/pay"): Case(
        "admin",
        (
            _v("path.invoice_id", path={"invoice_id": B("invoice_open")}, body={}),
            _v(
                "path.invoice_id body.payment_method_id",
                path={"invoice_id": B("invoice_open")},
                body={"payment_method_id": B("card")},
            ),
            # A's own open invoice with B's card: by our id, and by its Stripe id.
            _v(
                "body.payment_method_id",
                path={"invoice_id": A("invoice_open")},
                body={"payment_method_id": B("card")},
            ),
            _v(
                "body.payment_method_id",
                path={"invoice_id": A("invoice_open")},
                body={"payment_method_id": B("card_stripe")},
            ),
        ),
    ),
    **_invoice_ops({"GET": "any"}, "/payment-attempts"),
    **_invoice_ops({"POST": "staff"}, "/payments", {"amount": 1, "method": "bank_transfer"}),
    ("GET", "invoices/{invoice_id}/pdf"): Case(
        "any",
        tuple(
            _v("path.invoice_id", path={"invoice_id": B(name)})
            for name in ("invoice_draft", "invoice_paid")
        ),
    ),
    ("GET", "invoices/{invoice_id}/refunds"): Case(
        "any", (_v("path.invoice_id", path={"invoice_id": B("invoice_paid")}),)
    ),
    ("POST", "invoices/{invoice_id}/refunds"): Case(
        "staff",
        (_v("path.invoice_id", path={"invoice_id": B("invoice_paid")}, body={"amount": 1}),),
    ),
    **_invoice_ops({"POST": "staff"}, "/send"),
    **_invoice_ops({"POST": "staff"}, "/void"),
    **_query_tenant("invoices/upcoming", "any"),
    ("GET", "ledger/entries"): Case(
        "staff", (_v("query.document_id", query={"document_id": B("invoice_paid")}),)
    ),
    ("GET", "ledger/entries.csv"): Case(
        "staff", (_v("query.document_id", query={"document_id": B("invoice_paid")}),)
    ),
    **_query_tenant("payment-methods", "admin"),
    ("POST", "payment-methods"): Case(
        "admin",
        (
            _v(
                "body.tenant_id",
                body={"type": "card", "stripe_payment_method_id": "pm_card_visa"}
                | {"tenant_id": B("tenant")},
            ),
            # B's card by its Stripe id, attached to A's customer: refused, not moved.
            _v(
                "body.stripe_payment_method_id",
                body={"type": "card"} | {"stripe_payment_method_id": B("card_stripe")},
            ),
        ),
    ),
    ("DELETE", "payment-methods/{payment_method_id}"): Case(
        "admin",
        (_v("path.payment_method_id", path={"payment_method_id": B("card")}),),
    ),
    ("PATCH", "payment-methods/{payment_method_id}/default"): Case(
        "admin",
        (_v("path.payment_method_id", path={"payment_method_id": B("card")}),),
    ),
    **_query_tenant("subscriptions", "any"),
    ("POST", "subscriptions"): Case(
        "admin",
        (
            _v("body.tenant_id", body={"tenant_id": B("tenant"), "plan_id": "team"}),
            # A tenant with no subscription yet, so the card is what the answer turns on.
            _v(
                "body.payment_method_id",
                body={"tenant_id": A("bare"), "plan_id": "team", "payment_method_id": B("card")},
                attacker="A_bare",
            ),
            _v(
                "body.payment_method_id",
                body={"plan_id": "team", "payment_method_id": B("card_stripe")},
                attacker="A_bare",
            ),
        ),
    ),
    ("GET", "subscriptions/{subscription_id}"): Case(
        "any", (_v("path.subscription_id", path={"subscription_id": B("subscription")}),)
    ),
    ("PATCH", "subscriptions/{subscription_id}"): Case(
        "admin",
        (
            _v(
                "path.subscription_id",
                path={"subscription_id": B("subscription")},
                body={"cancel_at_period_end": True},
            ),
            _v(
                "path.subscription_id",
                path={"subscription_id": B("subscription")},
                body={"plan_id": "enterprise", "prorate": True},
            ),
        ),
    ),
    ("POST", "subscriptions/{subscription_id}/preview"): Case(
        "any",
        (
            _v(
                "path.subscription_id",
                path={"subscription_id": B("subscription")},
                body={"plan_id": "enterprise"},
            ),
        ),
    ),
    ("POST", "subscriptions/{subscription_id}/reactivate"): Case(
        "admin", (_v("path.subscription_id", path={"subscription_id": B("subscription")}),)
    ),
    **_query_tenant("tenants", "staff"),
    ("POST", "tenants"): Case(
        "staff",
        (
            _v(
                "body.parent_id",
                body={"name": "Probe", "email": "p@probe.example", "country": "US"}
                | {"parent_id": B("tenant")},
            ),
        ),
    ),
    **_tenant_path(""),
    ("PATCH", "tenants/{tenant_id}"): Case(
        # The lookup comes first: a member naming B gets B's 404, not its role's 403.
        "any",
        (
            _v(
                "path.tenant_id", path={"tenant_id": B("tenant")}, body={"email": "x@probe.example"}
            ),
            # A's own tenant under B: a tenant_admin may not set parent_id at all (400 for the
            # field, whoever it names), a member may not change the tenant (403).
            _v(
                "body.parent_id",
                path={"tenant_id": A("tenant")},
                body={"parent_id": B("tenant")},
                expect={"tenant_admin": 400, "tenant_member": 403},
            ),
        ),
    ),
    **_tenant_path("/cost-allocation"),
    **_tenant_path("/hierarchy"),
    **_tenant_path("/statement"),
    ("POST", "usage"): Case(
        "any",
        (
            _v(
                "body.tenant_id",
                body={"tenant_id": B("tenant"), "metric_type": "api_calls", "quantity": 1},
            ),
        ),
    ),
    ("POST", "usage/batch"): Case(
        "any",
        (
            _v(
                "body.tenant_id",
                body={
                    "tenant_id": B("tenant"),
                    "records": [{"metric_type": "api_calls", "quantity": 1}],
                },
            ),
        ),
    ),
    **_query_tenant("usage/current", "any"),
    **_query_tenant("usage/events", "any"),
}


def _covered(case: Case) -> set[str]:
    return {name for variant in case.variants for name in variant.names}


def _unlisted(ids: set[str]) -> set[str]:
    return {name for name in ids if name.rsplit(".", 1)[-1] not in GLOBAL_IDS}


def test_every_route_is_in_the_schema():
    operations = schema_operations()
    documented = {path for _method, path in operations}
    missing = urlconf_routes() - documented - set(OFF_SCHEMA)
    assert not missing, f"routes outside the schema: give them a case here: {sorted(missing)}"


def test_every_endpoint_with_an_id_has_a_case():
    operations = schema_operations()
    problems = []
    for key, ids in sorted(operations.items()):
        wanted = _unlisted(ids)
        if not wanted:
            continue
        case = CASES.get(key)
        if case is None:
            problems.append(f"{key}: no case for {sorted(wanted)}")
            continue
        uncovered = wanted - _covered(case)
        if uncovered:
            problems.append(f"{key}: no variant names B's object in {sorted(uncovered)}")
    stale = sorted(set(CASES) - set(operations))
    assert not problems and not stale, "\n".join(problems + [f"stale cases: {stale}"])


# --- the world -------------------------------------------------------------------------------


def _ok(response, status=(200, 201)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), (
        response.status_code,
        response.content[:500],
    )
    return response.json() if response.content else None


def _build_tenant(staff, stripe_url, label: str, amount: int, captured) -> dict:
    """One tenant with one of everything, through the API. `amount`: its distinctive cents."""
    ids: dict = {}
    tenant = _ok(
        staff.post(
            "tenants",
            {"name": f"Isolation {label} Corp", "email": f"ap@{label.lower()}-iso.example"}
            | {"country": "US", "state": "OR", "postal_code": "97201"},
        )
    )
    ids["tenant"], ids["stripe_customer"] = tenant["id"], tenant["stripe_customer_id"]
    child = _ok(
        staff.post(
            "tenants",
            {"name": f"Isolation {label} Subsidiary", "email": f"sub@{label.lower()}-iso.example"}
            | {"country": "US", "state": "OR"},
        )
    )
    ids["child"] = child["id"]
    _ok(
        staff.post(
            "hierarchies",
            {
                "parent_entity": {"tenant_id": ids["tenant"]},
                "child_entities": [{"tenant_id": ids["child"], "cost_allocation": "100"}],
            },
        )
    )
    card = _ok(
        staff.post(
            "payment-methods",
            {
                "type": "card",
                "stripe_payment_method_id": "pm_card_visa",
                "tenant_id": ids["tenant"],
            },
        )
    )
    ids["card"], ids["card_stripe"] = card["id"], card["stripe_payment_method_id"]
    with captured(execute=True):
        subscription = _ok(
            staff.post("subscriptions", {"tenant_id": ids["tenant"], "plan_id": "developer"})
        )
    ids["subscription"] = subscription["id"]
    (paid,) = _ok(staff.get("invoices", {"tenant_id": ids["tenant"]}))["results"]
    assert paid["status"] == "paid", paid
    ids["invoice_paid"], ids["invoice_paid_number"] = paid["id"], paid["number"]
    refund = _ok(staff.post(f"invoices/{paid['id']}/refunds", {"amount": amount // 10}))
    ids["refund"] = refund["id"]
    declining = _ok(
        staff.post(
            "payment-methods",
            {"type": "card", "tenant_id": ids["tenant"]}
            | {"stripe_payment_method_id": emulator_card(stripe_url, DECLINING_CARD)},
        )
    )
    ids["card_declining"] = declining["id"]
    _ok(staff.patch(f"payment-methods/{declining['id']}/default"))
    line = {"description": f"{label} consulting", "quantity": 1, "unit_price": amount}
    body = {"tenant_id": ids["tenant"], "line_items": [line | {"total": amount}]}
    open_ = _ok(staff.post("invoices", body))
    with captured(execute=True):
        open_ = _ok(staff.post(f"invoices/{open_['id']}/finalize"))
    ids["invoice_open"], ids["invoice_open_number"] = open_["id"], open_["number"]
    note = _ok(
        staff.post(
            f"invoices/{open_['id']}/credit-notes",
            {"lines": [{"description": "Goodwill", "amount": amount // 20}], "reason": "probe"},
        )
    )
    ids["credit_note"], ids["credit_note_number"] = note["id"], note["number"]
    cases = _ok(staff.get("dunning/cases", {"tenant_id": ids["tenant"]}))["results"]
    assert len(cases) == 1, cases
    ids["dunning_case"] = cases[0]["id"]
    draft = _ok(staff.post("invoices", body | {"line_items": [line | {"total": amount}]}))
    ids["invoice_draft"] = draft["id"]
    event = _ok(
        staff.post(
            "usage",
            {"tenant_id": ids["tenant"], "metric_type": "api_calls", "quantity": amount},
        )
    )
    ids["usage_event"] = event["id"]
    contract = _ok(
        staff.post(
            "contracts",
            {"tenant_id": ids["tenant"], "contract_terms": {"annual_minimum": amount * 100}},
        )
    )
    ids["contract"] = contract["id"]
    ids["names"] = [
        f"Isolation {label} Corp",
        f"Isolation {label} Subsidiary",
        f"{label} consulting",
    ]
    ids["emails"] = [f"ap@{label.lower()}-iso.example", f"sub@{label.lower()}-iso.example"]
    ids["amounts"] = [amount, amount // 10, amount // 20, amount * 100]
    return ids


@pytest.fixture
def world(stripe_enabled, staff_client, token_for, django_capture_on_commit_callbacks):
    from subscriptions.models import Tenant

    a = _build_tenant(
        staff_client, stripe_enabled, "Alpha", 4411, django_capture_on_commit_callbacks
    )
    b = _build_tenant(
        staff_client, stripe_enabled, "Bravo", 7317, django_capture_on_commit_callbacks
    )
    bare = _ok(
        staff_client.post(
            "tenants",
            {"name": "Isolation Alpha Fresh", "email": "new@alpha-iso.example"}
            | {"country": "US", "state": "OR"},
        )
    )
    a["bare"] = bare["id"]
    tokens = {}
    for name, tenant_id in (("A", a["tenant"]), ("A_bare", a["bare"])):
        tenant = Tenant.objects.get(pk=tenant_id)
        tokens[name] = {
            role: BillingClient(token_for(role, tenant))
            for role in ("tenant_admin", "tenant_member")
        }
    return {"A": a, "B": b, "clients": tokens}


# --- probing ---------------------------------------------------------------------------------


def _fill(value, world):
    if isinstance(value, Ref):
        side, name = value.key.split(".", 1)
        return world[side][name]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _b_markers(world) -> list[re.Pattern]:
    b = world["B"]
    texts = (
        [
            value
            for key, value in b.items()
            if isinstance(value, str) and key not in ("names", "emails")
        ]
        + b["names"]
        + b["emails"]
    )
    patterns = [re.compile(re.escape(text), re.IGNORECASE) for text in texts if text]
    # Amounts as whole numbers, not digits inside a longer number or an id.
    patterns += [
        re.compile(rf"(?<![0-9A-Za-z.]){amount}(?![0-9A-Za-z])") for amount in b["amounts"]
    ]
    return patterns


SKIPPED_TABLES = {
    # last_used_at is stamped at most once a minute per token: each token is used before the
    # first snapshot.
    "subscriptions_apitoken",
}


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(name for (name,) in cursor.fetchall() if name not in SKIPPED_TABLES)


def _hashes(tables) -> dict[str, str]:
    """One hash of every row of each table (order-independent)."""
    if not tables:
        return {}
    sql = " UNION ALL ".join(
        f"SELECT '{name}', md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))"
        f' FROM "{name}" t'
        for name in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def _writes() -> dict[str, int]:
    """Rows this transaction inserted, updated or deleted so far, per table (aborted
    savepoints included): a cheap test of which tables may have changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE schemaname = 'public'"
        )
        return dict(cursor.fetchall())


class Snapshot:
    """Every table's rows, re-hashed only where this transaction wrote since the last look."""

    def __init__(self, tables):
        self.tables = tables
        self.hashes = _hashes(tables)
        self.writes = _writes()

    def changed(self) -> list[str]:
        writes = _writes()
        touched = [name for name in self.tables if writes.get(name, 0) != self.writes.get(name, 0)]
        self.writes = writes
        fresh = _hashes(touched)
        changed = sorted(name for name in touched if fresh[name] != self.hashes[name])
        self.hashes.update(fresh)
        return changed


def _call(client: BillingClient, method: str, path: str, variant: Variant, world):
    url = path
    for name, value in _fill(variant.path, world).items():
        url = url.replace(f"{{{name}}}", str(value))
    query = _fill(variant.query, world)
    if method == "GET":
        return url, client.get(url, query)
    if method == "DELETE":
        return url, client.delete(url)
    body = _fill(variant.body, world) if variant.body is not None else {}
    return url, getattr(client, method.lower())(url, body)


def _expected(case: Case, role: str) -> int:
    if case.access == "staff" or (case.access == "admin" and role == "tenant_member"):
        return 403
    return 404


def _leaks(response, markers) -> list[str]:
    text = response.content.decode("utf-8", "replace")
    for header in ("Content-Disposition", "Location"):
        text += "\n" + response.get(header, "")
    return [pattern.pattern for pattern in markers if pattern.search(text)]


def test_no_endpoint_serves_or_changes_another_tenants_objects(
    world, django_capture_on_commit_callbacks, token_for
):
    from subscriptions.models import Tenant

    operations = schema_operations()
    markers = _b_markers(world)
    for by_role in world["clients"].values():
        for client in by_role.values():
            assert client.get("plans").status_code == 200  # stamps last_used_at once
    snapshot = Snapshot(_tables())
    failures = []
    calls = 0
    for (method, path), ids in sorted(operations.items()):
        case = CASES.get((method, path))
        variants = case.variants if case else ()
        # Operations without ids (or with query ids only, called bare) must not show B either.
        plain = method == "GET" and not any(name.startswith("path.") for name in ids)
        if plain:
            variants = (*variants, Variant(names=()))
        elif case is None:
            variants = (Variant(names=(), body={}),)
        for variant in variants:
            for role in ("tenant_admin", "tenant_member"):
                client = world["clients"][variant.attacker][role]
                with django_capture_on_commit_callbacks(execute=True):
                    url, response = _call(client, method, path, variant, world)
                calls += 1
                changed = snapshot.changed()
                where = f"{role} {method} {url} {variant.names or '(no ids)'}"
                if variant.names:
                    expected = (variant.expect or {}).get(role) or _expected(case, role)
                    if response.status_code != expected:
                        failures.append(
                            f"{where}: {response.status_code} (expected {expected}) "
                            f"{response.content[:200]!r}"
                        )
                elif response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                leaked = _leaks(response, markers)
                if leaked:
                    failures.append(f"{where}: the answer shows B's {leaked}")
                if changed and (response.status_code >= 400 or variant.names):
                    failures.append(f"{where}: {response.status_code} changed {changed}")
    assert calls > 100
    assert not failures, "\n".join(failures)
    # The probes are not blind: staff reading with the same ids get B's objects, and a write to
    # B's rows is seen.
    staff = BillingClient(token_for("staff"))
    assert _leaks(staff.get(f"invoices/{world['B']['invoice_open']}"), markers)
    for (method, path), case in CASES.items():
        for variant in case.variants:
            if method == "GET" and variant.attacker == "A":
                url, response = _call(staff, method, path, variant, world)
                assert response.status_code == 200, (url, response.content[:300])
    snapshot.changed()
    Tenant.objects.filter(pk=world["B"]["tenant"]).update(name="Renamed")
    assert "subscriptions_tenant" in snapshot.changed()
