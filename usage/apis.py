"""HTTP for usage: record events (one or a batch), current usage, event lists.

`tenant_id` in a request body or query: staff must name the tenant; a tenant token may name its
own tenant (ignored) and gets 404 for any other (it never learns whether that tenant exists).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from billing_project.shared.api.permissions import principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed
from subscriptions.models import Tenant
from usage import selectors, services
from usage.catalog import CATALOG
from usage.models import UsageEvent
from usage.serializers import (
    CurrentUsageSerializer,
    UsageBatchInputSerializer,
    UsageBatchResultSerializer,
    UsageEventInputSerializer,
    UsageEventRecordedSerializer,
    UsageEventSerializer,
    current_usage_data,
    event_data,
)
from usage.validation import IngestContext, RecordError, decode_body, parse_record, parse_timestamp

DUPLICATE_MESSAGE = (
    "This idempotency_key was already used: the original event stands and nothing was counted."
)


def _json_body(request) -> object:
    """The raw body decoded with exact numbers (see usage.validation)."""
    raw = request._request.body
    if not raw:
        raise ValidationFailed("Invalid input: a JSON body is required.", errors={})
    try:
        return decode_body(raw)
    except ValueError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from exc


def _require_object(body) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed(
            "Invalid input: the body must be a JSON object.",
            errors={"non_field_errors": ["The body must be a JSON object."]},
        )
    return body


def _validation_failed(errors: dict) -> ValidationFailed:
    field, messages = next(iter(errors.items()))
    if isinstance(messages, dict):
        index, detail = next(iter(messages.items()))
        where = f"{field}[{index}]"
        if isinstance(detail, dict):
            inner, detail = next(iter(detail.items()))
            where = f"{where}.{inner}"
        first = f"{where}: {detail[0]}"
    else:
        first = f"{field}: {messages[0]}"
    return ValidationFailed(f"Invalid input: {first}", errors=errors)


def _write_tenant(request, body: dict):
    """The tenant a POST acts on."""
    principal = principal_of(request)
    requested = body.get("tenant_id")
    if principal.is_staff:
        if requested in (None, ""):
            raise ValidationFailed(
                "Invalid input: tenant_id: staff must name the tenant.",
                errors={"tenant_id": ["This field is required for staff tokens."]},
            )
        if not isinstance(requested, str):
            raise ValidationFailed(
                "Invalid input: tenant_id must be a UUID.",
                errors={"tenant_id": ["Must be a valid UUID."]},
            )
        tenant_id = parse_uuid(requested, field="tenant_id")
        return tenant_id, True
    if requested not in (None, "") and not isinstance(requested, str):
        raise ValidationFailed(
            "Invalid input: tenant_id must be a UUID.",
            errors={"tenant_id": ["Must be a valid UUID."]},
        )
    return tenant_scope(request, requested), False


def _read_tenant(request):
    principal = principal_of(request)
    tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
    if tenant_id is None and principal.is_staff:
        raise ValidationFailed(
            "Invalid input: tenant_id: staff must name the tenant.",
            errors={"tenant_id": ["This query parameter is required for staff tokens."]},
        )
    return tenant_id


class UsageRecordApi(BillingGenericAPIView):
    """POST usage: one event. tenant_admin, tenant_member and staff."""

    serializer_class = UsageEventInputSerializer
    queryset = UsageEvent.objects.none()

    @extend_schema(
        request=UsageEventInputSerializer,
        responses={201: UsageEventRecordedSerializer, 200: UsageEventRecordedSerializer},
        description="Record one usage event. A repeated idempotency_key answers 200 with the "
        "ORIGINAL event and `duplicate: true` (the new body is ignored, nothing is counted).",
    )
    def post(self, request):
        now = utcnow()
        body = _require_object(_json_body(request))
        tenant_id, check_exists = _write_tenant(request, body)
        # The lower bound is checked by the INSERT itself (services.usage_event_record).
        ctx = IngestContext(now=now, lower_bound=None)
        try:
            record = parse_record(body, catalog=CATALOG, ctx=ctx, allow_date=False)
        except RecordError as exc:
            raise _validation_failed(exc.messages)
        if check_exists and not Tenant.objects.filter(pk=tenant_id).exists():
            raise NotFound("Tenant not found.")
        result = services.usage_event_record(tenant_id=tenant_id, record=record, now=now)
        data = event_data(result.event)
        data["duplicate"] = result.duplicate
        if result.duplicate:
            data["message"] = DUPLICATE_MESSAGE
            return Response(data, status=status.HTTP_200_OK)
        return Response(data, status=status.HTTP_201_CREATED)


class UsageBatchApi(BillingGenericAPIView):
    """POST usage/batch: up to 10,000 records, all or nothing."""

    serializer_class = UsageBatchInputSerializer
    queryset = UsageEvent.objects.none()

    @extend_schema(
        request=UsageBatchInputSerializer,
        responses={201: UsageBatchResultSerializer, 200: UsageBatchResultSerializer},
        description="Record up to 10,000 events at once, all or nothing. 201 when at least one "
        "event was stored, 200 when every record was a duplicate. Any bad record: 400 listing "
        'each bad index, `errors: {"records": {"3": {"quantity": ["..."]}}}`, nothing stored.',
    )
    def post(self, request):
        now = utcnow()
        body = _require_object(_json_body(request))
        tenant_id, _ = _write_tenant(request, body)
        if "records" not in body:
            raise _validation_failed({"records": ["This field is required."]})
        try:
            result = services.usage_batch_record(
                tenant_id=tenant_id, records=body["records"], catalog=CATALOG, now=now
            )
        except RecordError as exc:
            raise _validation_failed(exc.messages)
        data = {
            "received": result.received,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
        }
        return Response(data, status=status.HTTP_201_CREATED if result.accepted else 200)


class UsageCurrentApi(BillingGenericAPIView):
    """GET usage/current: the current period's usage against the plan's limits."""

    serializer_class = CurrentUsageSerializer
    queryset = UsageEvent.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="Staff: the tenant.")
        ],
        responses=CurrentUsageSerializer,
        description="409 `no_live_subscription` when the tenant has no live subscription.",
    )
    def get(self, request):
        tenant_id = _read_tenant(request)
        if principal_of(request).is_staff and not Tenant.objects.filter(pk=tenant_id).exists():
            raise NotFound("Tenant not found.")
        usage = selectors.usage_current(tenant_id=tenant_id)
        return Response(current_usage_data(usage))


class UsageEventListApi(BillingGenericAPIView):
    """GET usage/events: stored events, newest first."""

    serializer_class = UsageEventSerializer
    queryset = UsageEvent.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="Staff: one tenant."),
            OpenApiParameter("metric", OpenApiTypes.STR, description="A metric_type."),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="timestamp >= from"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="timestamp < to"),
        ],
        responses=UsageEventSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        tenant_id = tenant_scope(request, params.get("tenant_id"))
        bounds = {}
        for name in ("from", "to"):
            if params.get(name):
                try:
                    bounds[name] = parse_timestamp(params[name])
                except ValueError as exc:
                    raise _validation_failed({name: [str(exc)]})
        events = selectors.usage_event_list(
            tenant_id=tenant_id,
            metric_type=params.get("metric") or None,
            start=bounds.get("from"),
            end=bounds.get("to"),
        )
        page = self.paginate_queryset(events)
        return self.get_paginated_response(
            [event_data(e, metric_type=e.metric.metric_type) for e in page]
        )
