"""Idempotency-Key on POST: same key + same body replays the stored answer; another body is 409.

Keys are scoped per token owner (a staff user or a tenant) and kept at least 24 hours. A record
is inserted before the handler runs (the unique constraint makes concurrent twins see each
other), completed with the response when it succeeds, and deleted when the request fails, because
a failed request changed nothing and may be sent again.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from billing_project.shared.clock import utcnow
from billing_project.shared.errors import Conflict, ValidationFailed
from billing_project.shared.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_begin(*, scope: str, key: str, method: str, path: str, body: bytes):
    """Claim (scope, key) or raise Replay / Conflict. Returns the claimed record."""
    # Bad input (400), not a state conflict (409): the client must send another key.
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key may be at most {MAX_KEY_LENGTH} characters.",
            code="idempotency_key_invalid",
        )
    if "\x00" in key:
        raise ValidationFailed(
            "Idempotency-Key may not contain NUL characters.", code="idempotency_key_invalid"
        )
    fingerprint = request_fingerprint(method, path, body)
    now = utcnow()
    for _ in range(2):
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is not None and existing.created_at < now - IDEMPOTENCY_TTL:
            existing.delete()
            existing = None
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise Conflict(
                    "This Idempotency-Key was already used with a different request.",
                    code="idempotency_key_reused",
                )
            if existing.status_code is None:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.",
                    code="idempotency_request_in_progress",
                )
            raise Replay(existing)
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    method=method,
                    path=path[:500],
                    request_hash=fingerprint,
                    created_at=now,
                )
        except IntegrityError:
            continue
    raise Conflict("Idempotency-Key collision; retry.", code="idempotency_request_in_progress")


def idempotency_complete(*, record: IdempotencyRecord, response) -> None:
    if 200 <= response.status_code < 300:
        record.status_code = response.status_code
        record.response_body = bytes(response.content)
        record.content_type = response.get("Content-Type", "application/json")
        record.save(update_fields=["status_code", "response_body", "content_type"])
    else:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""),
        status=record.status_code,
        content_type=record.content_type or "application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_purge(*, now) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL * 2).delete()
    return deleted
