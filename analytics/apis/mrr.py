"""HTTP for `analytics/mrr`, `analytics/mrr/movements` and `analytics/churn` (staff only)."""

import re
from datetime import date, timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from analytics.selectors.mrr import churn_report, mrr_movements, mrr_report
from billing_project.shared.api.dates import DATE
from billing_project.shared.api.pagination import BillingPagination
from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingAPIView
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import raise_if_invalid

CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
MAX_AHEAD = timedelta(days=366)  # an end_date further ahead than this is a mistake

DATE_PARAMS = [
    OpenApiParameter(
        "start_date", OpenApiTypes.DATE, required=True, description="UTC date, 2026-01-01"
    ),
    OpenApiParameter(
        "end_date",
        OpenApiTypes.DATE,
        required=True,
        description="UTC date, 2026-01-31 (today or later: up to now)",
    ),
    OpenApiParameter(
        "currency",
        OpenApiTypes.STR,
        required=False,
        description="the currency of `metrics` (default usd, or the only one present)",
    ),
]


def _date(params, name: str, errors: dict) -> date | None:
    value = params.get(name)
    if not value:
        errors[name] = ["This parameter is required (YYYY-MM-DD)."]
        return None
    try:
        if not DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = ["A date, YYYY-MM-DD."]
        return None


def parse_range(params) -> tuple[date, date, str | None]:
    """`start_date`, `end_date` (both required, inclusive UTC dates) and `currency`; 400 with the
    errors per field otherwise."""
    errors: dict[str, list[str]] = {}
    today = utcnow().date()
    start = _date(params, "start_date", errors)
    end = _date(params, "end_date", errors)
    if start is not None and start > today:
        errors["start_date"] = ["Must not be in the future."]
    if end is not None and end > today + MAX_AHEAD:
        errors["end_date"] = ["Must not be more than a year ahead."]
    if start is not None and end is not None and start > end and "start_date" not in errors:
        errors["start_date"] = ["Must not be after end_date."]
    currency = params.get("currency") or None
    if currency is not None and not CURRENCY.match(currency):
        errors["currency"] = ["A 3-letter currency code."]
    raise_if_invalid(errors)
    return start, end, currency.lower() if currency else None


class MrrApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_mrr",
        parameters=DATE_PARAMS,
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. MRR (minor units) at the end of the range and its movements between "
        "start_date 00:00 UTC and end_date 23:59:59 UTC (or now): `period`, `currency`, "
        "`metrics {total_mrr, new_mrr, expansion_mrr, contraction_mrr, churn_mrr, "
        "reactivation_mrr, net_new_mrr}` (net_new_mrr = MRR at end - MRR at start), `by_plan "
        "{slug: {mrr, subscribers}}`, and `by_currency {code: {metrics, by_plan}}`.",
    )
    def get(self, request):
        start, end, currency = parse_range(request.query_params)
        return Response(mrr_report(start_date=start, end_date=end, now=utcnow(), currency=currency))


class MrrMovementsApi(BillingAPIView):
    permission_classes = [IsStaff]
    pagination_class = BillingPagination

    @extend_schema(
        operation_id="analytics_mrr_movements",
        parameters=[
            *DATE_PARAMS[:2],
            OpenApiParameter(
                "currency", OpenApiTypes.STR, required=False, description="only this currency"
            ),
            OpenApiParameter("movement", OpenApiTypes.STR, required=False, enum=MOVEMENTS),
            OpenApiParameter("page", OpenApiTypes.INT, required=False),
            OpenApiParameter("page_size", OpenApiTypes.INT, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. The tenant-level movements behind `analytics/mrr`'s totals: "
        "`{count, next, previous, results: [{tenant_id, tenant_name, currency, movement, "
        "amount, mrr_start, mrr_end}]}`, largest first.",
    )
    def get(self, request):
        start, end, currency = parse_range(request.query_params)
        kind = request.query_params.get("movement") or None
        if kind is not None and kind not in MOVEMENTS:
            raise_if_invalid({"movement": [f"One of {', '.join(MOVEMENTS)}."]})
        rows = mrr_movements(start_date=start, end_date=end, now=utcnow(), currency=currency)
        if kind:
            rows = [row for row in rows if row["movement"] == kind]
        paginator = BillingPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(page)


class ChurnApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_churn",
        parameters=DATE_PARAMS,
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. `churn_rate` (tenants that lost all MRR in the range / tenants with "
        "MRR at its start, %), `revenue_churn_rate` ((churn + contraction) / MRR at the start, "
        "%), `cohort_analysis {jan_2026: {retention_rate, revenue_retention}}` by the month of "
        "each tenant's first MRR, `churn_reasons {reason: %}`, for `currency`, and the same "
        "per currency in `by_currency`.",
    )
    def get(self, request):
        start, end, currency = parse_range(request.query_params)
        return Response(
            churn_report(start_date=start, end_date=end, now=utcnow(), currency=currency)
        )
