"""Liveness and readiness probes (no token; README "Production").

`GET /health`: the process serves and its database answers `SELECT 1` (200).
`GET /ready`: every dependency a request may need answers: the database and the Celery broker
(Redis or RabbitMQ). 200 `{"status": "ok", "checks": {...}}` when all do, else 503 with
`"status": "unavailable"` and each failing check's error class, so a load balancer takes the
instance out of rotation and a deploy waits for it. Without a broker (tasks in-process) the
broker check reports `in-process`.
"""

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from kombu import Connection

BROKER_TIMEOUT_SECONDS = 2.0


def health(request):
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def database_check(alias: str = "default") -> str:
    """ "ok", or why the database does not answer."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not ready"; the class says which
        # A broken connection must not be reused by the next request on this thread.
        connections[alias].close_if_unusable_or_obsolete()
        return f"down: {type(exc).__name__}"
    return "ok"


def broker_check(url: str, *, timeout: float = BROKER_TIMEOUT_SECONDS) -> str:
    """ "ok", "in-process" (no broker configured), or why the broker does not answer."""
    if not url:
        return "in-process"
    try:
        with Connection(
            url,
            connect_timeout=timeout,
            transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
        ) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
    except Exception as exc:  # the broker's library errors vary by transport
        return f"down: {type(exc).__name__}"
    return "ok"


def ready(request):
    checks = {
        "database": database_check(),
        "broker": broker_check(settings.CELERY_BROKER_URL),
    }
    healthy = all(value in ("ok", "in-process") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
