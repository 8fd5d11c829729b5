"""HTTP for `hierarchies` (staff) and `tenants/{id}/hierarchy` (staff, or a tenant for its own)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsAuthenticatedPrincipal, IsStaff
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from subscriptions import selectors
from subscriptions.models import Tenant
from subscriptions.serializers.hierarchies import HierarchyCreateSerializer, HierarchySerializer
from subscriptions.services import hierarchies


def _tree(tenant: Tenant, status_code=status.HTTP_200_OK) -> Response:
    data = HierarchySerializer(hierarchies.hierarchy_tree(tenant=tenant)).data
    return Response(data, status=status_code)


class HierarchyCreateApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = HierarchyCreateSerializer
    queryset = Tenant.objects.none()
    request_body_required = ("post",)

    @extend_schema(
        request=HierarchyCreateSerializer,
        responses={201: HierarchySerializer},
        description=(
            "Staff. The guide's body. The posted children replace the parent's children. 400 "
            "when the percentages do not sum to 100, `hierarchy_cycle` for a cycle, "
            "`hierarchy_too_deep` beyond 5 levels (the root is level 1), "
            "`hierarchy_unsupported` when billing_consolidation and payment_responsibility "
            "differ; 409 `tenant_has_parent` when a child already has another parent."
        ),
    )
    def post(self, request):
        serializer = HierarchyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parent = data["parent_entity"]
        tenant = hierarchies.hierarchy_set(
            parent_id=parent["tenant_id"],
            billing_consolidation=parent["billing_consolidation"],
            payment_responsibility=parent["payment_responsibility"],
            children=[(c["tenant_id"], c["cost_allocation"]) for c in data["child_entities"]],
            now=utcnow(),
        )
        return _tree(tenant, status.HTTP_201_CREATED)


class TenantHierarchyApi(BillingGenericAPIView):
    permission_classes = [IsAuthenticatedPrincipal]
    serializer_class = HierarchySerializer
    queryset = Tenant.objects.none()

    @extend_schema(responses=HierarchySerializer)
    def get(self, request, tenant_id):
        tenant_id = tenant_scope(request, parse_uuid(tenant_id, not_found=True))
        tenant = selectors.tenant_list(tenant_id=tenant_id).first()
        if tenant is None:
            raise NotFound("Tenant not found.")
        return _tree(tenant)
