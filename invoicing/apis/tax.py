"""HTTP for `tax/calculate` and the tax reports (staff). They live in invoicing: the quote uses
the invoicing-side context (seller, EU sales to date) and the reports read invoices."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingAPIView
from billing_project.shared.clock import utcnow
from invoicing import tax_reports
from invoicing.serializers_tax import (
    OssReportSerializer,
    TaxCalculateSerializer,
    TaxCalculationSerializer,
    UsReportSerializer,
)
from invoicing.services.taxation import tax_calculate


class TaxCalculateApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="tax_calculate",
        request=TaxCalculateSerializer,
        responses={200: TaxCalculationSerializer},
        description=(
            "Staff. The tax an invoice of `amount` (cents) to this customer would carry, by the "
            "rules and tables finalization uses; nothing is stored. A US address needs its "
            "state; a malformed VAT id, an unknown country or a negative amount is 400."
        ),
    )
    def post(self, request):
        serializer = TaxCalculateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        quote = tax_calculate(**serializer.to_service_kwargs(), now=utcnow())
        decision = quote.decision
        return Response(
            {
                "tax_rate": decision.rate,  # a JSON number: 8.25
                "tax_amount": quote.tax_amount,
                "total": quote.total,
                "currency": quote.currency,
                "jurisdiction": decision.jurisdiction,
                "kind": decision.kind,
                "reverse_charge": decision.reverse_charge,
                "exempt": decision.exempt,
                "reason": decision.reason,
                "legal_mention": decision.legal_mention,
            }
        )


class OssReportApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="reports_tax_oss",
        parameters=[
            OpenApiParameter(
                "quarter", str, required=True, pattern=r"^[1-9]\d{3}-Q[1-4]$", description="2026-Q3"
            )
        ],
        responses={200: OssReportSerializer},
        description="Staff. VAT on EU consumer sales (OSS) by member state and rate, from the "
        "quarter's finalized invoices net of its credit notes.",
    )
    def get(self, request):
        return Response(tax_reports.oss_report(quarter=request.query_params.get("quarter", "")))


class UsTaxReportApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="reports_tax_us",
        parameters=[
            OpenApiParameter(
                "month",
                str,
                required=True,
                pattern=r"^(?!9999-12)[1-9]\d{3}-(0[1-9]|1[0-2])$",
                description="2026-11",
            )
        ],
        responses={200: UsReportSerializer},
        description="Staff. US sales tax (and exempt sales) by state and rate, from the month's "
        "finalized invoices net of its credit notes.",
    )
    def get(self, request):
        return Response(tax_reports.us_report(month=request.query_params.get("month", "")))
