"""HTTP for tenants and the plan catalog. Views parse, call one service, shape output."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from subscriptions import selectors
from subscriptions.models import Plan, Tenant
from subscriptions.serializers import (
    PlanCreateSerializer,
    PlanSerializer,
    TenantCreateSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
)
from subscriptions.services import catalog, tenants
from subscriptions.services.tenants import STAFF_FIELDS, TENANT_ADMIN_FIELDS


class TenantListCreateApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = TenantSerializer
    queryset = Tenant.objects.none()

    @extend_schema(
        responses=TenantSerializer(many=True),
        operation_id="tenants_list",
        parameters=[OpenApiParameter("tenant_id", OpenApiTypes.UUID, required=False)],
    )
    def get(self, request):
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        page = self.paginate_queryset(selectors.tenant_list(tenant_id=tenant_id))
        return self.get_paginated_response(TenantSerializer(page, many=True).data)

    @extend_schema(request=TenantCreateSerializer, responses={201: TenantSerializer})
    def post(self, request):
        serializer = TenantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenants.tenant_create(**serializer.to_service_kwargs(), now=utcnow())
        return Response(TenantSerializer(tenant).data, status=status.HTTP_201_CREATED)


class TenantDetailApi(BillingGenericAPIView):
    serializer_class = TenantSerializer
    queryset = Tenant.objects.none()

    def _tenant(self, request, tenant_id):
        tenant_id = parse_uuid(tenant_id, not_found=True)
        tenant_scope(request, tenant_id)
        return tenants.tenant_get(tenant_id=tenant_id)

    @extend_schema(responses=TenantSerializer)
    def get(self, request, tenant_id):
        return Response(TenantSerializer(self._tenant(request, tenant_id)).data)

    @extend_schema(request=TenantUpdateSerializer, responses=TenantSerializer)
    def patch(self, request, tenant_id):
        tenant = self._tenant(request, tenant_id)
        principal = principal_of(request)
        if principal.role == "tenant_member":
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Your role may not change the tenant.")
        serializer = TenantUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        allowed = STAFF_FIELDS if principal.is_staff else TENANT_ADMIN_FIELDS
        tenant = tenants.tenant_update(
            tenant=tenant, fields=serializer.to_service_kwargs(), allowed=allowed, now=utcnow()
        )
        return Response(TenantSerializer(tenant).data)


class PlanListCreateApi(BillingGenericAPIView):
    serializer_class = PlanSerializer
    queryset = Plan.objects.none()

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsStaff()]
        return super().get_permissions()

    @extend_schema(responses=PlanSerializer(many=True), operation_id="plans_list")
    def get(self, request):
        page = self.paginate_queryset(selectors.plan_list())
        return self.get_paginated_response(PlanSerializer(page, many=True).data)

    @extend_schema(request=PlanCreateSerializer, responses={201: PlanSerializer})
    def post(self, request):
        serializer = PlanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = catalog.plan_create(**serializer.validated_data)
        plan = selectors.plan_by_id_or_slug(plan.pk)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class PlanDetailApi(BillingGenericAPIView):
    serializer_class = PlanSerializer
    queryset = Plan.objects.none()

    @extend_schema(responses=PlanSerializer)
    def get(self, request, plan_id):
        plan = selectors.plan_by_id_or_slug(plan_id)
        if plan is None:
            raise NotFound("Plan not found.")
        return Response(PlanSerializer(plan).data)
