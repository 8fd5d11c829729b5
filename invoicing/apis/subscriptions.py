"""`POST/GET subscriptions` and `GET/PATCH subscriptions/{id}`: a use case of invoicing, since
they bill as they act (the first period's fee at once, an upgrade's proration at once).
Reactivation bills nothing and stays with the subscriptions app."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import ReadAnyWriteAdmin, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import ValidationFailed
from invoicing.services.subscription_billing import (
    subscription_change_plan_and_invoice,
    subscription_start_and_invoice,
)
from subscriptions import selectors
from subscriptions.apis.subscriptions import subscription_for_request
from subscriptions.models import Plan, Subscription
from subscriptions.models.subscriptions import SubscriptionStatus
from subscriptions.serializers.subscriptions import (
    SubscriptionChangeResultSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from subscriptions.services import subscriptions as subscription_services
from subscriptions.services.tenants import tenant_get


def _plan(value) -> Plan:
    plan = selectors.plan_by_id_or_slug(value)
    if plan is None:
        raise ValidationFailed(f"Unknown plan {value!r}.", errors={"plan_id": ["Unknown plan."]})
    return plan


class SubscriptionListCreateApi(BillingGenericAPIView):
    permission_classes = [ReadAnyWriteAdmin]
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()

    @extend_schema(
        operation_id="subscriptions_list",
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="staff only"),
            OpenApiParameter("status", str, enum=SubscriptionStatus.values),
        ],
        responses=SubscriptionSerializer(many=True),
    )
    def get(self, request):
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        wanted = request.query_params.get("status") or None
        if wanted and wanted not in SubscriptionStatus.values:
            raise ValidationFailed("Unknown status.", errors={"status": ["Unknown status."]})
        page = self.paginate_queryset(
            selectors.subscription_list(tenant_id=tenant_id, status=wanted)
        )
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSerializer})
    def post(self, request):
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenant_id = tenant_scope(request, data.get("tenant_id"))
        if tenant_id is None:
            raise ValidationFailed(
                "tenant_id is required.", errors={"tenant_id": ["This field is required."]}
            )
        sub, _invoice = subscription_start_and_invoice(
            tenant=tenant_get(tenant_id=tenant_id),
            plan=_plan(data["plan_id"]),
            now=utcnow(),
            actor=principal_of(request).actor,
            trial_period_days=data.get("trial_period_days"),
            coupon_code=data.get("coupon_code") or None,
            payment_method_ref=data.get("payment_method_id") or None,
        )
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionSerializer(sub).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailApi(BillingGenericAPIView):
    permission_classes = [ReadAnyWriteAdmin]
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()
    request_body_required = ("patch",)

    @extend_schema(responses=SubscriptionSerializer)
    def get(self, request, subscription_id):
        return Response(
            SubscriptionSerializer(subscription_for_request(request, subscription_id)).data
        )

    @extend_schema(
        request=SubscriptionUpdateSerializer, responses=SubscriptionChangeResultSerializer
    )
    def patch(self, request, subscription_id):
        sub = subscription_for_request(request, subscription_id)
        serializer = SubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = principal_of(request).actor
        now = utcnow()
        change = None
        if "plan_id" in data:
            sub, change, _invoice = subscription_change_plan_and_invoice(
                subscription=sub,
                plan=_plan(data["plan_id"]),
                prorate=data["prorate"],
                now=now,
                actor=actor,
            )
        elif data["cancel_at_period_end"]:
            sub = subscription_services.subscription_cancel(
                subscription=sub,
                reason=data.get("cancellation_reason") or "",
                now=now,
                actor=actor,
            )
        else:
            sub = subscription_services.subscription_reactivate(
                subscription=sub, now=now, actor=actor
            )
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionChangeResultSerializer(sub, context={"change": change}).data)
