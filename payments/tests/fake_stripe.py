"""A small fake of the Stripe API over real HTTP (stdlib http.server in a thread), for what
`stripe_setup` calls: balance, products, prices (lookup keys, transfer_lookup_key), billing
meters and webhook endpoints. The objects it answers are the recorded current-format JSON in
fixtures/stripe/, with the request's fields filled in; it keeps them in memory and records
every request (method, path, decoded params) so tests can count the writes.

The localstripe emulator has no Prices, Meters or webhook endpoints: hence this.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
GOOD_KEY = "sk_test_" + "fakeStripeSetup0123456789"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def decode(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (`a[b][0]=x`) back into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_lists(node[k]) for k in sorted(node, key=int)]
    return {k: _lists(v) for k, v in node.items()}


def _bool(value) -> bool:
    return str(value).lower() == "true"


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    products: dict[str, dict] = field(default_factory=dict)
    prices: dict[str, dict] = field(default_factory=dict)
    meters: dict[str, dict] = field(default_factory=dict)
    endpoints: dict[str, dict] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def writes(self) -> list[tuple[str, str, dict]]:
        return [r for r in self.requests if r[0] == "POST"]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self.counter):06d}"

    # --- handlers: (status, body) -------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        routes = [
            ("GET", r"/v1/balance", lambda: (200, fixture("balance"))),
            ("GET", r"/v1/products/(?P<id>[^/]+)", self.product_get),
            ("POST", r"/v1/products", self.product_create),
            ("POST", r"/v1/products/(?P<id>[^/]+)", self.product_update),
            ("GET", r"/v1/prices", self.price_list),
            ("POST", r"/v1/prices", self.price_create),
            ("GET", r"/v1/billing/meters", lambda: self.listing("/v1/billing/meters", self.meters)),
            ("POST", r"/v1/billing/meters", self.meter_create),
            ("POST", r"/v1/billing/meters/(?P<id>[^/]+)", self.meter_update),
            ("POST", r"/v1/billing/meters/(?P<id>[^/]+)/reactivate", self.meter_reactivate),
            (
                "GET",
                r"/v1/webhook_endpoints",
                lambda: self.listing("/v1/webhook_endpoints", self.endpoints),
            ),
            ("POST", r"/v1/webhook_endpoints", self.endpoint_create),
            ("POST", r"/v1/webhook_endpoints/(?P<id>[^/]+)", self.endpoint_update),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                self._params = params
                return handler(**match.groupdict())
        return 404, {"error": {"type": "invalid_request_error", "message": f"No route {path}"}}

    @staticmethod
    def listing(url: str, objects: dict | list) -> tuple[int, dict]:
        body = fixture("list")
        body["url"] = url
        body["data"] = list(objects.values() if isinstance(objects, dict) else objects)
        return 200, body

    @staticmethod
    def missing(kind: str, id: str) -> tuple[int, dict]:
        body = fixture("error_resource_missing")
        body["error"]["message"] = f"No such {kind}: '{id}'"
        return 404, body

    def product_get(self, id):
        return (200, self.products[id]) if id in self.products else self.missing("product", id)

    def product_create(self):
        p = self._params
        obj = fixture("product") | {
            "id": p.get("id") or self.new_id("prod"),
            "name": p["name"],
            "description": p.get("description"),
            "metadata": p.get("metadata", {}),
            "active": _bool(p.get("active", "true")),
        }
        self.products[obj["id"]] = obj
        return 200, obj

    def product_update(self, id):
        if id not in self.products:
            return self.missing("product", id)
        obj = self.products[id]
        for name in ("name", "description"):
            if name in self._params:
                obj[name] = self._params[name] or None
        if "active" in self._params:
            obj["active"] = _bool(self._params["active"])
        return 200, obj

    def price_list(self):
        keys = set(self._params.get("lookup_keys", []))
        found = [p for p in self.prices.values() if p["lookup_key"] in keys]
        return self.listing("/v1/prices", found)

    def price_create(self):
        p = self._params
        recurring = p.get("recurring", {})
        template = fixture("price_metered" if recurring.get("meter") else "price")
        key = p.get("lookup_key")
        holder = next((x for x in self.prices.values() if key and x["lookup_key"] == key), None)
        if holder is not None:
            if not _bool(p.get("transfer_lookup_key")):
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"A price (`{holder['id']}`) already uses that lookup key.",
                    }
                }
            holder["lookup_key"] = None
        decimal = p.get("unit_amount_decimal") or p.get("unit_amount")
        obj = template | {
            "id": self.new_id("price"),
            "product": p["product"],
            "currency": p["currency"],
            "lookup_key": key,
            "nickname": p.get("nickname"),
            "unit_amount_decimal": decimal,
            "unit_amount": int(decimal) if decimal and decimal.isdigit() else None,
            "recurring": copy.deepcopy(template["recurring"])
            | {
                "interval": recurring["interval"],
                "usage_type": recurring.get("usage_type", "licensed"),
                "meter": recurring.get("meter"),
            },
        }
        self.prices[obj["id"]] = obj
        return 200, obj

    def meter_create(self):
        p = self._params
        obj = fixture("billing_meter") | {
            "id": self.new_id("mtr"),
            "event_name": p["event_name"],
            "display_name": p["display_name"],
            "default_aggregation": p["default_aggregation"],
            "customer_mapping": p.get("customer_mapping"),
            "value_settings": p.get("value_settings"),
        }
        self.meters[obj["id"]] = obj
        return 200, obj

    def meter_update(self, id):
        if id not in self.meters:
            return self.missing("billing.meter", id)
        self.meters[id]["display_name"] = self._params.get("display_name")
        return 200, self.meters[id]

    def meter_reactivate(self, id):
        if id not in self.meters:
            return self.missing("billing.meter", id)
        self.meters[id]["status"] = "active"
        return 200, self.meters[id]

    def endpoint_create(self):
        p = self._params
        obj = fixture("webhook_endpoint") | {
            "id": self.new_id("we"),
            "url": p["url"],
            "enabled_events": p["enabled_events"],
            "description": p.get("description"),
            "secret": f"whsec_fake{next(self.counter):020d}",
        }
        self.endpoints[obj["id"]] = obj
        return 200, obj

    def endpoint_update(self, id):
        if id not in self.endpoints:
            return self.missing("webhook_endpoint", id)
        obj = self.endpoints[id]
        if "enabled_events" in self._params:
            obj["enabled_events"] = self._params["enabled_events"]
        if "disabled" in self._params:
            obj["status"] = "disabled" if _bool(self._params["disabled"]) else "enabled"
        # Stripe returns the secret only at creation.
        return 200, {k: v for k, v in obj.items() if k != "secret"}

    def stored_endpoint(self, id) -> dict:
        return self.endpoints[id]


def _handler_for(fake: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            params = decode(parse_qsl(parts.query) + parse_qsl(raw))
            fake.requests.append((self.command, parts.path, params))
            if self.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
                status, body = 401, fixture("error_invalid_api_key")
            else:
                status, body = fake.handle(self.command, parts.path, params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", "req_fake")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format, *args):  # quiet
            pass

    return Handler


class FakeStripeServer:
    """Serves a FakeStripe on a free loopback port until stopped."""

    def __init__(self):
        self.fake = FakeStripe()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.fake))
        self.fake.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeStripe:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
