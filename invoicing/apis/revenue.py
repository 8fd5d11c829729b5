"""HTTP for the revenue report (staff)."""

import re
from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingAPIView
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import ValidationFailed
from invoicing.revenue_report import revenue_report

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class RevenueReportApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="reports_revenue",
        parameters=[OpenApiParameter("month", str, required=True, description="2026-06")],
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. Per currency: revenue recognized in the month by plan and kind "
        "(fees billed in advance, earned day by day), deferred revenue at month end and the "
        "waterfall of what remains to be recognized by later month. Cents.",
    )
    def get(self, request):
        found = MONTH.match(request.query_params.get("month", ""))
        try:
            if not found:
                raise ValueError
            month = date(int(found[1]), int(found[2]), 1)
        except ValueError:
            raise ValidationFailed(
                "month must be YYYY-MM.", errors={"month": ["A month, YYYY-MM."]}
            ) from None
        return Response(revenue_report(month=month, today=utcnow().date()))
