"""HTTP for the plan catalog (`plans`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingGenericAPIView
from billing_project.shared.errors import NotFound
from subscriptions import selectors
from subscriptions.models import Plan
from subscriptions.serializers.plans import PlanCreateSerializer, PlanSerializer
from subscriptions.services import catalog


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

    @extend_schema(
        request=PlanCreateSerializer,
        responses={201: PlanSerializer},
        description=(
            "Staff. Each `metrics[].metric_type` names an existing metric (those of `GET plans`), "
            "at most once; a taken slug is 409 `plan_exists`. `metrics` may also be a mapping "
            "`{metric_type: {limit, unit_price_cents}}`."
        ),
    )
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
