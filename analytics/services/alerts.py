"""Alert rules: create, evaluate (beat, every 5 minutes), deliver each firing once.

Evaluation at `now`: each enabled rule's metric over the trailing window [now - period, now);
over its threshold -> one AlertFiring for the period bucket holding `now` (UniqueConstraint on
(rule, period_start): evaluating twice in a bucket records and sends nothing twice; the next
bucket fires again if the metric is still over). A window without data has no value and never
fires. Delivery runs after commit (`analytics.deliver_alert_firing`, retried with back-off).

Webhook action: POST of the firing as JSON, signed like Stripe's webhooks: header
`X-LeanVibe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with
ALERT_WEBHOOK_SECRET>`. Without a secret nothing is sent unsigned: the alert is logged instead.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime
from decimal import Decimal

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from analytics.calculations.alerts import (
    COMPARISON_SYMBOLS,
    breaches,
    parse_period,
    period_bucket,
)
from analytics.models import AlertAction, AlertFiring, AlertRule
from analytics.selectors.monitoring import alert_metric_value
from billing_project.shared.dispatch import dispatch_after_commit

log = logging.getLogger(__name__)

DELIVER_TASK = "analytics.deliver_alert_firing"
SIGNATURE_HEADER = "X-LeanVibe-Signature"
WEBHOOK_TIMEOUT_SECONDS = 10


def alert_rule_create(
    *,
    name: str,
    metric: str,
    comparison: str,
    threshold: Decimal,
    period: str,
    action: str,
    target: str,
    enabled: bool,
    now: datetime,
) -> AlertRule:
    parse_period(period)
    return AlertRule.objects.create(
        name=name,
        metric=metric,
        comparison=comparison,
        threshold=threshold,
        period=period,
        action=action,
        target=target,
        enabled=enabled,
        created_at=now,
        updated_at=now,
    )


def alert_rule_evaluate(*, rule: AlertRule, now: datetime) -> AlertFiring | None:
    """The new firing of `rule` at `now`, or None (not over, no data, or already fired)."""
    period = parse_period(rule.period)
    window_start = now - period
    value = alert_metric_value(metric=rule.metric, start=window_start, end=now)
    if not breaches(value=value, comparison=rule.comparison, threshold=rule.threshold):
        return None
    bucket_start, bucket_end = period_bucket(now=now, period=period)
    firing = AlertFiring(
        rule=rule,
        period_start=bucket_start,
        period_end=bucket_end,
        window_start=window_start,
        window_end=now,
        value=value,
        threshold=rule.threshold,
        fired_at=now,
    )
    with transaction.atomic():
        AlertFiring.objects.bulk_create([firing], ignore_conflicts=True)
        if not AlertFiring.objects.filter(pk=firing.pk).exists():
            return None  # this bucket already fired
        dispatch_after_commit(DELIVER_TASK, firing_id=str(firing.pk))
    log.warning(
        "alert %s fired: %s = %s (threshold %s %s) for %s",
        rule.name, rule.metric, value, COMPARISON_SYMBOLS[rule.comparison], rule.threshold,
        bucket_start.isoformat(),
    )  # fmt: skip
    return firing


def alerts_evaluate(*, now: datetime) -> list[AlertFiring]:
    """Every enabled rule at `now`; a rule that cannot be evaluated is logged and skipped."""
    fired = []
    for rule in AlertRule.objects.filter(enabled=True).order_by("name"):
        try:
            firing = alert_rule_evaluate(rule=rule, now=now)
        except Exception:
            log.exception("alert rule %s could not be evaluated", rule.name)
            continue
        if firing is not None:
            fired.append(firing)
    return fired


def _plain(value: Decimal) -> str:
    """5.0000 -> "5", 99.5000 -> "99.5" (never an exponent)."""
    return format(value.normalize(), "f")


def firing_payload(firing: AlertFiring) -> dict:
    rule = firing.rule

    def stamp(value: datetime) -> str:
        return value.isoformat().replace("+00:00", "Z")

    return {
        "id": str(firing.pk),
        "rule": {
            "id": str(rule.pk),
            "name": rule.name,
            "metric": rule.metric,
            "comparison": rule.comparison,
            "threshold": _plain(rule.threshold),
            "period": rule.period,
        },
        "value": _plain(firing.value),
        "period_start": stamp(firing.period_start),
        "period_end": stamp(firing.period_end),
        "window_start": stamp(firing.window_start),
        "window_end": stamp(firing.window_end),
        "fired_at": stamp(firing.fired_at),
    }


def signature_header(*, body: bytes, secret: str, at: int) -> str:
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def _summary(payload: dict) -> str:
    rule = payload["rule"]
    symbol = COMPARISON_SYMBOLS[rule["comparison"]]
    return (
        f"[LeanVibe Billing alert] {rule['name']}: {rule['metric']} = {payload['value']} "
        f"({symbol} {rule['threshold']} over {rule['period']})"
    )


def _send(firing: AlertFiring) -> str:
    """Deliver by the rule's action; returns a note when it fell back to the log."""
    rule = firing.rule
    payload = firing_payload(firing)
    if rule.action == AlertAction.WEBHOOK:
        url = rule.target or settings.ALERT_ONCALL_WEBHOOK_URL
        secret = settings.ALERT_WEBHOOK_SECRET
        if url and secret:
            body = json.dumps(payload, separators=(",", ":")).encode()
            response = requests.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: signature_header(
                        body=body, secret=secret, at=int(time.time())
                    ),
                },
                timeout=WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            response.raise_for_status()
            return ""
        note = "no webhook URL" if not url else "ALERT_WEBHOOK_SECRET unset: not sent unsigned"
    elif rule.action == AlertAction.EMAIL:
        to = rule.target or settings.ALERT_BILLING_TEAM_EMAIL
        if to:
            send_mail(
                _summary(payload),
                json.dumps(payload, indent=2),
                settings.DEFAULT_FROM_EMAIL,
                [to],
            )
            return ""
        note = "no email address"
    else:
        note = ""
    log.warning("%s %s", _summary(payload), json.dumps(payload))
    return f"logged ({note})" if note else ""


def alert_firing_deliver(*, firing_id, now: datetime) -> bool:
    """Send a firing once. True when it is delivered (now or before, or being delivered by
    another worker); False after a failed try (recorded: attempts, last_error) to retry."""
    with transaction.atomic():
        firing = (
            AlertFiring.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("rule")
            .filter(pk=firing_id)
            .first()
        )
        if firing is None or firing.delivered_at is not None:
            return True
        firing.attempts += 1
        try:
            firing.last_error = _send(firing)
        except Exception as exc:
            firing.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            firing.save(update_fields=["attempts", "last_error"])
            log.warning("alert firing %s not delivered: %s", firing.pk, firing.last_error)
            return False
        firing.delivered_at = now
        firing.save(update_fields=["attempts", "last_error", "delivered_at"])
        return True
