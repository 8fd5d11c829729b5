"""HTTP for `reports/ar-aging` (staff) and `tenants/{id}/statement` (staff, or a tenant for its
own; JSON, or CSV with `?format=csv` or `Accept: text/csv`)."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing_project.shared.api.dates import date_range, query_date
from billing_project.shared.api.permissions import IsAuthenticatedPrincipal, IsStaff
from billing_project.shared.api.renderers import CsvRenderer, FastJSONRenderer, PdfRenderer
from billing_project.shared.api.views import BillingAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed
from invoicing.ar_reports import ar_aging, statement_csv, tenant_statement
from invoicing.serializers_ar import ArAgingSerializer, StatementSerializer
from invoicing.services.statement_pdf import statement_pdf
from subscriptions import selectors

CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _currency(params) -> str | None:
    value = params.get("currency") or None
    if value is not None and not CURRENCY.match(value):
        raise ValidationFailed(
            "currency must be a 3-letter code.", errors={"currency": ["A 3-letter code."]}
        )
    return value.lower() if value else None


class ArAgingApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="reports_ar_aging",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.STR, required=False, description="2026-11-30"),
            OpenApiParameter("currency", OpenApiTypes.STR, required=False, description="usd"),
        ],
        responses={200: ArAgingSerializer(many=True)},
        description="Staff. Per currency: each tenant's open amounts due by days past due at "
        "`as_of` (default today): `current`, `days_1_30`, `days_31_60`, `days_61_90`, "
        "`days_over_90`, `total`; and the totals.",
    )
    def get(self, request):
        as_of = query_date(request.query_params, "as_of", utcnow().date())
        return Response(ar_aging(as_of=as_of, currency=_currency(request.query_params)))


class TenantStatementApi(BillingAPIView):
    permission_classes = [IsAuthenticatedPrincipal]
    renderer_classes = [FastJSONRenderer, CsvRenderer, PdfRenderer]

    @extend_schema(
        operation_id="tenant_statement",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.STR, required=False, description="2026-11-01"),
            OpenApiParameter("to", OpenApiTypes.STR, required=False, description="2026-11-30"),
            OpenApiParameter("currency", OpenApiTypes.STR, required=False, description="usd"),
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "csv", "pdf"], required=False
            ),
        ],
        responses={
            (200, "application/json"): StatementSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
        description="Staff, or a tenant for its own. The opening balance at the start of `from`, "
        "each invoice, payment, credit note, refund, write-off and void through the end of `to` "
        "(UTC days; default the month to date) with a running balance (debit: owed more), and "
        "the closing balance, in `currency` (default the tenant's). CSV with `?format=csv`, "
        "PDF (the invoices' branding) with `?format=pdf`.",
    )
    def get(self, request, tenant_id):
        tenant_id = tenant_scope(request, parse_uuid(tenant_id, not_found=True))
        tenant = selectors.tenant_list(tenant_id=tenant_id).first()
        if tenant is None:
            raise NotFound("Tenant not found.")
        start, end = date_range(request.query_params, default_start=None, default_end=None)
        today = utcnow().date()
        end = end or max(today, start or today)
        start = start or end.replace(day=1)
        statement = tenant_statement(
            tenant_id=tenant.pk,
            currency=_currency(request.query_params) or tenant.currency,
            start=start,
            end=end,
        )
        if request.accepted_renderer.format == "pdf":
            response = Response(statement_pdf(statement, tenant), content_type="application/pdf")
            name = f"statement-{tenant.pk}-{statement['from']}-{statement['to']}.pdf"
            response["Content-Disposition"] = f'inline; filename="{name}"'
            return response
        if request.accepted_renderer.format == "csv":
            response = Response(statement_csv(statement), content_type="text/csv")
            name = f"statement-{tenant.pk}-{statement['from']}-{statement['to']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return Response(statement)
