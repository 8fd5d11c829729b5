# ruff: noqa: F811  (fixtures imported from payments.tests.conftest)
"""Monitoring: /metrics (access, parse, samples after real actions), the four figures on the
admin page, alert rules (once per period, signed webhook retried, API)."""

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from prometheus_client.parser import text_string_to_metric_families

from analytics.models import AlertFiring, AlertRule
from analytics.selectors.monitoring import monitoring_figures
from analytics.services.alerts import alerts_evaluate
from billing_project.shared.clock import utcnow
from invoicing.models import BillingRun
from payments.models import WebhookEvent
from payments.tests.conftest import (  # noqa: F401, F811  (fixtures)
    draft_invoice,
    event_for,
    finalized,
    post_event,
    webhook_secret,
    with_card,
)

pytestmark = pytest.mark.django_db


def samples(client, **extra) -> dict:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_access(anon_client, staff_client, tenant_admin_client):
    assert anon_client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    outside = anon_client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert outside.status_code == 401
    assert outside.json()["code"] == "not_authenticated"
    proxied = anon_client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert proxied.status_code == 401
    denied = tenant_admin_client.get("/metrics")
    assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
    assert staff_client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


@pytest.mark.stripe
def test_metrics_parse_and_count_real_actions(
    client,
    staff_client,
    tenant,
    admin_client_for,
    webhook_secret,
    with_card,
    finalized,
    django_capture_on_commit_callbacks,
):
    before = samples(staff_client)
    admin = admin_client_for(tenant)
    created = admin.post("subscriptions", {"tenant_id": str(tenant.pk), "plan_id": "developer"})
    assert created.status_code == 201, created.content
    assert admin.post("usage", {"metric_type": "api_calls", "quantity": 5}).status_code == 201
    batch = admin.post(
        "usage/batch",
        {"records": [{"metric_type": "api_calls", "quantity": 1, "timestamp": utcnow().isoformat()},
                     {"metric_type": "ai_requests", "quantity": 2,
                      "timestamp": utcnow().isoformat()}]},
    )  # fmt: skip
    assert batch.status_code in (200, 201), batch.content
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event_for({"id": "x"}, "ping.test")).status_code == 200
    with_card(tenant)
    assert finalized(tenant, 4900)["status"] == "paid"

    cache.clear()  # the scrape-time gauges are cached for 30 s
    after = samples(staff_client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("billing_usage_events_ingested_total", source="single") == 1
    assert delta("billing_usage_events_ingested_total", source="batch") == 2
    assert delta("billing_webhook_events_received_total", type="ping.test", duplicate="no") == 1
    assert delta("billing_webhook_events_processed_total", type="ping.test", result="ignored") == 1
    assert delta("billing_payment_attempts_total", outcome="succeeded") == 1
    assert delta("billing_invoice_generation_seconds_count", path="first_period") == 1
    # Scrape-time gauges from the database.
    assert value(after, "billing_dunning_cases_open") == 0
    assert value(after, "billing_usage_reconciliation_differences") == 0
    assert value(after, "billing_usage_accuracy") == 100
    assert value(after, "billing_payment_success_rate") == 100
    assert value(after, "billing_webhook_success_rate") == 100


def _events(now, *, ok: int, failed: int):
    for i in range(ok + failed):
        WebhookEvent.objects.create(
            stripe_id=f"evt_{now.timestamp()}_{i}",
            type="payment_intent.succeeded",
            payload={},
            status="processed" if i < ok else "failed",
            attempts=1,
            received_at=now - timedelta(minutes=1),
        )


def evaluate(capture, now):
    with capture(execute=True):
        return alerts_evaluate(now=now)


def test_an_alert_fires_once_per_period_and_again_the_next(
    mailoutbox, settings, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    settings.ALERT_BILLING_TEAM_EMAIL = "billing-team@example.com"
    AlertRule.objects.exclude(metric="webhook_failure_rate").update(enabled=False)
    (rule,) = AlertRule.objects.filter(enabled=True)
    assert (rule.comparison, rule.threshold, rule.period, rule.action) == (
        "gt", Decimal(1), "15m", "email"
    )  # fmt: skip
    now = datetime(2026, 3, 2, 10, 7, tzinfo=UTC)
    _events(now, ok=1, failed=1)
    first = evaluate(capture, now)
    again = evaluate(capture, now + timedelta(minutes=5))  # same 10:00-10:15 bucket
    assert [f.rule_id for f in first] == [rule.pk] and again == []
    firing = AlertFiring.objects.get()
    assert (firing.period_start, firing.value) == (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), 50)
    assert firing.delivered_at is not None and firing.attempts == 1
    (mail,) = mailoutbox
    assert mail.to == ["billing-team@example.com"] and "webhook_failure_rate = 50" in mail.subject
    later = now + timedelta(minutes=10)  # 10:17: next bucket, the failure still in the window
    assert len(evaluate(capture, later)) == 1
    assert AlertFiring.objects.count() == 2 and len(mailoutbox) == 2
    # Nothing in the window: no data, no firing.
    assert evaluate(capture, now + timedelta(hours=3)) == []


class _FlakyReceiver(BaseHTTPRequestHandler):
    calls: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.calls.append((self.headers.get("X-LeanVibe-Signature"), body))
        self.send_response(500 if len(self.calls) == 1 else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_webhook_action_is_signed_and_retried(settings, django_capture_on_commit_callbacks):
    _FlakyReceiver.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.ALERT_WEBHOOK_SECRET = "alert-secret"
        settings.ALERT_ONCALL_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/page"
        AlertRule.objects.exclude(metric="webhook_failure_rate").update(enabled=False)
        AlertRule.objects.filter(enabled=True).update(action="webhook", target="")
        now = datetime(2026, 3, 2, 10, 7, tzinfo=UTC)
        _events(now, ok=0, failed=2)
        evaluate(django_capture_on_commit_callbacks, now)
        evaluate(django_capture_on_commit_callbacks, now)
    finally:
        server.shutdown()
        server.server_close()
    assert len(_FlakyReceiver.calls) == 2  # failed once, retried once, delivered once
    firing = AlertFiring.objects.get()
    assert firing.delivered_at is not None and firing.attempts == 2
    header, body = _FlakyReceiver.calls[1]
    stamp, signature = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(b"alert-secret", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert signature == expected
    payload = json.loads(body)
    assert payload["rule"]["metric"] == "webhook_failure_rate" and payload["value"] == "100"


def test_default_rules_and_the_api(staff_client, tenant_admin_client):
    listed = staff_client.get("alerts/rules").json()
    assert listed["count"] == 4
    assert {r["metric"] for r in listed["results"]} == {
        "payment_failure_rate", "webhook_failure_rate", "invoice_generation_time",
        "usage_accuracy",
    }  # fmt: skip
    assert tenant_admin_client.get("alerts/rules").status_code == 403
    made = staff_client.post(
        "alerts/rules",
        {"metric": "payment_failure_rate", "threshold": 5, "period": "1h",
         "action": "page_on_call_engineer"},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    assert (made.json()["action"], made.json()["comparison"]) == ("webhook", "gt")
    bad = staff_client.post(
        "alerts/rules",
        {"metric": "nope", "threshold": -1, "period": "2w", "action": "email",
         "comparison": "eq"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"metric", "threshold", "period", "comparison"}
    bad_target = staff_client.post(
        "alerts/rules",
        {"metric": "usage_accuracy", "threshold": 100, "period": "1h", "action": "email",
         "target": "not-an-address"},
    )  # fmt: skip
    assert bad_target.status_code == 400 and "target" in bad_target.json()["errors"]
    firings = staff_client.get("alerts/firings").json()
    assert firings == {"count": 0, "next": None, "previous": None, "results": []}


def test_admin_monitoring_page_shows_the_four_figures(client, admin_user):
    now = utcnow()
    _events(now, ok=199, failed=1)
    BillingRun.objects.create(
        started_at=now - timedelta(hours=1),
        finished_at=now - timedelta(hours=1) + timedelta(seconds=3),
        as_of=now - timedelta(hours=1),
        invoices=3,
        generated=3,
        generation_ms_total=2000,
        generation_ms_max=1234,
    )
    figures = {f["key"]: f for f in monitoring_figures(now=now)}
    assert figures["webhook_success_rate"]["value"] == Decimal("99.50")
    assert figures["webhook_success_rate"]["ok"] is True
    assert figures["invoice_generation_time"]["value"] == Decimal("1.234")
    assert figures["payment_success_rate"]["value"] is None
    client.force_login(admin_user)
    page = client.get("/admin/analytics/alertrule/monitoring/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("Webhook success rate", "99.50 %", "Payment success rate", "no data",
                 "Invoice generation time", "1.234 s", "Usage tracking accuracy"):  # fmt: skip
        assert text in html
