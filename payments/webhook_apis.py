"""`POST /api/v1/billing/webhooks/stripe`: a plain Django view (no bearer token, no CSRF, raw
body). It only verifies, parses and stores, so it answers fast; processing runs after commit."""

import time

import orjson
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing_project.shared.api.middleware import json_error
from billing_project.shared.clock import utcnow
from payments.services.webhooks import (
    SignatureError,
    stripe_signature_verify,
    webhook_event_receive,
)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return json_error(
            503, "webhooks_disabled", "STRIPE_WEBHOOK_SECRET is not configured; nothing stored."
        )
    payload = request.body
    try:
        stripe_signature_verify(
            payload=payload,
            header=request.headers.get("Stripe-Signature", ""),
            secret=secret,
            now=time.time(),
        )
    except SignatureError as exc:
        return json_error(400, "invalid_signature", str(exc))
    if b"\\u0000" in payload:  # text and jsonb columns cannot hold NUL
        return json_error(400, "invalid_event", "NUL characters are not allowed in events.")
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json_error(400, "parse_error", "The body is not valid JSON.")
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not 0 < len(event["id"]) <= 255
        or not isinstance(event.get("type"), str)
        or not event["type"]
    ):
        return json_error(400, "invalid_event", "The body is not a Stripe event (id, type).")
    _row, created = webhook_event_receive(event=event, now=utcnow())
    body = {"received": True, "id": event["id"], "duplicate": not created}
    return HttpResponse(orjson.dumps(body), status=200, content_type="application/json")
