"""HTTP (staff) for usage analytics, the usage forecast, payment health, acquisition spend and
CAC, plan costs and the executive dashboard. Figures are computed at the request (`now`)."""

import re
from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from analytics.calculations.acquisition import cac
from analytics.calculations.forecast import MAX_PERIOD_DAYS, PeriodInvalid, period_days_parse
from analytics.selectors import insights, usage_report
from analytics.serializers_insights import (
    forecast_data,
    health_data,
    health_summary,
    plan_cost_data,
    spend_data,
    usage_report_data,
)
from analytics.services.insights import acquisition_spend_put, plan_cost_put
from billing_project.shared.api.permissions import IsStaff, principal_of
from billing_project.shared.api.views import BillingAPIView, BillingGenericAPIView, parse_uuid
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed, raise_if_invalid
from billing_project.shared.money import currency_exponent
from subscriptions.models import Tenant
from subscriptions.selectors import plan_by_id_or_slug

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_AMOUNT = 10**15


def _tenant_param(params, *, allow_all: bool):
    """`tenant_id`: absent (or `all` where allowed) means every tenant; an unknown one 404."""
    value = params.get("tenant_id")
    if value in (None, "") or (allow_all and value == "all"):
        return None
    tenant_id = parse_uuid(value, field="tenant_id")
    if not Tenant.objects.filter(pk=tenant_id).exists():
        raise NotFound("Tenant not found.")
    return tenant_id


def _currency(value, errors: dict, *, field: str = "currency") -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        errors[field] = ["A 3-letter ISO 4217 code, e.g. usd."]
        return None
    try:
        currency_exponent(value)
    except ValueError:
        errors[field] = [f"Unknown currency {value!r}."]
        return None
    return value.lower()


def _amount(value, errors: dict, *, field: str = "amount") -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = ["An integer amount in minor units (cents)."]
        return None
    if not 0 <= value <= MAX_AMOUNT:
        errors[field] = [f"From 0 to {MAX_AMOUNT}."]
        return None
    return value


def _note(value, errors: dict) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 300:
        errors["note"] = ["A string of at most 300 characters."]
        return ""
    return value


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationFailed("Expected a JSON object.", errors={"non_field_errors": ["JSON."]})
    return request.data


# --- usage analytics ---------------------------------------------------------------------------


class UsageAnalyticsApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_usage",
        parameters=[
            OpenApiParameter(
                "tenant_id", OpenApiTypes.STR, required=False, description="`all` or a UUID"
            ),
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                required=False,
                description=f"Days back from now: `30d` (default), 1d to {MAX_PERIOD_DAYS}d",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. Per tenant and plan metric over the last N days: `total` (the "
        "metric's aggregation over the window), `limit` (the plan's included quantity; for sum "
        "and distinct-count metrics scaled to the window, N/30 of it), `overage`, "
        "`overage_revenue` (overage x the plan's overage price, cents, rounded half-up per "
        "metric) and `trend` (the window of the same length before: its total and overage "
        "revenue, the change and the change in %, null when the previous total was 0). "
        "Tenants: those with a live subscription or one cancelled within the two windows; "
        "highest overage revenue first. `totals` per currency.",
    )
    def get(self, request):
        try:
            days = period_days_parse(request.query_params.get("period"))
        except PeriodInvalid as exc:
            raise ValidationFailed(str(exc), errors={"period": [str(exc)]}) from None
        tenant_id = _tenant_param(request.query_params, allow_all=True)
        report = usage_report.usage_report(now=utcnow(), days=days, tenant_id=tenant_id)
        body = usage_report_data(report)
        body["tenant_id"] = str(tenant_id) if tenant_id else "all"
        return Response(body)


# --- usage forecast ----------------------------------------------------------------------------


class UsageForecastApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_usage_forecast",
        parameters=[OpenApiParameter("tenant_id", OpenApiTypes.UUID, required=False)],
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. Per live subscription and plan metric: usage so far in the billing "
        "period holding now, its forecast at the period's end (sum metrics linearly on the "
        "period so far: current x period length / time elapsed; max, latest and distinct "
        "counts stay at their current value), and the overage and its cost (cents) now and "
        "forecast. `summary` per currency. Highest forecast overage cost first.",
    )
    def get(self, request):
        tenant_id = _tenant_param(request.query_params, allow_all=True)
        return Response(
            forecast_data(usage_report.usage_forecast(now=utcnow(), tenant_id=tenant_id))
        )


# --- payment health ----------------------------------------------------------------------------


class PaymentHealthApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_payment_health",
        parameters=[OpenApiParameter("tenant_id", OpenApiTypes.UUID, required=False)],
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. Per tenant with a subscription or an invoice, worst first: a 0-100 "
        "score = 100 - 10 per failed payment attempt in the last 90 days (at most 30) - 1 per "
        "day past due of the oldest open invoice (at most 40) - 15 per open or paused dunning "
        "case (at most 30), with each part, its grade (`healthy` >= 80, `at_risk` >= 50, "
        "`critical`) and the open amount due per currency.",
    )
    def get(self, request):
        tenant_id = _tenant_param(request.query_params, allow_all=True)
        rows = insights.payment_health_report(now=utcnow(), tenant_id=tenant_id)
        return Response(
            {"summary": health_summary(rows), "tenants": [health_data(r) for r in rows]}
        )


# --- acquisition spend and CAC -----------------------------------------------------------------

SpendRequest = inline_serializer(
    name="AcquisitionSpendRequest",
    fields={
        "month": serializers.CharField(help_text="YYYY-MM"),
        "amount": serializers.IntegerField(min_value=0, help_text="Minor units (cents)"),
        "currency": serializers.CharField(help_text="ISO 4217, e.g. usd"),
        "note": serializers.CharField(required=False, allow_null=True),
    },
)


def _month(value, errors: dict) -> date | None:
    found = MONTH.match(value) if isinstance(value, str) else None
    try:
        if not found:
            raise ValueError
        return date(int(found[1]), int(found[2]), 1)
    except ValueError:
        errors["month"] = ["A month, YYYY-MM."]
        return None


class AcquisitionSpendApi(BillingGenericAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_acquisition_spend_list",
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. The spend entered per month and currency, newest first, each with "
        "the month's new customers and CAC (spend / new customers, null without any).",
    )
    def get(self, request):
        rows = insights.spend_rows_with_cac(now=utcnow())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([spend_data(item) for item in page])

    @extend_schema(
        operation_id="analytics_acquisition_spend_put",
        request=SpendRequest,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
        description="Staff. Enter what was spent acquiring customers in a month (cents): 201 "
        "when new, 200 when it replaces the figure entered before for that month and currency.",
    )
    def post(self, request):
        data = _body(request)
        errors: dict = {}
        month = _month(data.get("month"), errors)
        amount = _amount(data.get("amount"), errors)
        currency = _currency(data.get("currency"), errors)
        note = _note(data.get("note"), errors)
        raise_if_invalid(errors)
        now = utcnow()
        row, created = acquisition_spend_put(
            month=month,
            amount=amount,
            currency=currency,
            note=note,
            actor=principal_of(request).actor,
            now=now,
        )
        new = insights.new_customers(now=now).get((row.month, row.currency), 0)
        body = spend_data(
            {"spend": row, "new_customers": new, "cac": cac(spend=row.amount, new_customers=new)}
        )
        return Response(body, status=201 if created else 200)


class CacApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_cac",
        parameters=[OpenApiParameter("months", OpenApiTypes.INT, required=False, description="12")],
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. Per currency, each of the last `months` months (default 12, this "
        "one included): spend entered, new customers (tenants whose first subscription became "
        "paying that month: its start, or its trial's end) and CAC = spend / new customers; "
        "and over the window: spend / new customers of the months with spend entered.",
    )
    def get(self, request):
        months = _months_param(request.query_params)
        return Response(insights.cac_report(now=utcnow(), months=months))


def _months_param(params) -> int:
    value = params.get("months") or "12"
    if not value.isdigit() or not 1 <= int(value) <= 120:
        raise ValidationFailed("months: 1 to 120.", errors={"months": ["An integer, 1 to 120."]})
    return int(value)


# --- plan costs --------------------------------------------------------------------------------

PlanCostRequest = inline_serializer(
    name="PlanCostRequest",
    fields={
        "plan": serializers.CharField(help_text="Plan id or slug"),
        "amount": serializers.IntegerField(
            min_value=0, help_text="Cost per subscriber per month, minor units"
        ),
        "currency": serializers.CharField(required=False, help_text="The plan's (default)"),
        "note": serializers.CharField(required=False, allow_null=True),
    },
)


class PlanCostApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="analytics_plan_costs_list",
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. The cost per subscriber-month entered per plan (gross margin).",
    )
    def get(self, request):
        return Response({"results": [plan_cost_data(r) for r in insights.plan_cost_list()]})

    @extend_schema(
        operation_id="analytics_plan_costs_put",
        request=PlanCostRequest,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
        description="Staff. Set a plan's cost per subscriber per month (in the plan's "
        "currency); 201 when new, 200 when it replaces the earlier figure.",
    )
    def post(self, request):
        data = _body(request)
        errors: dict = {}
        plan = None
        if not isinstance(data.get("plan"), str) or not data.get("plan"):
            errors["plan"] = ["A plan id or slug."]
        else:
            plan = plan_by_id_or_slug(data["plan"])
            if plan is None:
                errors["plan"] = ["Unknown plan."]
        amount = _amount(data.get("amount"), errors)
        currency = plan.currency if plan is not None else None
        if data.get("currency") is not None:
            given = _currency(data.get("currency"), errors)
            if given and plan is not None and given != plan.currency:
                errors["currency"] = [f"The plan is priced in {plan.currency}."]
        note = _note(data.get("note"), errors)
        raise_if_invalid(errors)
        row, created = plan_cost_put(
            plan=plan, amount=amount, currency=currency, note=note, now=utcnow()
        )
        return Response(plan_cost_data(row), status=201 if created else 200)


# --- the executive dashboard -------------------------------------------------------------------


class ExecutiveDashboardApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="executive_dashboard",
        responses={200: OpenApiTypes.OBJECT},
        description="Staff. As of now, per currency in cents: MRR and its 12-month trend, ARR "
        "(12 x MRR), ARPU, LTV, CAC (last 12 months), LTV/CAC, MRR, cost and gross margin by "
        "plan (where a plan cost is entered), the usage forecast (summary and per tenant), "
        "payment health (per tenant, worst first), AR aging and revenue recognized this and "
        "last month (from the ledger). See the README's Analytics section for definitions.",
    )
    def get(self, request):
        return Response(insights.executive_dashboard(now=utcnow()))
