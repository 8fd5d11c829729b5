"""`GET /metrics`: Prometheus text format, for a staff Bearer token or a loopback caller.

Loopback: REMOTE_ADDR 127.0.0.1 or ::1 and no X-Forwarded-For naming another address (a proxy
on the same host forwarding an outside caller is not loopback). Anyone else: 401 without a
token, 403 with a tenant token (the API's JSON error shape)."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from analytics.prometheus import DatabaseCollector
from billing_project.shared import metrics
from billing_project.shared.api.permissions import principal_of

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def is_loopback(request) -> bool:
    if request.META.get("REMOTE_ADDR") not in LOOPBACK:
        return False
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return all(part.strip() in LOOPBACK for part in forwarded.split(",") if part.strip())


class IsStaffOrLoopback(BasePermission):
    message = "Metrics are for staff tokens and loopback callers."

    def has_permission(self, request, view) -> bool:
        principal = principal_of(request)
        if principal is not None:
            return principal.is_staff
        return is_loopback(request)


class MetricsApi(APIView):
    permission_classes = [IsStaffOrLoopback]

    @extend_schema(exclude=True)
    def get(self, request):
        body = metrics.render_latest(extra_collectors=[DatabaseCollector()])
        return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
