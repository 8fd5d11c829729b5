"""HTTP for dunning: cases and staff actions, the policy in the guide's RETRY_CONFIG shape,
entitlements, and the tenant detail with its open-dunning summary."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff, principal_of
from billing_project.shared.api.views import (
    BillingAPIView,
    BillingGenericAPIView,
    parse_uuid,
    tenant_scope,
)
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed
from dunning import selectors
from dunning.models import CaseStatus, DunningCase
from dunning.serializers import (
    DunningCaseSerializer,
    EntitlementsSerializer,
    PolicyResponseSerializer,
    RetryConfigSerializer,
    TenantWithDunningSerializer,
    case_data,
    policy_data,
    summary_data,
)
from dunning.services import policies, staff
from subscriptions.apis.tenants import TenantDetailApi
from subscriptions.selectors import subscription_live_for_tenant
from subscriptions.serializers.tenants import TenantSerializer, TenantUpdateSerializer
from subscriptions.services import tenants


class DunningCaseListApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = DunningCaseSerializer
    queryset = DunningCase.objects.none()

    @extend_schema(
        responses=DunningCaseSerializer(many=True),
        operation_id="dunning_cases_list",
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, required=False),
            OpenApiParameter("status", OpenApiTypes.STR, required=False, enum=CaseStatus.values),
        ],
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        if status is not None and status not in CaseStatus.values:
            raise ValidationFailed(
                "Unknown case status.",
                errors={"status": [f"Must be one of {', '.join(CaseStatus.values)}."]},
            )
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        page = self.paginate_queryset(selectors.case_list(status=status, tenant_id=tenant_id))
        return self.get_paginated_response([case_data(c) for c in page])


def _case(case_id) -> DunningCase:
    case = selectors.case_get(case_id=parse_uuid(case_id, not_found=True))
    if case is None:
        raise NotFound("Dunning case not found.")
    return case


class DunningCaseDetailApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = DunningCaseSerializer
    queryset = DunningCase.objects.none()

    def get(self, request, case_id):
        return Response(case_data(_case(case_id)))


def _action_view(action, service, doc: str):
    class DunningCaseActionApi(BillingGenericAPIView):
        permission_classes = [IsStaff]
        serializer_class = DunningCaseSerializer
        queryset = DunningCase.objects.none()
        request_body_required = False

        @extend_schema(
            request=None,
            responses=DunningCaseSerializer,
            operation_id=f"dunning_cases_{action.replace('-', '_')}",
            description=doc,
        )
        def post(self, request, case_id):
            case = _case(case_id)
            service(case_id=case.pk, now=utcnow(), actor=principal_of(request).actor)
            return Response(case_data(_case(case.pk)))

    DunningCaseActionApi.__name__ = f"DunningCase{action.title().replace('-', '')}Api"
    return DunningCaseActionApi


DunningCasePauseApi = _action_view(
    "pause", staff.case_pause, "Stop the schedule (no retries, no notices) until resumed."
)
DunningCaseResumeApi = _action_view(
    "resume", staff.case_resume, "Back on schedule, later steps shifted by the days paused."
)
DunningCaseRetryApi = _action_view(
    "retry", staff.case_retry, "Charge the invoice now with the tenant's default card."
)
DunningCaseWriteOffApi = _action_view(
    "write-off", staff.case_write_off, "Give up: the invoice becomes uncollectible."
)


class DunningPolicyApi(BillingAPIView):
    """The default policy in the guide's RETRY_CONFIG shape (plus its resulting `steps`)."""

    permission_classes = [IsStaff]

    @extend_schema(responses=PolicyResponseSerializer, operation_id="dunning_policy_get")
    def get(self, request):
        return Response(policy_data(selectors.policy_default()))

    @extend_schema(
        request=RetryConfigSerializer,
        responses=PolicyResponseSerializer,
        operation_id="dunning_policy_put",
        description=(
            "Replace the default policy's schedule. Fields left out keep their values. A retry "
            "(with a reminder) on each of the first `max_attempts` days of `retry_schedule`; "
            "the last retry day before suspension sends the suspension warning; suspension "
            "and cancellation on their days (null: never)."
        ),
    )
    def put(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationFailed("Expected a JSON object.", errors={"non_field_errors": []})
        policies.policy_config_put(
            policy=selectors.policy_default(), config=dict(data), now=utcnow()
        )
        return Response(policy_data(selectors.policy_default()))


class EntitlementsApi(BillingAPIView):
    """What the tenant may use now: its billing status and service level (staff: ?tenant_id=)."""

    @extend_schema(
        responses=EntitlementsSerializer,
        operation_id="entitlements",
        parameters=[OpenApiParameter("tenant_id", OpenApiTypes.UUID, required=False)],
    )
    def get(self, request):
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        if tenant_id is None:
            raise ValidationFailed(
                "tenant_id is required for staff.", errors={"tenant_id": ["Required."]}
            )
        tenant = tenants.tenant_get(tenant_id=tenant_id)
        subscription = subscription_live_for_tenant(tenant_id=tenant.pk)
        level = selectors.tenant_service_level(tenant)
        suspended = tenant.status == "suspended"
        return Response(
            {
                "tenant_id": str(tenant.pk),
                "status": tenant.status,
                "service_level": level,
                "subscription": (
                    {
                        "id": str(subscription.pk),
                        "plan": subscription.plan.slug,
                        "status": subscription.status,
                    }
                    if subscription is not None
                    else None
                ),
                "can_change_plan": not suspended and subscription is not None,
                "can_subscribe": not suspended and subscription is None,
                "can_record_usage": True,
                "can_pay": True,
                "dunning": summary_data(selectors.tenant_dunning_summary(tenant_id=tenant.pk)),
            }
        )


def _with_dunning(tenant) -> dict:
    return {
        **TenantSerializer(tenant).data,
        "dunning": summary_data(selectors.tenant_dunning_summary(tenant_id=tenant.pk)),
    }


class TenantDetailWithDunningApi(TenantDetailApi):
    """`GET/PATCH tenants/{id}`: subscriptions' view, with the open-dunning summary."""

    serializer_class = TenantWithDunningSerializer

    @extend_schema(responses=TenantWithDunningSerializer)
    def get(self, request, tenant_id):
        return Response(_with_dunning(self._tenant(request, tenant_id)))

    @extend_schema(
        request=TenantUpdateSerializer,
        responses=TenantWithDunningSerializer,
        description=(
            "Staff may change every field; a tenant_admin only email, address_line1, city, "
            "country, state, postal_code and vat_id; a tenant_member none (403). The currency "
            "cannot change while the tenant has a live subscription: 409 `currency_locked`."
        ),
    )
    def patch(self, request, tenant_id):
        response = super().patch(request, tenant_id)
        response.data["dunning"] = summary_data(
            selectors.tenant_dunning_summary(tenant_id=response.data["id"])
        )
        return response
