"""HTTP for `tenants/{id}/cost-allocation?period=YYYY-MM` (staff, or a tenant for its own):
JSON, or CSV with `?format=csv` or `Accept: text/csv`."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsAuthenticatedPrincipal
from billing_project.shared.api.renderers import CsvRenderer, FastJSONRenderer
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from invoicing.services.cost_allocation import (
    cost_allocation_csv,
    cost_allocation_report,
    month_of,
)
from subscriptions import selectors
from subscriptions.models import Tenant


class CostAllocationApi(BillingGenericAPIView):
    permission_classes = [IsAuthenticatedPrincipal]
    renderer_classes = [FastJSONRenderer, CsvRenderer]
    queryset = Tenant.objects.none()

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM (default: now)"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], required=False),
        ],
        description=(
            "The month's consolidated invoices of the parent (by billing day), per currency, "
            "split by the children's cost_allocation percentages: each share rounded down, the "
            "remainder to the largest share, so the parts add up to the total exactly. "
            "`sections_total` is what the child's own sections came to. CSV with "
            "`?format=csv` or `Accept: text/csv`."
        ),
    )
    def get(self, request, tenant_id):
        tenant_id = tenant_scope(request, parse_uuid(tenant_id, not_found=True))
        tenant = selectors.tenant_list(tenant_id=tenant_id).first()
        if tenant is None:
            raise NotFound("Tenant not found.")
        period = request.query_params.get("period") or month_of(utcnow(), tenant.timezone)
        report = cost_allocation_report(tenant=tenant, period=period)
        if request.accepted_renderer.format == "csv":
            response = Response(cost_allocation_csv(report), content_type="text/csv")
            name = f"cost-allocation-{tenant.pk}-{report['period']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return Response(report)
