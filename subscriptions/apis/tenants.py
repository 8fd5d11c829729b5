"""HTTP for `tenants`. Views parse, call one service, shape output."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from subscriptions import selectors
from subscriptions.models import Tenant
from subscriptions.serializers.tenants import (
    TenantCreateSerializer,
    TenantSerializer,
    TenantUpdateSerializer,
)
from subscriptions.services import tenants
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

    @extend_schema(
        request=TenantCreateSerializer,
        responses={201: TenantSerializer},
        description=(
            "Staff. `state` must be a subdivision of `country` (ISO 3166-2), `vat_id` a valid "
            "VAT number (format and checksum) and `parent_id` a tenant that is not itself a child."
        ),
    )
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

    @extend_schema(
        request=TenantUpdateSerializer,
        responses=TenantSerializer,
        description=(
            "Staff may change every field; a tenant_admin only email, address_line1, city, "
            "country, state, postal_code and vat_id (others: 400); a tenant_member none (403). "
            "The currency cannot change while the tenant has a live subscription: 409 "
            "`currency_locked`. `state` must be a subdivision of `country` (ISO 3166-2) and "
            "`vat_id` a valid VAT number (format and checksum)."
        ),
    )
    def patch(self, request, tenant_id):
        tenant = self._tenant(request, tenant_id)
        principal = principal_of(request)
        if principal.role == "tenant_member":
            raise PermissionDenied("Your role may not change the tenant.")
        serializer = TenantUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        allowed = STAFF_FIELDS if principal.is_staff else TENANT_ADMIN_FIELDS
        tenant = tenants.tenant_update(
            tenant=tenant, fields=serializer.to_service_kwargs(), allowed=allowed, now=utcnow()
        )
        return Response(TenantSerializer(tenant).data)
